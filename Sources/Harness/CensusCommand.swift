#if canImport(Glibc)
import Glibc
#endif
import Census
import Foundation
import Logging
import Matrix
import Runner
import Scenario

/// `mxharness census`.
public struct CensusOptions: Sendable {
    public var logs: [String]
    public var policies: [String]
    public var jobs: Int
    public var shard: CaseShard?
    public var configuration: RunConfiguration
    /// `ADDR[@PORT]`: record each client's DNS from this resolver.
    public var resolver: String?
    public var jsonPath: String?
    public var htmlPath: String?
    public var mask: Bool
    public var maskKey: String?
    public var top: Int
    public var everyClient: Bool
    /// The receivers and senders the cells may run on.
    public var parts: PartCatalog

    public init(
        logs: [String], policies: [String], jobs: Int, shard: CaseShard? = nil, configuration: RunConfiguration,
        resolver: String? = nil,
        jsonPath: String? = nil, htmlPath: String? = nil, mask: Bool = false, maskKey: String? = nil, top: Int = 10,
        everyClient: Bool = false,
        parts: PartCatalog
    ) {
        self.parts = parts
        self.logs = logs
        self.policies = policies
        self.jobs = jobs
        self.shard = shard
        self.configuration = configuration
        self.resolver = resolver
        self.jsonPath = jsonPath
        self.htmlPath = htmlPath
        self.mask = mask
        self.maskKey = maskKey
        self.top = top
        self.everyClient = everyClient
    }
}

extension Harness {
    /// Reads the logs, runs every client's world against every policy column, prints the census
    /// and writes its JSON and HTML when asked. Exit 2 for usage errors and logs it cannot read; 1
    /// when a world could not run or a file could not be written.
    public static func census(_ options: CensusOptions, logger: Logger) async throws(HarnessError) -> Verdict {
        let out = Output()
        var configuration = options.configuration
        let target = configuration.target ?? .builtin
        configuration.target = target
        guard !options.logs.isEmpty else { throw .usage("census: give the log files to read (plain or .gz)") }
        let columns: [PolicyColumn]
        do {
            columns = try PolicyColumn.columns(policies: options.policies, target: target)
        } catch {
            throw .usage("census: \(error)")
        }
        var resolver: LiveResolver?
        if let text = options.resolver {
            guard let parsed = LiveResolver(text) else {
                throw .usage(
                    "census: --resolver \(text): expected ADDR or ADDR@PORT, e.g. 192.0.2.53 or 127.0.0.1@5353")
            }
            resolver = parsed
        }
        guard options.top >= 1 else { throw .usage("census: --top must be at least 1") }
        // A user namespace has a network of its own: the resolver is asked from the host's.
        let needs: Preflight.Needs =
            target == .postfix
            ? .root(because: "the Postfix receiver (--target postfix)")
            : resolver != nil
                ? .root(
                    because:
                        "census --resolver (the resolver is asked from the host's network, which a user namespace leaves)"
                ) : .namespaces
        try Preflight.ready(needs: needs, logger: logger)

        let log: SessionLog
        do { log = try SessionLog.read(options.logs) } catch { throw .usage("census: \(error)") }
        guard !log.addresses.isEmpty else {
            throw .usage(
                "census: no SMTP client in \(options.logs.joined(separator: ", ")) (no Postfix smtpd session, no Exim arrival or rejection)"
            )
        }
        let clients: [(CensusClient, ClientFacts, Set<Assumption>)]
        do {
            clients = try await CensusRun.clients(log, resolver: resolver, logger: logger)
        } catch {
            throw .failed("census: recording DNS from \(options.resolver ?? ""): \(error)")
        }
        let plan = CensusPlan.make(clients, everyClient: options.everyClient)
        let request = CensusRequest(
            logs: options.logs, columns: columns, resolver: resolver, everyClient: options.everyClient,
            shard: options.shard, top: options.top,
            jobs: options.jobs)
        let showProgress = isatty(2) == 1
        let run = CensusRun(
            runner: CaseRunner(configuration: configuration, parts: options.parts, logger: logger), logger: logger)
        var report = await run.run(plan, request: request, reading: log.summary) { done, total in
            if showProgress {
                try? FileHandle.standardError.write(contentsOf: Data("\rcensus: \(done)/\(total) cells".utf8))
            }
        }
        if showProgress { try? FileHandle.standardError.write(contentsOf: Data("\r\u{1B}[K".utf8)) }
        if options.mask { report = Masker(key: options.maskKey).mask(report) }
        out.line(CensusText.render(report))

        var unwritten: [String] = []
        if let path = options.jsonPath {
            do {
                try report.json().write(to: URL(fileURLWithPath: path))
                out.line("JSON written to \(path)")
            } catch {
                unwritten.append("census: cannot write \(path): \(error.localizedDescription)")
            }
        }
        if let path = options.htmlPath {
            do {
                try CensusHTML.render(
                    report,
                    title: "mxharness census: "
                        + options.logs.map { ($0 as NSString).lastPathComponent }.joined(separator: " ")
                )
                .write(toFile: path, atomically: true, encoding: .utf8)
                out.line("HTML census written to \(path)")
            } catch {
                unwritten.append("census: cannot write the HTML page \(path): \(error.localizedDescription)")
            }
        }
        guard unwritten.isEmpty else { throw .failed(unwritten.joined(separator: "\n")) }
        let errors = report.policies.reduce(0) { $0 + $1.errors }
        return Verdict(passed: errors == 0)
    }
}
