import CertificateAuthority
import ArgumentParser
import DNSCore
import Foundation
import Harness
import SMTPProtocol
import Runner
import Logging
import Policy
import ReferenceMX
import Scenario

// The commands that work on one case or one part: send, dns, mx serve, validate, list, explain,
// repro, capture.

extension MXHarness {
    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run one scenario's delivery and print every attempt's transcript, swaks-style, and the outcome.")
        @Argument(help: "A scenario file.") var file: String
        @Option(help: "The variant (case) of the file.") var variant: String?
        @Option(help: "The receiver (overrides the scenario's receiver.target).") var target: ReceiverTarget?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await Harness.send(
                file: file, variant: variant, configuration: RunConfiguration(target: target), parts: try partCatalog(),
                logger: global.logger()
            ).exit()
        }
    }

    struct DNS: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dns", abstract: "Bring up one scenario's DNS world on its own.",
            subcommands: [Serve.self, Check.self])

        struct Serve: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Serve the world until Ctrl-C and print how to query it with dig.")
            @Argument(help: "A scenario file.") var file: String
            @Option(help: "The variant (case) of the file to use.") var variant: String?
            @OptionGroup var global: GlobalOptions

            func run() async throws {
                try await Harness.dnsServe(
                    file: file, variant: variant, kinds: try partCatalog().scenarioKinds, logger: global.logger())
            }
        }

        struct Check: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Print every name of the world with what it answers.")
            @Argument(help: "A scenario file.") var file: String
            @Option(help: "The variant (case) of the file to use.") var variant: String?
            @OptionGroup var dns: DNSTimeoutOptions
            @OptionGroup var global: GlobalOptions

            func run() async throws {
                try await Harness.dnsCheck(
                    file: file, variant: variant, kinds: try partCatalog().scenarioKinds, timeout: dns.duration,
                    logger: global.logger())
            }
        }
    }

    struct MX: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "mx", abstract: "The built-in MX on its own.", subcommands: [Serve.self])

        struct Serve: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Serve SMTP with a policy preset until Ctrl-C, logging each session's decision.")
            @Option(help: "A policy preset.")
            var policy: Preset = .open
            @Option(
                help: ArgumentHelp(
                    "Where to listen (repeatable), e.g. 127.0.0.1:2525 or [::1]:2525.", valueName: "ADDR:PORT"))
            var listen: [ListeningEndpoint] = [ListeningEndpoint("127.0.0.1:2525")!]
            @Option(help: ArgumentHelp("The DNS server every lookup goes to.", valueName: "ADDR[@PORT]"))
            var resolver = ResolverAddress("127.0.0.1")!
            @Option(help: "The name in the greeting.")
            var hostname = "mx.example.test"
            @Option(
                help:
                    "What a line ending in a bare <LF> does, as Postfix's smtpd_forbid_bare_newline: no, normalize (yes), reject."
            )
            var bareNewline: SMTPBareNewlineMode = .normalize
            @Option(
                help:
                    "Require a PROXY header (v1 or v2) before the greeting, as Postfix's smtpd_upstream_proxy_protocol: haproxy."
            )
            var proxyProtocol: ReceiverProxyProtocol?
            @Option(
                help: ArgumentHelp(
                    "A client allowed to send XCLIENT (repeatable), as Postfix's smtpd_authorized_xclient_hosts.",
                    valueName: "ADDR"))
            var xclientHost: [IPAddress] = []
            @Flag(
                help:
                    "Offer STARTTLS (Postfix smtpd_tls_security_level = may) with a certificate from an authority made for this run."
            )
            var starttls = false
            @Flag(help: "Require STARTTLS before MAIL (smtpd_tls_security_level = encrypt); implies --starttls.")
            var tlsRequired = false
            @Option(
                help:
                    "The certificate with --starttls: valid, expired, not-yet-valid, wrong-name, self-signed, unknown-ca."
            )
            var certificate: CertificateKind = .valid
            @Option(
                help: ArgumentHelp(
                    "With --starttls: write the run's authority here (PEM), for clients to trust.", valueName: "FILE"))
            var caFile: String?
            @Flag(name: .shortAndLong, help: "Log every command and reply, not only each session's decision.")
            var verbose = false

            func run() async throws {
                var logger = Logger(label: "mxharness.mx")
                logger.logLevel = verbose ? .debug : .info
                try await Harness.mxServe(
                    policy: policy, listen: listen, resolver: resolver, hostname: hostname, bareNewline: bareNewline,
                    requiresProxyHeader: proxyProtocol == .haproxy, xclientHosts: xclientHost,
                    tls: starttls || tlsRequired
                        ? MXServeTLS(required: tlsRequired, certificate: certificate, caFile: caFile) : nil,
                    logger: logger)
            }
        }
    }

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check scenario files without running them.")
        @Argument(
            help: ArgumentHelp(
                "Scenario files or folders; none: ./Scenarios, or without one the installed library (/usr/share/mxharness/Scenarios).",
                valueName: "paths"))
        var pathArguments: [String] = []

        func run() throws {
            try Harness.validate(
                paths: ScenarioLibrary.paths(pathArguments), kinds: try partCatalog().scenarioKinds)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List cases with their tags and descriptions.")
        @Argument(
            help: ArgumentHelp(
                "Scenario files or folders; none: ./Scenarios, or without one the installed library (/usr/share/mxharness/Scenarios).",
                valueName: "paths"))
        var pathArguments: [String] = []

        func run() throws {
            try Harness.list(paths: ScenarioLibrary.paths(pathArguments), kinds: try partCatalog().scenarioKinds)
        }
    }

    struct Explain: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print one case merged (includes, variants), as the runner sees it.")
        @Argument(help: "A scenario file.") var file: String
        @Option(help: "The variant (case) of the file.") var variant: String?

        func run() throws {
            try Harness.explain(file: file, variant: variant, kinds: try partCatalog().scenarioKinds)
        }
    }

    struct Repro: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Turn a bounce (an .eml or mbox message, a DSN or its text), a log line or an SMTP transcript into a scenario that reproduces it."
        )
        @Argument(help: "The evidence: a file, or - (or nothing) for standard input.") var input: String?
        @Option(
            name: .shortAndLong,
            help:
                "Write the scenario here (default: standard output); for an mbox of several bounces, a directory (one file each)."
        )
        var output: String?
        @Option(help: "Of an mbox of several bounces, the N-th message only (1 is the first).") var message: Int?
        @Flag(
            help:
                "Run the written scenario and fail unless it reproduces (needs root and unbound; by default it is run when it can be)."
        )
        var verify = false
        @Flag(help: "Do not run the written scenario.") var noVerify = false
        @OptionGroup var global: GlobalOptions

        func validate() throws {
            if verify && noVerify { throw ValidationError("--verify and --no-verify exclude each other") }
        }

        func run() async throws {
            let verification: ReproVerification = verify ? .required : noVerify ? .skipped : .ifPossible
            try await Harness.repro(
                input: input, output: output, message: message, verification: verification, parts: try partCatalog(),
                logger: global.logger()
            ).exit()
        }
    }

    struct Capture: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Ask one resolver everything a receiver would look up for a delivery and write it as a scenario's DNS (sends no mail)."
        )
        @Option(help: "The only server asked: ADDR or ADDR@PORT.") var resolver: String
        @Option(help: "The sending (client) address.") var client: String
        @Option(help: "The name the sending MTA says in EHLO.") var helo: String
        @Option(help: "The envelope sender (\"\" or <> for the null sender).") var from: String
        @Option(help: "An envelope recipient (repeatable).") var to: [String]
        @Option(name: .shortAndLong, help: "Write the scenario here (default: standard output).") var output: String?
        @Option(help: "Seconds one query may take before it is recorded as a timeout.") var timeout: Double = 3
        @Option(help: "A DNSBL zone the receiver consults (repeatable).") var dnsbl: [String] = []
        @Option(
            help: "A scenario (from mxharness repro) whose receiver policy and expect the captured world goes with.")
        var complaint: String?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            var options = CaptureOptions(
                resolver: resolver, client: client, helo: helo, from: from, to: to, output: output,
                timeout: timeout, dnsbl: dnsbl, complaint: complaint)
            options.kinds = try partCatalog().scenarioKinds
            try await Harness.capture(options, logger: global.logger())
        }
    }
}
