import ArgumentParser
import Catalog
import Foundation
import Harness
import Logging
import Runner
import Scenario
import SMTPProtocol

// `mxharness-bench`: the benchmarks, an executable of their own so the product carries none of
// them. Exit codes as mxharness's: 0 done, 2 usage or a machine the benchmark cannot run on.
await Entry.main()

enum Entry {
    static func main() async {
        do {
            var command = try Bench.parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let error as HarnessError {
            try? FileHandle.standardError.write(contentsOf: Data(("mxharness-bench: \(error)\n").utf8))
            exit(error.exitCode)
        } catch {
            let code = Bench.exitCode(for: error)
            let message = Bench.fullMessage(for: error)
            if !message.isEmpty {
                let stream = code == .success ? FileHandle.standardOutput : FileHandle.standardError
                try? stream.write(contentsOf: Data((message + "\n").utf8))
            }
            exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }
}

struct GlobalOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Log what the harness does (namespaces, worlds, sessions).")
    var verbose = false

    func logger() -> Logger {
        var logger = Logger(label: "mxharness-bench")
        logger.logLevel = verbose ? .debug : .warning
        return logger
    }
}

struct JobsOptions: ParsableArguments {
    @Option(help: "Cases run in parallel (by default as many as there are cores).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
    }
}

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mxharness-bench",
        abstract:
            "Benchmarks of mxharness that print figures and assert nothing (scripts/bench-*, docs/benchmarks.md).",
        subcommands: [DNSBench.self, DNSSECBench.self, RunBench.self, SwaksBench.self, TLSBench.self])

    struct TLSBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "tls", abstract: "Per-case time with TLS off and on, side by side, and what TLS adds per case."
        )
        @Argument var paths: [String] = ["Scenarios"]
        @Option var rounds = 5
        @Option(help: "The sender's TLS level when TLS is on.") var level: TLSSecurityLevel = .may
        @Option(help: "The receiver.") var target: ReceiverTarget = .builtin
        @Option(help: "The sender.") var sender: SenderMTA = .builtin
        @OptionGroup var jobs: JobsOptions
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let options = Benchmarks.TLSOptions(
                paths: paths, rounds: max(1, rounds), jobs: jobs.jobs, level: level, target: target, sender: sender,
                parts: PartCatalog.standard())
            try await Benchmarks.tls(options, logger: global.logger())
        }
    }

    struct RunBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run", abstract: "Cases per second, per-case overhead and peak memory over the library.")
        @Argument var paths: [String] = ["Scenarios"]
        @Option var rounds = 3
        @Flag(help: "A world built and removed for every case instead of warm slots.") var freshWorlds = false
        @Option(help: "Per-case time with each of these senders instead (builtin,postfix).") var senders: String?
        @OptionGroup var jobs: JobsOptions
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            if let senders {
                let list = try senders.split(separator: ",").map { name in
                    let mta = SenderMTA(named: String(name))
                    guard PartCatalog.standard().senderNames.contains(mta) else {
                        throw ValidationError("unknown sender \(name)")
                    }
                    return mta
                }
                try await Benchmarks.senders(
                    paths: paths, senders: list, rounds: rounds, jobs: jobs.jobs, parts: PartCatalog.standard(),
                    logger: global.logger())
                return
            }
            try await Benchmarks.run(
                paths: paths, rounds: rounds, jobs: jobs.jobs, warmWorlds: !freshWorlds, parts: PartCatalog.standard(),
                logger: global.logger())
        }
    }

    struct SwaksBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "swaks",
            abstract: "Generated cases: a swaks loop against mxharness run on each target, cases per second.")
        @Argument var count = 40
        @Option var rounds = 5
        @Option(help: "Targets to run the cases on, separated by commas.") var targets = "builtin,postfix"
        @Flag(help: "Leave out the swaks loop (for large generated runs).") var noSwaks = false
        @OptionGroup var jobs: JobsOptions
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let targets = try self.targets.split(separator: ",").map { name in
                let target = ReceiverTarget(named: String(name))
                guard PartCatalog.standard().receiverNames.contains(target) else {
                    throw ValidationError("unknown target \(name)")
                }
                return target
            }
            let options = Benchmarks.SwaksOptions(
                count: max(2, count), rounds: max(1, rounds), jobs: jobs.jobs, swaksLoop: !noSwaks, targets: targets,
                parts: PartCatalog.standard())
            try await Benchmarks.swaks(options, logger: global.logger())
        }
    }

    struct DNSSECBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dnssec",
            abstract: "Signing a world, and a signed world's unbound start and warm load beside an unsigned one's.")
        @Option var rounds = 200
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await Benchmarks.dnssec(rounds: rounds, logger: global.logger())
        }
    }

    struct DNSBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dns", abstract: "World up/down times and resolver lookups per second.")
        @Option var rounds = 50
        @Option var lookups = 20000
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await Benchmarks.dns(rounds: rounds, lookups: lookups, logger: global.logger())
        }
    }
}
