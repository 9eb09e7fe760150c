import ArgumentParser
import Foundation
import Harness
import Logging
import Runner
import Scenario

/// Exit codes: 0 all passed, 1 some failed, 2 usage or load errors (argument-parser's own usage
/// errors, 64, are reported as 2 too).
@main
enum Entry {
    static func main() async {
        do {
            var command = try MXHarness.parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            let code = MXHarness.exitCode(for: error)
            let message = MXHarness.fullMessage(for: error)
            if !message.isEmpty {
                let stream = code == .success ? FileHandle.standardOutput : FileHandle.standardError
                try? stream.write(contentsOf: Data((message + "\n").utf8))
            }
            exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }
}

struct MXHarness: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mxharness",
        abstract: "Find out which mail gets through and which bounces, before your users do.",
        subcommands: [Run.self, Send.self, Parity.self, Matrix.self, MX.self, Validate.self, List.self, Explain.self, DNS.self, Repro.self, Capture.self, Bench.self])
}

struct GlobalOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Log what the harness does (namespaces, worlds, sessions).")
    var verbose = false

    func logger() -> Logger {
        var logger = Logger(label: "mxharness")
        logger.logLevel = verbose ? .debug : .warning
        return logger
    }
}

extension MXHarness {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run scenarios and compare what happened with what they expect.")

        @Argument(help: "Scenario files or folders (searched recursively).")
        var paths: [String] = ["Scenarios"]

        @Option(help: "Cases run in parallel (default: the number of cores).")
        var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

        @Option(name: .customLong("tag"), help: "Run only cases with this tag (repeatable).")
        var tags: [String] = []

        @Option(name: .customLong("filter"), help: "Run only cases whose name matches this glob (repeatable).")
        var filters: [String] = []

        @Option(help: "The receiver: builtin or postfix (overrides each scenario's receiver.target).")
        var target: String?

        @Option(help: "Write a JUnit XML report here.")
        var junit: String?

        @Option(help: "Write a JSON report (one object per case, every attempt) here.")
        var json: String?

        @Flag(help: "Print TAP instead of the progress lines and table.")
        var tap = false

        @Option(help: "Keep per-case artifacts (transcripts, unbound config and query log, MX log) in this folder.")
        var artifacts: String?

        @Option(help: "Seconds one DNS query may take before it counts as a timeout.")
        var dnsTimeout: Double = 1.5

        @Option(help: "Your own main.cf as the base of every Postfix receiver (the harness overrides only paths, interfaces, hostname and logging).")
        var postfixConfig: String?

        @Option(help: "Your whole Postfix configuration directory (main.cf, master.cf, maps, certificates) for every Postfix receiver; checked before any case runs.")
        var postfixConfigDir: String?

        @Flag(help: "Start a new Postfix for every case (by default cases with the same Postfix configuration share a running one).")
        var freshPostfix = false

        @Flag(help: "Build and remove a namespace and unbound for every case (by default cases on the built-in MX run in warm slots whose world is swapped between cases).")
        var freshWorlds = false

        @OptionGroup var global: GlobalOptions

        func validate() throws {
            guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
            if let target, !["builtin", "postfix"].contains(target) {
                throw ValidationError("--target must be builtin or postfix, not \(target)")
            }
            guard dnsTimeout > 0 else { throw ValidationError("--dns-timeout must be positive") }
        }

        func run() async throws {
            let base = try postfixConfig.map { path in
                do { return try Harness.postfixBase(path: path) } catch { throw ValidationError("\(error)") }
            }
            if postfixConfig != nil, postfixConfigDir != nil {
                throw ValidationError("give --postfix-config or --postfix-config-dir, not both (the directory's main.cf is the base)")
            }
            let site = try postfixConfigDir.map { path in
                do { return try Harness.postfixSite(path: path) } catch { throw ValidationError("\(error)") }
            }
            var configuration = RunConfiguration(
                target: target.flatMap(ReceiverTarget.init(rawValue:)),
                resolverTimeout: .milliseconds(Int(dnsTimeout * 1000)),
                artifactsDirectory: artifacts, postfixBase: base, postfixSite: site, sharePostfix: !freshPostfix)
            configuration.warmWorlds = !freshWorlds
            let options = RunOptions(
                paths: paths, jobs: jobs, selection: CaseSelection(tags: tags, filters: filters),
                configuration: configuration, junitPath: junit, jsonPath: json, tap: tap)
            let code = await Harness.run(options, logger: global.logger())
            if code != 0 { throw ExitCode(code) }
        }
    }
}

extension MXHarness {
    struct DNS: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dns", abstract: "Bring up one scenario's DNS world on its own.",
            subcommands: [Serve.self, Check.self])

        struct Serve: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Serve the world until Ctrl-C and print how to query it with dig.")
            @Argument(help: "A scenario file.") var file: String
            @Option(help: "The variant (case) of the file to use.") var variant: String?
            @OptionGroup var global: GlobalOptions

            func run() async throws {
                let code = await Harness.dnsServe(file: file, variant: variant, logger: global.logger())
                if code != 0 { throw ExitCode(code) }
            }
        }

        struct Check: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Print every name of the world with what it answers.")
            @Argument(help: "A scenario file.") var file: String
            @Option(help: "The variant (case) of the file to use.") var variant: String?
            @Option(help: "Seconds one DNS query may take.") var dnsTimeout: Double = 1.5
            @OptionGroup var global: GlobalOptions

            func run() async throws {
                let code = await Harness.dnsCheck(file: file, variant: variant, timeout: .milliseconds(Int(dnsTimeout * 1000)), logger: global.logger())
                if code != 0 { throw ExitCode(code) }
            }
        }
    }

    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Benchmarks that print figures (see scripts/bench-*).", shouldDisplay: false,
            subcommands: [DNSBench.self, RunBench.self, SwaksBench.self])

        struct SwaksBench: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "swaks", abstract: "Generated cases: a swaks loop against mxharness run on each target, cases per second.")
            @Argument var count = 40
            @Option var rounds = 5
            @Option var jobs = ProcessInfo.processInfo.activeProcessorCount
            @Option(help: "Targets to run the cases on.") var targets = "builtin,postfix"
            @Flag(help: "Leave out the swaks loop (for large generated runs).") var noSwaks = false
            @OptionGroup var global: GlobalOptions

            func run() async throws {
                let targets = try self.targets.split(separator: ",").map { name in
                    guard let target = ReceiverTarget(rawValue: String(name)) else { throw ValidationError("unknown target \(name)") }
                    return target
                }
                let options = Benchmarks.SwaksOptions(count: max(2, count), rounds: max(1, rounds), jobs: max(1, jobs), swaksLoop: !noSwaks, targets: targets)
                let code = await Benchmarks.swaks(options, logger: global.logger())
                if code != 0 { throw ExitCode(code) }
            }
        }

        struct RunBench: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "run", abstract: "Cases per second, per-case overhead and peak memory over the library.")
            @Argument var paths: [String] = ["Scenarios"]
            @Option var rounds = 3
            @Option var jobs = ProcessInfo.processInfo.activeProcessorCount
            @Flag(help: "A world built and removed for every case instead of warm slots.") var freshWorlds = false
            @OptionGroup var global: GlobalOptions

            func run() async throws {
                let code = await Benchmarks.run(paths: paths, rounds: rounds, jobs: max(1, jobs), warmWorlds: !freshWorlds, logger: global.logger())
                if code != 0 { throw ExitCode(code) }
            }
        }

        struct DNSBench: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "dns", abstract: "World up/down times and resolver lookups per second.")
            @Option var rounds = 50
            @Option var lookups = 20000
            @OptionGroup var global: GlobalOptions

            func run() async throws {
                let code = await Benchmarks.dns(rounds: rounds, lookups: lookups, logger: global.logger())
                if code != 0 { throw ExitCode(code) }
            }
        }
    }
}

extension MXHarness {
    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check scenario files without running them.")
        @Argument(help: "Scenario files or folders.") var paths: [String] = ["Scenarios"]

        func run() throws {
            let code = Harness.validate(paths: paths)
            if code != 0 { throw ExitCode(code) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List cases with their tags and descriptions.")
        @Argument(help: "Scenario files or folders.") var paths: [String] = ["Scenarios"]

        func run() throws {
            let code = Harness.list(paths: paths)
            if code != 0 { throw ExitCode(code) }
        }
    }

    struct Explain: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print one case merged (includes, variants), as the runner sees it.")
        @Argument(help: "A scenario file.") var file: String
        @Option(help: "The variant (case) of the file.") var variant: String?

        func run() throws {
            let code = Harness.explain(file: file, variant: variant)
            if code != 0 { throw ExitCode(code) }
        }
    }
}

extension MXHarness {
    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run one scenario's delivery and print every attempt's transcript, swaks-style, and the outcome.")
        @Argument(help: "A scenario file.") var file: String
        @Option(help: "The variant (case) of the file.") var variant: String?
        @Option(help: "The receiver: builtin or postfix.") var target: String?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let configuration = RunConfiguration(target: target.flatMap(ReceiverTarget.init(rawValue:)))
            let code = await Harness.send(file: file, variant: variant, configuration: configuration, logger: global.logger())
            if code != 0 { throw ExitCode(code) }
        }
    }
}

extension MXHarness {
    struct Parity: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run every case on the built-in MX and on Postfix and mark where they differ.")
        @Argument(help: "Scenario files or folders.") var paths: [String] = ["Scenarios"]
        @Option(help: "Cases run in parallel.") var jobs: Int = ProcessInfo.processInfo.activeProcessorCount
        @Option(help: "Your own main.cf as the Postfix base.") var postfixConfig: String?
        @Flag(help: "Start a new Postfix for every case (by default cases with the same Postfix configuration share a running one).")
        var freshPostfix = false
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let base = try postfixConfig.map { path in
                do { return try Harness.postfixBase(path: path) } catch { throw ValidationError("\(error)") }
            }
            let configuration = RunConfiguration(postfixBase: base, sharePostfix: !freshPostfix)
            let code = await Harness.parity(paths: paths, jobs: max(1, jobs), configuration: configuration, logger: global.logger())
            if code != 0 { throw ExitCode(code) }
        }
    }
}

extension MXHarness {
    struct MX: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "mx", abstract: "The built-in MX on its own.", subcommands: [Serve.self])

        struct Serve: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Serve SMTP with a policy preset until Ctrl-C, logging each session's decision.")
            @Option(help: "A policy preset: open, reverse, fcrdns, fcrdns-strict, helo-strict, ipv6-strict, gmail-like, microsoft-like.")
            var policy = "open"
            @Option(help: "ADDR:PORT to listen on (repeatable), e.g. 127.0.0.1:2525 or [::1]:2525.")
            var listen: [String] = ["127.0.0.1:2525"]
            @Option(help: "The DNS server every lookup goes to: ADDR or ADDR@PORT.")
            var resolver = "127.0.0.1"
            @Option(help: "The name in the greeting.")
            var hostname = "mx.example.test"
            @Flag(name: .shortAndLong, help: "Log every command and reply, not only each session's decision.")
            var verbose = false
            @Option(help: "What a line ending in a bare <LF> does, as Postfix's smtpd_forbid_bare_newline: no, normalize (yes), reject.")
            var bareNewline = "normalize"

            func run() async throws {
                var logger = Logger(label: "mxharness.mx")
                logger.logLevel = verbose ? .debug : .info
                let code = await Harness.mxServe(policy: policy, listen: listen, resolver: resolver, hostname: hostname, bareNewline: bareNewline, logger: logger)
                if code != 0 { throw ExitCode(code) }
            }
        }
    }
}

extension MXHarness {
    struct Matrix: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run every case against several policies and show, case by case, what each policy does; compare with a baseline.")
        @Argument(help: "Scenario files or folders.") var paths: [String] = ["Scenarios"]
        @Option(help: "Columns: preset names or policy files, separated by commas (fcrdns,fcrdns-strict,policies/ours.yaml).")
        var policies: String?
        @Option(help: "The receiver of every cell: builtin or postfix.") var target = "builtin"
        @Option(help: "Columns of Postfix main.cf files, separated by commas (with --target postfix).") var postfixConfig: String?
        @Option(help: "Cells run in parallel.") var jobs: Int = ProcessInfo.processInfo.activeProcessorCount
        @Option(name: .customLong("tag"), help: "Only cases with this tag (repeatable).") var tags: [String] = []
        @Option(name: .customLong("filter"), help: "Only cases whose name matches this glob (repeatable).") var filters: [String] = []
        @Option(help: "Write the results here as a baseline (JSON, stable order).") var saveBaseline: String?
        @Option(help: "Compare with this baseline: print only what changed; exit 1 when anything did.") var baseline: String?
        @Option(help: "Write the matrix as a self-contained HTML page here.") var html: String?
        @Option(help: "Seconds one DNS query may take before it counts as a timeout.") var dnsTimeout: Double = 1.5
        @Flag(help: "With --target postfix: start a new Postfix for every cell (by default cells with the same Postfix configuration share a running one).")
        var freshPostfix = false
        @OptionGroup var global: GlobalOptions

        func validate() throws {
            guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
            guard ["builtin", "postfix"].contains(target) else { throw ValidationError("--target must be builtin or postfix, not \(target)") }
            guard policies != nil || postfixConfig != nil else {
                throw ValidationError("give the columns: --policies fcrdns,fcrdns-strict (presets or policy files)\(target == "postfix" ? " or --postfix-config A.cf,B.cf" : "")")
            }
            guard dnsTimeout > 0 else { throw ValidationError("--dns-timeout must be positive") }
        }

        func run() async throws {
            func list(_ text: String?) -> [String] { text.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) } ?? [] }
            let options = MatrixOptions(
                paths: paths, policies: list(policies), postfixConfigurations: list(postfixConfig), jobs: jobs,
                selection: CaseSelection(tags: tags, filters: filters),
                configuration: RunConfiguration(
                    target: ReceiverTarget(rawValue: target), resolverTimeout: .milliseconds(Int(dnsTimeout * 1000)), sharePostfix: !freshPostfix),
                saveBaselinePath: saveBaseline, baselinePath: baseline, htmlPath: html)
            let code = await Harness.matrix(options, logger: global.logger())
            if code != 0 { throw ExitCode(code) }
        }
    }
}

extension MXHarness {
    struct Repro: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Turn a bounce (DSN or text), a Postfix or Exim log line, or an SMTP transcript into a scenario that reproduces it.")
        @Argument(help: "The evidence: a file, or - (or nothing) for standard input.") var input: String?
        @Option(name: .shortAndLong, help: "Write the scenario here (default: standard output).") var output: String?
        @Flag(help: "Run the written scenario and fail unless it reproduces (needs root and unbound; by default it is run when it can be).")
        var verify = false
        @Flag(help: "Do not run the written scenario.") var noVerify = false
        @OptionGroup var global: GlobalOptions

        func validate() throws {
            if verify && noVerify { throw ValidationError("--verify and --no-verify exclude each other") }
        }

        func run() async throws {
            let verification: ReproVerification = verify ? .required : noVerify ? .skipped : .ifPossible
            let code = await Harness.repro(input: input, output: output, verification: verification, logger: global.logger())
            if code != 0 { throw ExitCode(code) }
        }
    }

    struct Capture: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ask one resolver everything a receiver would look up for a delivery and write it as a scenario's DNS (sends no mail).")
        @Option(help: "The only server asked: ADDR or ADDR@PORT.") var resolver: String
        @Option(help: "The sending (client) address.") var client: String
        @Option(help: "The name the sending MTA says in EHLO.") var helo: String
        @Option(help: "The envelope sender (\"\" or <> for the null sender).") var from: String
        @Option(help: "An envelope recipient (repeatable).") var to: [String]
        @Option(name: .shortAndLong, help: "Write the scenario here (default: standard output).") var output: String?
        @Option(help: "Seconds one query may take before it is recorded as a timeout.") var timeout: Double = 3
        @Option(help: "A DNSBL zone the receiver consults (repeatable).") var dnsbl: [String] = []
        @Option(help: "A scenario (from mxharness repro) whose receiver policy and expect the captured world goes with.") var complaint: String?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let options = CaptureOptions(
                resolver: resolver, client: client, helo: helo, from: from, to: to, output: output,
                timeout: timeout, dnsbl: dnsbl, complaint: complaint)
            let code = await Harness.capture(options, logger: global.logger())
            if code != 0 { throw ExitCode(code) }
        }
    }
}
