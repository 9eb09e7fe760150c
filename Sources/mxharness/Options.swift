import ArgumentParser
import Foundation
import Harness
import Logging
import Runner
import Scenario

// Options several commands share, each group once.

struct GlobalOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Log what the harness does (namespaces, worlds, sessions).")
    var verbose = false

    func logger() -> Logger {
        var logger = Logger(label: "mxharness")
        logger.logLevel = verbose ? .debug : .warning
        return logger
    }
}

/// Which cases: files and folders, tags, name globs, and a shard of the result.
struct SelectionOptions: ParsableArguments {
    @Argument(
        help: ArgumentHelp(
            "Scenario files or folders (searched recursively); none: ./Scenarios, or without one the installed library (/usr/share/mxharness/Scenarios).",
            valueName: "paths"))
    var pathArguments: [String] = []

    var paths: [String] { ScenarioLibrary.paths(pathArguments) }

    @Option(name: .customLong("tag"), help: "Only cases with this tag (repeatable).")
    var tags: [String] = []

    @Option(name: .customLong("filter"), help: "Only cases whose name matches this glob (repeatable).")
    var filters: [String] = []

    @Option(
        help: ArgumentHelp(
            "Only shard K of N (1 ≤ K ≤ N): the cases whose name hashes to it; the N shards together run every case once.",
            valueName: "K/N"))
    var shard: CaseShard?

    var selection: CaseSelection { CaseSelection(tags: tags, filters: filters) }
}

struct JobsOptions: ParsableArguments {
    @Option(help: "Cases run in parallel (by default as many as there are cores).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
    }
}

struct DNSTimeoutOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Seconds one DNS query may take before it counts as a timeout (Postfix and Exim wait this rounded up to whole seconds, at least 1; OpenSMTPD waits its own 5 s). The world's unbound answers in well under a millisecond; only a `timeout` fault leaves a query unanswered.",
            valueName: "seconds"))
    var dnsTimeout: Double =
        Double(RunConfiguration.defaultResolverTimeout.components.seconds)
        + Double(RunConfiguration.defaultResolverTimeout.components.attoseconds) / 1e18

    func validate() throws {
        guard dnsTimeout > 0, dnsTimeout.isFinite else {
            throw ValidationError("--dns-timeout must be a positive number of seconds")
        }
    }

    var duration: Duration { .milliseconds(Int(dnsTimeout * 1000)) }
}
