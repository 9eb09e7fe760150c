import Foundation
import Logging
import PostfixTarget
import Reports
import Runner
import Sandbox
import Scenario

/// `mxharness run`.
public struct RunOptions: Sendable {
    public var paths: [String]
    public var jobs: Int
    public var selection: CaseSelection
    public var configuration: RunConfiguration
    public var junitPath: String?
    public var jsonPath: String?
    public var tap: Bool

    public init(paths: [String], jobs: Int, selection: CaseSelection, configuration: RunConfiguration, junitPath: String? = nil, jsonPath: String? = nil, tap: Bool = false) {
        self.paths = paths
        self.jobs = jobs
        self.selection = selection
        self.configuration = configuration
        self.junitPath = junitPath
        self.jsonPath = jsonPath
        self.tap = tap
    }
}

public enum Harness {
    /// Loads, runs and reports; returns the exit code.
    public static func run(_ options: RunOptions, logger: Logger) async -> Int32 {
        let out = Output()
        let cases: [ScenarioCase]
        do {
            cases = try ScenarioLoader().load(paths: options.paths)
        } catch {
            out.error("\(error)")
            return HarnessExit.usage
        }
        let selected = options.selection.apply(cases)
        if selected.isEmpty {
            out.error("mxharness: no case matches (\(cases.count) loaded from \(options.paths.joined(separator: " ")))")
            return HarnessExit.usage
        }
        guard Preflight.ready(logger: logger) else { return HarnessExit.usage }
        let terminal = Terminal.detect()
        let console = ConsoleReporter(terminal: terminal)
        let runner = CaseRunner(configuration: options.configuration, logger: logger)
        let postfixReports = await runner.preflight(selected)
        for report in postfixReports { out.error(report.text) }
        guard postfixReports.allSatisfy(\.canServeMail) else { return HarnessExit.usage }
        let tap = options.tap
        if tap { out.line("TAP version 14\n1..\(selected.count)") }
        let counter = Counter()
        let results = await ScenarioRun(runner: runner, jobs: options.jobs).run(selected) { result in
            let number = counter.next()
            out.line(tap ? TAPReporter.line(result, number: number) : console.progressLine(result))
        }
        if !tap {
            out.line("")
            out.line(console.finalReport(results))
        } else {
            out.line("# " + RunSummary(results).line)
        }
        if let path = options.junitPath {
            do { try JUnitReporter.render(results).write(toFile: path, atomically: true, encoding: .utf8) } catch {
                out.error("mxharness: cannot write JUnit report \(path): \(error)")
            }
        }
        if let path = options.jsonPath {
            do { try JSONReporter.render(results).write(to: URL(fileURLWithPath: path)) } catch {
                out.error("mxharness: cannot write JSON report \(path): \(error)")
            }
        }
        return RunSummary(results).allPassed ? HarnessExit.success : HarnessExit.failures
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
            throw CaseLookupError(description: "\(path): cannot read the Postfix configuration: \(error.localizedDescription)")
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
