import ArgumentParser
import Catalog
import Exim
import Harness
import OpenSMTPD
import Parity
import Postfix
import Runner
import Scenario

// The commands that run cases: run, parity, matrix, and merge for their shards' files.

extension MXHarness {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run scenarios and compare what happened with what they expect.", discussion: ExitCodes.discussion
        )

        @OptionGroup var cases: SelectionOptions
        @OptionGroup var jobs: JobsOptions

        @Option(help: "The receiver (overrides each scenario's receiver.target).")
        var target: ReceiverTarget?

        @Option(help: "The sending MTA (overrides each scenario's sender.mta).")
        var sender: SenderMTA?

        @Option(help: "Write a JUnit XML report here.")
        var junit: String?

        @Option(
            help:
                "Write a JSON report (one object per case, every attempt) here; a shard's merges with mxharness merge.")
        var json: String?

        @Flag(help: "Print TAP instead of the progress lines and table.")
        var tap = false

        @Option(
            help: ArgumentHelp(
                "After the run, list the N slowest cases with their setup, exchange and teardown times.", valueName: "N"
            ))
        var durations = 0

        @Option(help: "Keep per-case artifacts (transcripts, unbound config and query log, MX log) in this folder.")
        var artifacts: String?

        @Flag(
            help:
                "Build and remove a namespace and unbound for every case (by default cases on the built-in MX run in warm slots whose world is swapped between cases)."
        )
        var freshWorlds = false

        @OptionGroup var dns: DNSTimeoutOptions
        @OptionGroup var postfix: PostfixOptions
        @OptionGroup var exim: EximOptions
        @OptionGroup var openSMTPD: OpenSMTPDOptions
        @OptionGroup var global: GlobalOptions

        func validate() throws {
            guard durations >= 0 else { throw ValidationError("--durations must be 0 or more") }
        }

        func run() async throws {
            var configuration = RunConfiguration(target: target, resolverTimeout: dns.duration)
            configuration.artifactsDirectory = artifacts
            configuration.sender = sender
            configuration.warmWorlds = !freshWorlds
            let options = RunOptions(
                paths: cases.paths, jobs: jobs.jobs, selection: cases.selection, shard: cases.shard,
                configuration: configuration, junitPath: junit, jsonPath: json, tap: tap, durations: durations,
                parts: try partCatalog(postfix: try postfix.receivers(), exim: exim, openSMTPD: openSMTPD))
            try await Harness.run(options, logger: global.logger()).exit()
        }
    }

    struct Parity: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Run every case on several receivers (by default the built-in MX and Postfix), or with the built-in and a real sender, and mark where they differ.",
            discussion: ExitCodes.discussion)
        @OptionGroup var cases: SelectionOptions
        @OptionGroup var jobs: JobsOptions
        @Option(help: "The receivers to compare, comma-separated: builtin, postfix, exim, opensmtpd, exec.")
        var targets = "builtin,postfix"
        @Option(
            help: "Sender parity instead: every case with the built-in sender and with this real one (postfix or exim)."
        )
        var sender: SenderMTA?
        @Option(help: "With --sender: the receiver of both runs (default: each scenario's).")
        var target: ReceiverTarget?
        @OptionGroup var dns: DNSTimeoutOptions
        @OptionGroup var postfix: PostfixOptions
        @OptionGroup var exim: EximOptions
        @OptionGroup var openSMTPD: OpenSMTPDOptions
        @OptionGroup var global: GlobalOptions

        /// `--targets`, each once, in the order given.
        func targetList() throws -> [ReceiverTarget] {
            var list: [ReceiverTarget] = []
            for name in targets.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                guard let target = ReceiverTarget(argument: name) else {
                    throw ValidationError(
                        "--targets: \(name) is not one of \(ReceiverTarget.allValueStrings.joined(separator: ", "))")
                }
                if !list.contains(target) { list.append(target) }
            }
            guard list.count >= 2 else { throw ValidationError("--targets needs at least two receivers to compare") }
            return list
        }

        func validate() throws {
            _ = try targetList()
            if sender == .builtin {
                throw ValidationError("--sender compares the built-in sender with a real one: give postfix or exim")
            }
            if target != nil, sender == nil {
                throw ValidationError("--target goes with --sender (receiver parity runs every target it names)")
            }
        }

        func run() async throws {
            var configuration = RunConfiguration(resolverTimeout: dns.duration)
            var axis = ParityAxis.receivers(try targetList())
            if let sender {
                configuration.target = target
                axis = .senders([.builtin, sender])
            }
            try await Harness.parity(
                paths: cases.paths, selection: cases.selection, shard: cases.shard, jobs: jobs.jobs,
                configuration: configuration, axis: axis,
                parts: try partCatalog(postfix: try postfix.receivers(), exim: exim, openSMTPD: openSMTPD),
                logger: global.logger()
            ).exit()
        }
    }

    struct Matrix: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Run every case against several policies and show, case by case, what each policy does; compare with a baseline.",
            discussion: ExitCodes.discussion)
        @OptionGroup var cases: SelectionOptions
        @Option(
            help:
                "Columns: preset names or policy files, separated by commas (fcrdns,fcrdns-strict,policies/ours.yaml).")
        var policies: String?
        @Option(help: "The receiver of every cell.") var target: ReceiverTarget = .builtin
        @Option(help: "The sending MTA of every cell.") var sender: SenderMTA?
        @Option(help: "Columns of Postfix main.cf files, separated by commas (with --target postfix).")
        var postfixConfig: String?
        @Option(
            help:
                "Columns of identity paths instead of policies (socket,proxy-v1,proxy-v2,xclient): each case with its own policy, direct and through a proxy; a path whose verdict differs from the direct connection's is marked and explained."
        )
        var identities: String?
        @Option(
            help:
                "Columns of the sender's TLS levels instead of policies (none,may,encrypt,dane,verify,secure): each case with its own receiver, sent at each level; a level whose verdict differs from the case's own level's is marked and explained."
        )
        var tls: String?
        @Flag(
            help:
                "With --target postfix: start a new Postfix for every cell (by default cells with the same Postfix configuration share a running one)."
        )
        var freshPostfix = false
        @OptionGroup var jobs: JobsOptions
        @Option(
            help: "Write the results here as a baseline (JSON, stable order); a shard's merges with mxharness merge.")
        var saveBaseline: String?
        @Option(help: "Compare with this baseline: print only what changed; exit 1 when anything did.") var baseline:
            String?
        @Option(help: "Write the matrix as a self-contained HTML page here.") var html: String?
        @OptionGroup var dns: DNSTimeoutOptions
        @OptionGroup var global: GlobalOptions

        func validate() throws {
            guard policies != nil || postfixConfig != nil || identities != nil || tls != nil else {
                throw ValidationError(
                    "give the columns: --policies fcrdns,fcrdns-strict (presets or policy files)\(target == .postfix ? " or --postfix-config A.cf,B.cf" : ""), --identities socket,proxy-v2,xclient, or --tls may,verify"
                )
            }
        }

        func run() async throws {
            func list(_ text: String?) -> [String] {
                text.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) } ?? []
            }
            let options = MatrixOptions(
                paths: cases.paths, policies: list(policies), postfixConfigurations: list(postfixConfig),
                jobs: jobs.jobs,
                selection: cases.selection, shard: cases.shard,
                configuration: RunConfiguration(target: target, sender: sender, resolverTimeout: dns.duration),
                saveBaselinePath: saveBaseline, baselinePath: baseline, htmlPath: html,
                parts: try partCatalog(postfix: PostfixReceivers(sharing: !freshPostfix)))
            var withIdentities = options
            withIdentities.identities = list(identities)
            withIdentities.tlsLevels = list(tls)
            try await Harness.matrix(withIdentities, logger: global.logger()).exit()
        }
    }

    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Merge the shards' JSON reports (run --shard K/N --json) or matrix baselines (matrix --shard K/N --save-baseline) into one, with the summary one run would print."
        )
        @Argument(help: "Every shard's file, of one kind.") var inputs: [String]
        @Option(name: .shortAndLong, help: "Write the merged report or baseline here.") var output: String?
        @Option(help: "Matrix baselines: compare the merged matrix with this baseline; exit 1 when anything changed.")
        var baseline: String?

        func run() throws {
            try Harness.merge(MergeOptions(inputs: inputs, outputPath: output, baselinePath: baseline)).exit()
        }
    }
}

extension MXHarness {
    struct Census: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Read a site's receiving MTA logs and show what each policy would do to its own senders: clients, sessions and messages delivered, fallen back, deferred, bounced."
        )
        @Argument(
            help:
                "Postfix or Exim logs (syslog, RFC 5424, journalctl short/json/export, maillog_file, Exim main log; .gz too)."
        )
        var logs: [String] = []
        @Option(
            help:
                "Columns: preset names or policy files, separated by commas; the first is the one the others are compared with (open,fcrdns,fcrdns-strict)."
        )
        var policies: String
        @Option(help: "The receiver of every world.") var target: ReceiverTarget = .builtin
        @Option(
            help: ArgumentHelp(
                "Record each client's DNS from this resolver (ADDR or ADDR@PORT) instead of reading it from the logs.",
                valueName: "ADDR[@PORT]"))
        var resolver: String?
        @Option(help: "Write the census as JSON here.") var json: String?
        @Option(help: "Write the census as a self-contained HTML page here.") var html: String?
        @Flag(
            help:
                "Mask addresses and names in everything written (documentation addresses, .test names; the same input gets the same mask)."
        )
        var mask = false
        @Option(
            help: ArgumentHelp(
                "The secret the masks are made with, so that shards and later runs mask alike (default: one made for this run).",
                valueName: "TEXT"))
        var maskKey: String?
        @Option(help: "How many reasons and envelope domains each ranking lists.") var top = 10
        @Flag(
            help:
                "Run every client in its own world, with its own names and addresses (by default clients whose worlds are the same up to names and addresses share one run)."
        )
        var everyClient = false
        @Option(
            help: ArgumentHelp(
                "Only shard K of N (1 ≤ K ≤ N): the worlds whose name hashes to it; the N shards together run every world once.",
                valueName: "K/N"))
        var shard: CaseShard?
        @OptionGroup var jobs: JobsOptions
        @OptionGroup var dns: DNSTimeoutOptions
        @OptionGroup var global: GlobalOptions

        func validate() throws {
            guard !logs.isEmpty else { throw ValidationError("give the log files to read (plain or .gz)") }
            guard top >= 1 else { throw ValidationError("--top must be at least 1") }
            if maskKey != nil, !mask { throw ValidationError("--mask-key goes with --mask") }
        }

        func run() async throws {
            let options = CensusOptions(
                logs: logs, policies: policies.split(separator: ",", omittingEmptySubsequences: false).map(String.init),
                jobs: jobs.jobs,
                shard: shard, configuration: RunConfiguration(target: target, resolverTimeout: dns.duration),
                resolver: resolver, jsonPath: json,
                htmlPath: html, mask: mask, maskKey: maskKey, top: top, everyClient: everyClient,
                parts: try partCatalog())
            try await Harness.census(options, logger: global.logger()).exit()
        }
    }
}

/// The parts this build of mxharness has (`PartCatalog.standard`, one line per kind in
/// Sources/Catalog), configured by a command's options: each kind's own option group (`PostfixOptions`,
/// `EximOptions`, `OpenSMTPDOptions` in their modules), nil for a command without them
/// (their properties must not be read outside argument parsing).
func partCatalog(
    postfix: PostfixReceivers = PostfixReceivers(), exim: EximOptions? = nil, openSMTPD: OpenSMTPDOptions? = nil
) throws -> PartCatalog {
    PartCatalog.standard(
        postfix: postfix, exim: try exim?.receivers() ?? EximReceivers(),
        openSMTPD: try openSMTPD?.receivers() ?? OpenSMTPDReceivers())
}
