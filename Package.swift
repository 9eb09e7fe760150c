// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "mxharness",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "mxharness", targets: ["mxharness"]),
        .executable(name: "mxharness-bench", targets: ["MXHarnessBench"]),
        .library(name: "MXHarness", targets: ["Runner"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
    ],
    targets: [
        // libunbound, imported only by the Resolver module.
        .systemLibrary(name: "CUnbound", path: "Sources/CUnbound"),

        // Addresses, names, record data and the lookup protocol every DNS consumer shares.
        .target(name: "DNSCore"),
        // libunbound wrapper: the only code that touches the C API.
        .target(
            name: "Resolver",
            dependencies: [
                "DNSCore", "CUnbound", "Sandbox",
                .product(name: "Logging", package: "swift-log"),
            ]),
        // setns(2), which Glibc's Swift overlay does not export; imported only by Sandbox.
        .target(name: "CNamespace"),
        // Network namespaces, processes inside them, and guaranteed clean-up.
        .target(
            name: "Sandbox",
            dependencies: [
                "DNSCore", "CNamespace",
                .product(name: "Logging", package: "swift-log"),
            ]),
        // A scenario's DNS world: zone lines, unbound configuration, the daemon.
        .target(
            name: "DNSWorld",
            dependencies: [
                "DNSCore", "DNSSEC", "Sandbox",
                .product(name: "Logging", package: "swift-log"),
            ]),
        // DNSSEC signing of a world (RFC 4033-4035, ECDSA P-256 of RFC 6605): zone cuts, keys,
        // RRSIGs, NSEC chains and DS records, and each zone state the scenario format names.
        .target(
            name: "DNSSEC",
            dependencies: [
                "DNSCore",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        // RFC 5321 as pure state machines (no I/O).
        .target(name: "SMTPProtocol"),
        // A world's certificate authority and the receivers' certificates it issues (or fails to
        // issue properly: expired, wrong name, self-signed, unknown CA), and the client's check of
        // a server certificate in Postfix's words.
        .target(
            name: "CertificateAuthority",
            dependencies: [
                "DNSCore",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]),
        // RFC 7208 evaluator over a DNSLookup.
        .target(name: "SPF", dependencies: ["DNSCore"]),
        // RFC 6376 DKIM signing and verification (RFC 8301 key rules, RFC 8463 Ed25519) and
        // RFC 7489 DMARC evaluation, over a DNSLookup.
        .target(
            name: "DKIM",
            dependencies: [
                "DNSCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]),
        // Receiver policies: checks, presets, replies, and their evaluation.
        .target(name: "Policy", dependencies: ["DNSCore", "SMTPProtocol", "SPF", "DKIM"]),
        // STARTTLS over SwiftNIO for the built-in MX and sender: NIOSSL contexts, the cipher a
        // ServerHello names.
        .target(
            name: "STARTTLS",
            dependencies: [
                "SMTPProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]),
        // The built-in MX: SwiftNIO server driving the SMTP server state machine.
        .target(
            name: "ReferenceMX",
            dependencies: [
                "DNSCore", "SMTPProtocol", "Policy", "SPF", "Sandbox", "STARTTLS", "CertificateAuthority", "Runner",
                "Scenario", "Rspamd",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // rspamd beside a receiver: its configuration, a private daemon in the case's namespace, its
        // scans read back, and its HTTP protocol (`/checkv2`) with the SMTP reply its milter gives.
        .target(
            name: "Rspamd",
            dependencies: [
                "DNSCore", "Sandbox", "SMTPProtocol", "Runner",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The Sendmail milter protocol as a state machine and a small NIO server for it.
        .target(
            name: "Milter",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Postfix: main.cf from a policy, private and pooled instances, logs, the preflight of a
        // site's configuration, OpenDKIM and OpenDMARC as milters; its receiver and sender parts.
        .target(
            name: "Postfix",
            dependencies: [
                "DNSCore", "DNSWorld", "Policy", "Sandbox", "Milter", "DKIM", "SMTPProtocol", "Scenario", "Runner",
                "Delivery", "CertificateAuthority", "Rspamd",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Exim: the policy as ACLs, a private daemon in the case's namespace, Exim as the sender;
        // its receiver and sender parts.
        .target(
            name: "Exim",
            dependencies: [
                "DNSCore", "Policy", "Scenario", "Sandbox", "SMTPProtocol", "Runner", "Delivery",
                "CertificateAuthority",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // OpenSMTPD: the policy as built-in filters, a private daemon with its own mount
        // namespace; its receiver part.
        .target(
            name: "OpenSMTPD",
            dependencies: [
                "DNSCore", "Policy", "Sandbox", "SMTPProtocol", "Scenario", "Runner", "CertificateAuthority",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // A user's own MX started by the scenario's command (`target: exec`); its receiver part.
        .target(name: "ExecMX", dependencies: ["DNSCore", "Sandbox", "Scenario", "Runner"]),
        // The built-in sender: Postfix's delivery model and an NIO SMTP client; its sender part.
        .target(
            name: "Sender",
            dependencies: [
                "DNSCore", "SMTPProtocol", "Sandbox", "STARTTLS", "CertificateAuthority", "Delivery", "Runner",
                "Scenario",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // What a delivery is, whoever sends: the request, each attempt, the report, the transcript.
        .target(
            name: "Delivery",
            dependencies: [
                "DNSCore", "SMTPProtocol", "CertificateAuthority",
                .product(name: "X509", package: "swift-certificates"),
            ]),
        // The scenario format: model, YAML loading, merging, expectations.
        .target(
            name: "Scenario",
            dependencies: [
                "DNSCore", "SMTPProtocol", "Policy", "DKIM", "CertificateAuthority",
                .product(name: "Yams", package: "Yams"),
            ]),
        // Runs cases: the Receiver and Sender protocols, one sealed world per case, then the
        // verdict. It names no MTA: the executable hands it a catalog of part kinds.
        .target(
            name: "Runner",
            dependencies: [
                "DNSCore", "DNSSEC", "Resolver", "Sandbox", "DNSWorld", "SMTPProtocol", "Policy", "Scenario", "DKIM",
                "CertificateAuthority", "Delivery",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Console, JUnit, JSON and TAP output.
        .target(name: "Reports", dependencies: ["DNSCore", "SMTPProtocol", "Delivery", "Runner", "Scenario"]),
        // The outcome matrix: cases against several policies, baselines, text and HTML.
        .target(
            name: "Matrix",
            dependencies: [
                "DNSCore", "SMTPProtocol", "Policy", "Scenario", "Runner", "Delivery", "Reports",
                .product(name: "Yams", package: "Yams"),
            ]),
        // Evidence of a delivery complaint (bounce, DSN, log line, transcript) turned into a scenario,
        // and the DNS a receiver would look up for a delivery captured as a scenario's world.
        .target(
            name: "Complaint",
            dependencies: [
                "DNSCore", "SMTPProtocol", "Policy", "SPF", "Scenario", "Resolver", "Sandbox",
                .product(name: "Logging", package: "swift-log"),
            ]),
        // What a policy change would do to a site's own senders, read from its logs: log readers,
        // clients, their worlds, runs against policy columns (as the matrix runs them), reports.
        .target(
            name: "Census",
            dependencies: [
                "DNSCore", "Policy", "SPF", "Scenario", "Runner", "Matrix", "Resolver", "Sandbox",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // A real HAProxy between the sender and the receiver (`sender.proxy: haproxy`): its
        // configuration, the redirect of the sender's connections to it, its proxy part.
        .target(
            name: "HAProxy",
            dependencies: [
                "DNSCore", "Sandbox", "Scenario", "Runner",
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The harness's own proxy in front of a real sending MTA (`sender.proxy: model`): PROXY
        // headers and XCLIENT as the built-in sender writes them, relayed over TCP; its proxy part.
        .target(
            name: "ModelProxy",
            dependencies: [
                "DNSCore", "SMTPProtocol", "Sandbox", "Scenario", "Runner",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The same cases on several receivers or senders, side by side.
        .target(
            name: "Parity",
            dependencies: [
                "Runner", "Scenario", "SMTPProtocol", "Reports", .product(name: "Logging", package: "swift-log"),
            ]),
        // What each command does, so the executable only parses arguments.
        .target(
            name: "Harness",
            dependencies: [
                "DNSCore", "DNSSEC", "CertificateAuthority", "Census", "Complaint", "Runner", "Matrix", "Parity",
                "Reports", "Scenario", "DNSWorld", "Resolver", "Sandbox", "ReferenceMX", "Policy",
                "SMTPProtocol",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .executableTarget(
            name: "mxharness",
            dependencies: [
                "Harness", "Catalog", "CertificateAuthority", "Runner", "Scenario", "DNSCore", "Policy", "ReferenceMX",
                "Postfix", "Exim", "OpenSMTPD",
                "SMTPProtocol", "Parity",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ], plugins: ["BuildInfo"]),
        // The part catalog both executables run: one line per receiver and sender kind.
        .target(
            name: "Catalog",
            dependencies: [
                "Runner", "ReferenceMX", "Sender", "Postfix", "Exim", "OpenSMTPD", "ExecMX", "HAProxy", "ModelProxy",
                "Scenario", "SMTPProtocol", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // `mxharness-bench`: the benchmarks (scripts/bench-*), kept out of the product.
        .executableTarget(
            name: "MXHarnessBench",
            dependencies: [
                "Harness", "Catalog", "Runner", "Scenario", "DNSCore", "DNSSEC", "DNSWorld", "Resolver", "Sandbox",
                "Postfix",
                "SMTPProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Writes the commit the executable is built from into it (`mxharness --version`).
        .plugin(name: "BuildInfo", capability: .buildTool()),

        // Fixtures several test targets share.
        .target(
            name: "MXHarnessTestKit", dependencies: ["DNSCore", "Sandbox", "DNSWorld", "Resolver"],
            path: "Tests/MXHarnessTestKit"),
        // Cases run through the runner: the built-in parts as a catalog, one-case runs, the
        // scenarios the real-MTA tests share.
        .target(
            name: "RunnerTestKit",
            dependencies: [
                "DNSCore", "Runner", "Scenario", "ReferenceMX", "Sender", "Policy", "Sandbox",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ], path: "Tests/RunnerTestKit"),

        .testTarget(name: "DNSCoreTests", dependencies: ["DNSCore"]),
        .testTarget(name: "SandboxTests", dependencies: ["DNSCore", "Sandbox", "MXHarnessTestKit"]),
        .testTarget(
            name: "DNSWorldTests", dependencies: ["DNSCore", "DNSSEC", "DNSWorld", "Sandbox", "MXHarnessTestKit"]),
        .testTarget(
            name: "DNSSECTests",
            dependencies: [
                "DNSSEC", "DNSCore", "DNSWorld", "Resolver", "Sandbox", "MXHarnessTestKit",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .testTarget(name: "ResolverTests", dependencies: ["DNSCore", "Resolver", "MXHarnessTestKit"]),
        .testTarget(name: "SMTPProtocolTests", dependencies: ["SMTPProtocol"]),
        .testTarget(
            name: "CertificateAuthorityTests",
            dependencies: [
                "CertificateAuthority", "DNSCore", .product(name: "X509", package: "swift-certificates"),
            ]),
        .testTarget(
            name: "SPFTests",
            dependencies: [
                "SPF", "DNSCore", "MXHarnessTestKit",
                .product(name: "Yams", package: "Yams"),
            ], exclude: ["Conformance/rfc7208"]),
        .testTarget(
            name: "DKIMTests",
            dependencies: [
                "DKIM", "DNSCore", "MXHarnessTestKit",
                .product(name: "Crypto", package: "swift-crypto"),
            ], exclude: ["Conformance/vectors"]),
        .testTarget(
            name: "PolicyTests", dependencies: ["Policy", "SPF", "SMTPProtocol", "DNSCore", "DKIM", "MXHarnessTestKit"]),
        .testTarget(
            name: "ReferenceMXTests",
            dependencies: [
                "ReferenceMX", "Policy", "SMTPProtocol", "DNSCore", "DKIM", "MXHarnessTestKit", "CertificateAuthority",
                "Sender", "Delivery",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Sites/: real-world Postfix configuration directories (each with its provenance and licence).
        .testTarget(
            name: "PostfixTests",
            dependencies: [
                "Postfix", "Policy", "DNSCore", "DNSWorld", "Sandbox", "MXHarnessTestKit", "RunnerTestKit", "Milter",
                "SMTPProtocol", "DKIM",
                "Runner", "Scenario", "ReferenceMX", "Delivery", "ModelProxy", "Rspamd",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ], exclude: ["Sites"]),
        .testTarget(name: "MilterTests", dependencies: ["Milter", .product(name: "Logging", package: "swift-log")]),
        .testTarget(
            name: "EximTests",
            dependencies: [
                "Exim", "Policy", "Scenario", "DNSCore", "Runner", "RunnerTestKit", "MXHarnessTestKit", "SMTPProtocol",
                "Delivery", "ModelProxy",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "OpenSMTPDTests",
            dependencies: [
                "OpenSMTPD", "Policy", "DNSCore", "Runner", "Scenario", "RunnerTestKit", "MXHarnessTestKit",
                "SMTPProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .testTarget(
            name: "ExecMXTests", dependencies: ["ExecMX", "Runner", "Scenario", "RunnerTestKit", "MXHarnessTestKit"]),
        .testTarget(
            name: "SenderTests",
            dependencies: [
                "Sender", "Delivery", "SMTPProtocol", "DNSCore", "Sandbox", "MXHarnessTestKit", "CertificateAuthority",
                "Scenario", "Runner",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "ScenarioTests",
            dependencies: [
                "Scenario", "CertificateAuthority", "DNSCore", "SMTPProtocol", "Policy", "DKIM", "MXHarnessTestKit",
            ]),
        .testTarget(
            name: "RunnerTests",
            dependencies: [
                "Runner", "Scenario", "Policy", "Sandbox", "DNSCore", "ReferenceMX", "Sender", "HAProxy",
                "MXHarnessTestKit", "RunnerTestKit", "CertificateAuthority",
            ]),
        .testTarget(name: "ReportsTests", dependencies: ["Reports", "Runner", "Scenario", "DNSCore", "SMTPProtocol"]),
        .testTarget(
            name: "MatrixTests",
            dependencies: [
                "Matrix", "CertificateAuthority", "Harness", "Runner", "Scenario", "Policy", "Postfix", "Sender",
                "Delivery", "SMTPProtocol", "DNSCore", "Reports", "MXHarnessTestKit",
                "RunnerTestKit",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "ComplaintTests",
            dependencies: [
                "Complaint", "Scenario", "Runner", "DNSCore", "DNSWorld", "SMTPProtocol", "Policy", "MXHarnessTestKit",
                "RunnerTestKit",
            ], exclude: ["Corpus"]),
        .testTarget(
            name: "CensusTests",
            dependencies: [
                "Census", "Matrix", "Runner", "Postfix", "Exim", "Scenario", "Policy", "DNSCore", "MXHarnessTestKit",
                "RunnerTestKit",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(name: "HAProxyTests", dependencies: ["HAProxy", "DNSCore"]),
        .testTarget(
            name: "RspamdTests",
            dependencies: [
                "Rspamd", "SMTPProtocol", "DNSCore", "Sandbox", "MXHarnessTestKit", "Runner", "RunnerTestKit",
                "Scenario",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The catalog the executables run, as the loader sees it.
        .testTarget(
            name: "CatalogTests",
            dependencies: ["Catalog", "Runner", "RunnerTestKit", "Scenario", "MXHarnessTestKit", "Rspamd"]),
        .testTarget(
            name: "ParityTests",
            dependencies: ["Parity", "Runner", "RunnerTestKit", "Scenario", "SMTPProtocol", "DNSCore", "Reports"]),
        .testTarget(
            name: "HarnessTests",
            dependencies: [
                "Harness", "DNSCore", "Sandbox", "Scenario", "MXHarnessTestKit", "RunnerTestKit", "Runner",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // docker-compose.yml: the Compose schema and the agreement of its addresses with docker/.
        .testTarget(name: "ComposeTests", dependencies: ["DNSCore", .product(name: "Yams", package: "Yams")]),
        // docs/ci: the CI templates users copy (actionlint, and the structure the README promises).
        .testTarget(name: "CITemplateTests", dependencies: [.product(name: "Yams", package: "Yams")]),
    ],
    swiftLanguageModes: [.v6]
)
