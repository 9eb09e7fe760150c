import Foundation
import Logging
import Postfix
import Reports
import Runner
import Sandbox
import Scenario

/// `mxharness run`.
public struct RunOptions: Sendable {
    public var paths: [String]
    public var jobs: Int
    public var selection: CaseSelection
    /// Run only this shard of the selection (`--shard K/N`).
    public var shard: CaseShard?
    public var configuration: RunConfiguration
    public var junitPath: String?
    public var jsonPath: String?
    public var tap: Bool
    /// List this many of the slowest cases after the run (`--durations N`; 0: none).
    public var durations: Int
    /// The receivers and senders cases may run on.
    public var parts: PartCatalog

    public init(
        paths: [String], jobs: Int, selection: CaseSelection, shard: CaseShard? = nil, configuration: RunConfiguration,
        junitPath: String? = nil, jsonPath: String? = nil, tap: Bool = false, durations: Int = 0, parts: PartCatalog
    ) {
        self.parts = parts
        self.paths = paths
        self.jobs = jobs
        self.selection = selection
        self.shard = shard
        self.configuration = configuration
        self.junitPath = junitPath
        self.jsonPath = jsonPath
        self.tap = tap
        self.durations = durations
    }
}

public enum Harness {
    /// Loads, runs and reports (progress, failures, table, summary, and the files asked for).
    public static func run(_ options: RunOptions, logger: Logger) async throws(HarnessError) -> Verdict {
        let out = Output()
        let selection = try await Preflight.prepare(
            options.paths, options.selection, shard: options.shard, configurations: [options.configuration],
            parts: options.parts, logger: logger)
        let selected = selection.cases
        let terminal = Terminal.detect()
        let console = ConsoleReporter(terminal: terminal)
        let runner = CaseRunner(configuration: options.configuration, parts: options.parts, logger: logger)
        let tap = options.tap
        if tap { out.line("TAP version 14\n1..\(selected.count)") }
        if let note = selection.shardNote { out.line(tap ? "# " + note : note) }
        let counter = Counter()
        let progress = ProgressDisplay.standardOutput(total: selected.count)
        if !tap { progress.start() }
        let results = await ScenarioRun(runner: runner, jobs: options.jobs).run(selected) { result in
            if tap {
                out.line(TAPReporter.line(result, number: counter.next()))
            } else {
                progress.finished(console.progressLine(result))
            }
        }
        progress.stop()
        if !tap {
            out.line("")
            out.line(console.finalReport(results))
            if options.durations > 0 {
                out.line("")
                out.line(console.durations(results, count: options.durations))
            }
        } else {
            out.line("# " + RunSummary(results).line)
        }
        var unwritten: [String] = []
        if let path = options.junitPath {
            do { try JUnitReporter.render(results).write(toFile: path, atomically: true, encoding: .utf8) } catch {
                unwritten.append("cannot write JUnit report \(path): \(error.localizedDescription)")
            }
        }
        if let path = options.jsonPath {
            do {
                try JSONReporter.render(results, shard: selection.placement).write(to: URL(fileURLWithPath: path))
            } catch {
                unwritten.append("cannot write JSON report \(path): \(error.localizedDescription)")
            }
        }
        guard unwritten.isEmpty else { throw .failed(unwritten.joined(separator: "\n")) }
        let summary = RunSummary(results)
        if summary.skipped > 0, summary.skipped == results.count {
            throw .nothingRan("no case ran: all \(results.count) were skipped (each one's reason is above)")
        }
        return Verdict(passed: summary.allPassed)
    }
}

/// Numbers TAP lines in the order cases finish.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func next() -> Int {
        lock.withLock {
            value += 1
            return value
        }
    }
}

extension Harness {
    /// Reads a user's main.cf for `--postfix-config`; the error names the file and line.
    public static func postfixBase(path: String) throws -> MainCF {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw CaseLookupError(
                description: "\(path): cannot read the Postfix configuration: \(error.localizedDescription)")
        }
        return try MainCF.parse(text, source: path)
    }

    /// Reads a site's Postfix configuration directory for `--postfix-config-dir`.
    public static func postfixSite(path: String) throws -> PostfixSiteDirectory {
        let site = PostfixSiteDirectory.load(path: path)
        if let problem = site.problem { throw CaseLookupError(description: "\(path): \(problem)") }
        return site
    }
}
