#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import Runner
import Sandbox
import Scenario

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
            let runner = CaseRunner(configuration: configuration, parts: PartCatalog())
            let postfix = cases.filter { runner.target(for: $0) == .postfix }
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
    /// and check each receiver configuration once (`CaseRunner.preflight`: the reports on standard
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
            let reports = await CaseRunner(configuration: configuration, parts: parts, logger: logger)
                .preflight(chosen.cases)
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
    /// with their reason (`CaseRunner.unavailableReason(for:)`). Called before `ready`, which may start the harness again in a user
    /// namespace where it looks like root.
    static func available(_ cases: [ScenarioCase], _ configurations: [RunConfiguration], parts: PartCatalog)
        throws(HarnessError)
    {
        var reasons: [String] = []
        for configuration in configurations {
            for reason in CaseRunner(configuration: configuration, parts: parts).unavailable(cases)
            where !reasons.contains(reason) {
                reasons.append(reason)
            }
        }
        guard !reasons.isEmpty else { return }
        throw .usage("no case was run: what the cases need cannot run here\n  " + reasons.joined(separator: "\n  "))
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
