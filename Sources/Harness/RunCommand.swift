#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
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
        let progress = ProgressDisplay.standardOutput(total: selected.count)
        if !tap { progress.start() }
        let results = await ScenarioRun(runner: runner, jobs: options.jobs).run(selected) { result, finished in
            if tap {
                out.line(TAPReporter.line(result, number: finished))
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

/// What every command that builds worlds does first.
public enum Preflight {
    /// What a command's worlds need beyond namespaces of their own.
    public enum Needs: Sendable, Hashable {
        /// Only the harness's own parts (the built-in MX, unbound, the sender): a user namespace will do.
        case namespaces
        /// A real MTA as the receiver (its daemons switch users and own system paths): root.
        case root(because: String)
    }

    /// The one line a non-root user sees when the command needs root.
    public static func rootReason(_ because: String) -> String {
        "\(because) needs root: run mxharness as root (sudo), or use --target builtin, which runs as any user"
    }

    /// Installs the clean-up signal handlers and removes what killed runs left, after making sure
    /// the harness can work here: as root, or as another user inside a user namespace of its own
    /// (this process then starts again inside one and never returns from here). Returns an error
    /// message instead of starting when the harness cannot work here.
    public static func prepare(needs: Needs = .namespaces, logger: Logger) -> String? {
        if geteuid() != 0 {
            if case .root(let because) = needs { return rootReason(because) }
            if let problem = UserNamespace.unavailableReason() {
                return "mxharness runs as root or in a user namespace, and " + problem
            }
            UserNamespace.reexecute()
        }
        for tool in ["/usr/sbin/ip", "/usr/bin/nsenter", "/usr/sbin/unbound"]
        where !FileManager.default.isExecutableFile(atPath: tool) {
            return "\(tool) is missing: apt-get install iproute2 util-linux unbound"
        }
        if UserNamespace.isInside {
            do { try UserNamespace.prepareInside() } catch { return "\(error)" }
        }
        ResourceRegistry.shared.installSignalHandlers()
        ResourceJanitor.sweep(logger: logger)
        return nil
    }

    /// The one root rule of the commands that run cases: `.root` when any of `cases` runs on the
    /// Postfix receiver under any of `configurations` (its pooled instances need root before any
    /// kind is asked); every other kind that needs root says so in its `unavailableReason`.
    static func needs(_ cases: [ScenarioCase], _ configurations: [RunConfiguration]) -> Needs {
        for configuration in configurations {
            let postfix = cases.filter { configuration.target(for: $0) == .postfix }
            guard let first = postfix.first else { continue }
            return .root(
                because: postfix.count == cases.count
                    ? "the Postfix receiver"
                    : "the Postfix receiver (\(postfix.count) of the \(cases.count) cases, \(first.name) first)")
        }
        return .namespaces
    }

    /// What `run`, `parity` and `matrix` do before any case, in this order: load the files and
    /// select the cases (`Selection`), stop when a kind they use cannot run here under one of
    /// `configurations` (`available`), get the privileges (`ready`, by the one root rule `needs`),
    /// and check each receiver configuration once (`preflight`: the reports on standard
    /// error, each once; one that cannot serve mail stops the command, exit 2).
    static func prepare(
        _ paths: [String], _ selection: CaseSelection, shard: CaseShard?, configurations: [RunConfiguration],
        parts: PartCatalog, logger: Logger
    ) async throws(HarnessError) -> Selection {
        let chosen = try Selection.make(paths, selection, shard: shard, kinds: parts.scenarioKinds)
        try available(chosen.cases, configurations, parts: parts)
        try ready(needs: needs(chosen.cases, configurations), logger: logger)
        var said: Set<String> = []
        for configuration in configurations {
            let reports = await preflight(chosen.cases, configuration, parts: parts, logger: logger)
            for report in reports where said.insert(report.text).inserted { Output().error(report.text) }
            guard reports.allSatisfy(\.canServeMail) else {
                throw .usage(
                    "the receiver's configuration cannot serve mail (the preflight above says why); no case was run")
            }
        }
        return chosen
    }
}

extension Preflight {
    /// Loads the cases of `paths` and prepares the machine.
    public static func cases(_ paths: [String], kinds: ScenarioKinds, logger: Logger) throws(HarnessError)
        -> [ScenarioCase]
    {
        let cases = try load(paths, kinds: kinds)
        try ready(logger: logger)
        return cases
    }

    /// The cases of `paths`, which may use `kinds`; a load error is a usage error (exit 2) with
    /// every problem found.
    static func load(_ paths: [String], kinds: ScenarioKinds) throws(HarnessError) -> [ScenarioCase] {
        do { return try ScenarioLoader(kinds: kinds).load(paths: paths) } catch { throw .usage("\(error)") }
    }

    /// One case of a file (see `CaseLookup.one`), with the machine prepared.
    /// `configuration` is the receiver's, nil for a command that brings up the world only.
    static func oneCase(
        file: String, variant: String?, kinds: ScenarioKinds, configuration: RunConfiguration?, logger: Logger
    ) throws(HarnessError) -> ScenarioCase {
        let scenario: ScenarioCase
        do { scenario = try CaseLookup.one(file: file, variant: variant, kinds: kinds) } catch {
            throw .usage("\(error)")
        }
        try ready(needs: configuration.map { needs([scenario], [$0]) } ?? .namespaces, logger: logger)
        return scenario
    }

    /// Stops a command before any case runs when, under one of `configurations`, no case can run
    /// here because its receiver or sender cannot (not installed or unpacked, needs root): exit 2
    /// with every reason. Under a configuration where some cases can run, the others are skipped
    /// with their reason (`PartCatalog.unavailableReason(for:settings:)`). Called before `ready`, which
    /// may start the harness again in a user namespace where it looks like root.
    static func available(_ cases: [ScenarioCase], _ configurations: [RunConfiguration], parts: PartCatalog)
        throws(HarnessError)
    {
        var reasons: [String] = []
        for configuration in configurations {
            for reason in unavailable(cases, configuration, parts: parts)
            where !reasons.contains(reason) {
                reasons.append(reason)
            }
        }
        guard !reasons.isEmpty else { return }
        throw .usage("no case was run: what the cases need cannot run here\n  " + reasons.joined(separator: "\n  "))
    }

    /// Why none of `cases` can run here under `configuration`, one line per receiver or sender that
    /// cannot; empty when at least one case can (or there are none). A part the command chose
    /// (`--target`, `--sender`) that cannot run leaves no case to run; a part only some cases name
    /// themselves (`receiver.target`, `sender.mta`) skips just those cases, so a library with a case
    /// for an MTA this machine lacks still runs the rest.
    static func unavailable(_ cases: [ScenarioCase], _ configuration: RunConfiguration, parts: PartCatalog)
        -> [String]
    {
        var reasons: [String] = []
        for scenario in cases {
            guard let reason = parts.unavailableReason(for: scenario, settings: configuration) else { return [] }
            if !reasons.contains(reason) { reasons.append(reason) }
        }
        return reasons.sorted()
    }

    /// What the receivers of `cases` find in their configurations under `configuration` before any
    /// case runs (`ReceiverKind.preflight`), receiver by receiver in the order of their names.
    static func preflight(
        _ cases: [ScenarioCase], _ configuration: RunConfiguration, parts: PartCatalog, logger: Logger
    ) async -> [PreflightReport] {
        var reports: [PreflightReport] = []
        let targets = Set(cases.map(configuration.target(for:)))
        for target in targets.sorted(by: { $0.rawValue < $1.rawValue }) {
            guard let kind = parts.receivers[target] else { continue }
            reports += await kind.preflight(
                cases.filter { configuration.target(for: $0) == target }, settings: configuration, logger: logger)
        }
        return reports
    }

    /// `prepare`, its problem thrown.
    public static func ready(needs: Needs = .namespaces, logger: Logger) throws(HarnessError) {
        if let problem = prepare(needs: needs, logger: logger) { throw .usage(problem) }
    }
}

/// The cases a command works on: loaded, chosen by tag and name, then this shard's part.
struct Selection {
    var cases: [ScenarioCase]
    /// Set when the run is a shard: which one, and where its cases stand in the whole selection.
    var placement: (placement: ShardPlacement, positions: [Int])?

    /// Loads `paths` and selects; no case matching the tags and filters stops the command (nothing
    /// would run: exit 3), a shard with none of them does not (another shard has them all).
    static func make(_ paths: [String], _ selection: CaseSelection, shard: CaseShard?, kinds: ScenarioKinds)
        throws(HarnessError) -> Selection
    {
        let cases = try Preflight.load(paths, kinds: kinds)
        let selected = selection.apply(cases)
        guard !selected.isEmpty else {
            throw .nothingRan("no case matches (\(cases.count) loaded from \(paths.joined(separator: " ")))")
        }
        guard let shard else { return Selection(cases: selected, placement: nil) }
        let part = shard.select(selected)
        return Selection(cases: part.cases, placement: (part.placement, part.positions))
    }

    /// `shard 2/3: 31 of 94 cases`.
    var shardNote: String? {
        placement.map {
            "shard \($0.placement.index)/\($0.placement.count): \(cases.count) of \($0.placement.total) cases"
        }
    }
}

/// Choosing cases by tag and name.
public struct CaseSelection: Sendable {
    public var tags: [String]
    public var filters: [String]

    public init(tags: [String] = [], filters: [String] = []) {
        self.tags = tags
        self.filters = filters
    }

    /// A case is selected when it has one of `tags` (if any are given) and its name matches one of
    /// `filters` (shell glob: `*`, `?`, `[...]`; if any are given).
    public func apply(_ cases: [ScenarioCase]) -> [ScenarioCase] {
        cases.filter { scenario in
            (tags.isEmpty || !Set(tags).isDisjoint(with: scenario.tags))
                && (filters.isEmpty || filters.contains { fnmatch($0, scenario.name, 0) == 0 })
        }
    }
}
