#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import DNSCore
import Foundation
import Logging
import Milter
import Policy
import Sandbox

/// OpenDKIM, OpenDMARC and the decision milter of one Postfix instance, running in its namespace
/// with their files in the instance's `milters/` folder. The daemons run through `ip netns exec`
/// (as Postfix does), so OpenDMARC's SPF and DMARC lookups (libspf2 and libopendmarc use the
/// system resolver) read the namespace's resolv.conf, the world's unbound; OpenDKIM asks that
/// unbound through its libunbound (`MilterConfiguration.libunbound`). `stop()` leaves nothing running.
public final class PostfixMilters: @unchecked Sendable {
    public struct Options: Sendable {
        public var openDKIMPath = "/usr/sbin/opendkim"
        public var openDMARCPath = "/usr/sbin/opendmarc"
        public var ipPath = "/usr/sbin/ip"
        public var startTimeout: Duration = .seconds(10)

        public init() {}
    }

    public let configuration: MilterConfiguration
    private let daemons: [ManagedProcess]
    private let decision: MilterServer
    private let decisions: DecisionLog

    private init(
        configuration: MilterConfiguration, daemons: [ManagedProcess], decision: MilterServer, decisions: DecisionLog
    ) {
        self.configuration = configuration
        self.daemons = daemons
        self.decision = decision
        self.decisions = decisions
    }

    /// Why the milters cannot run on this machine, or nil.
    public static func missingReason(options: Options = Options()) -> String? {
        let missing = [options.openDKIMPath, options.openDMARCPath].filter {
            !FileManager.default.isExecutableFile(atPath: $0)
        }
        guard !missing.isEmpty else { return nil }
        return
            "DKIM and DMARC checks need OpenDKIM and OpenDMARC as Postfix milters, and \(missing.joined(separator: ", ")) is not installed (apt-get install opendkim opendmarc, as scripts/lib.sh does)"
    }

    /// The decisions the milter made so far (`milters/decisions.log`), one line each.
    public var decisionLines: [String] { decisions.lines }

    /// Starts the three milters for `policy` in `namespace` and returns once each one listens.
    /// The namespace's `/etc/netns/NAME/resolv.conf` must exist (Postfix's setup writes it).
    public static func start(
        policy: ReceiverPolicy, keyRecords: WorldKeyRecords = WorldKeyRecords(), in namespace: NetworkNamespace,
        directory: String, options: Options = Options(), logger: Logger
    ) async throws -> PostfixMilters {
        if let reason = missingReason(options: options) {
            throw PostfixConfigurationError.unsupported(PostfixUnsupported(reason: reason))
        }
        let fm = FileManager.default
        try fm.createDirectory(
            atPath: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        let token = (0..<4).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        let configuration = MilterConfiguration(authservID: "mxh-verify-\(token)", directory: directory)
        try configuration.openDKIM.write(toFile: configuration.openDKIMConfigPath, atomically: true, encoding: .utf8)
        try configuration.openDMARC.write(toFile: configuration.openDMARCConfigPath, atomically: true, encoding: .utf8)
        try MilterConfiguration.libunbound.write(
            toFile: configuration.libunboundConfigPath, atomically: true, encoding: .utf8)
        try MilterConfiguration.publicSuffixList.write(
            toFile: configuration.publicSuffixListPath, atomically: true, encoding: .utf8)

        let decisions = DecisionLog(path: directory + "/decisions.log")
        var daemons: [ManagedProcess] = []
        var server: MilterServer?
        let decisionServer: MilterServer
        func cleanUp() async {
            await PostfixMilters.terminate(daemons)
            await server?.stop()
        }
        do {
            let fd = try await Sockets.listen(
                on: IPAddress(literal: "127.0.0.1"), port: MilterConfiguration.decisionPort, in: namespace)
            let filter = MilterDecision(policy: policy, authservID: configuration.authservID, keyRecords: keyRecords) {
                line in
                decisions.append(line)
                logger.debug("milter decision", metadata: ["decision": "\(line)"])
            }
            do {
                decisionServer = try await MilterServer.start(boundSocket: fd, filter: filter, logger: logger)
                server = decisionServer
            } catch {
                close(fd)
                throw error
            }
            let started: [(name: String, path: String, arguments: [String], port: UInt16)] = [
                (
                    "opendkim", options.openDKIMPath, ["-f", "-x", configuration.openDKIMConfigPath],
                    MilterConfiguration.openDKIMPort
                ),
                (
                    "opendmarc", options.openDMARCPath, ["-f", "-c", configuration.openDMARCConfigPath],
                    MilterConfiguration.openDMARCPort
                ),
            ]
            for daemon in started {
                // `ip netns exec` execs the daemon in place: the process's pid is the daemon's.
                daemons.append(
                    try ManagedProcess.launch(
                        options.ipPath, ["netns", "exec", namespace.name, daemon.path] + daemon.arguments, in: nil,
                        outputPath: directory + "/\(daemon.name).out"))
            }
            for (daemon, process) in zip(started, daemons) {
                try await waitListening(
                    process, name: daemon.name, port: daemon.port, output: directory + "/\(daemon.name).out",
                    timeout: options.startTimeout)
            }
        } catch {
            await cleanUp()
            throw error
        }
        logger.debug(
            "milters up", metadata: ["netns": "\(namespace.name)", "authserv-id": "\(configuration.authservID)"])
        return PostfixMilters(
            configuration: configuration, daemons: daemons, decision: decisionServer, decisions: decisions)
    }

    /// Stops both daemons and the decision milter. Safe to call twice.
    public func stop() async {
        await Self.terminate(daemons)
        await decision.stop()
    }

    /// SIGTERM to every daemon at once, SIGKILL soon after: on SIGTERM libmilter lets a daemon
    /// wind down for seconds, and neither keeps anything a later case needs.
    static func terminate(_ daemons: [ManagedProcess]) async {
        await withTaskGroup(of: Void.self) { group in
            for daemon in daemons { group.addTask { await daemon.terminate(grace: .milliseconds(100)) } }
        }
    }

    private static func waitListening(
        _ process: ManagedProcess, name: String, port: UInt16, output: String, timeout: Duration
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        let loopback = IPAddress(literal: "127.0.0.1")
        while true {
            let sockets = ListeningSockets(procNetTCP: [
                (try? String(contentsOfFile: "/proc/\(process.pid)/net/tcp", encoding: .utf8)) ?? ""
            ])
            if sockets.accepts(loopback, port: port) { return }
            let said = { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" }
            guard process.isRunning else {
                throw PostfixInstanceError(
                    message:
                        "\(name) exited during start-up (configuration in \((output as NSString).deletingLastPathComponent))",
                    output: said())
            }
            guard ContinuousClock.now < deadline else {
                throw PostfixInstanceError(
                    message: "\(name) did not listen on 127.0.0.1:\(port) within \(timeout)", output: said())
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// The decision milter's lines, kept in memory and appended to a file.
final class DecisionLog: @unchecked Sendable {
    let path: String
    private let lock = NSLock()
    private var _lines: [String] = []

    init(path: String) {
        self.path = path
        _ = FileManager.default.createFile(atPath: path, contents: nil)
    }

    var lines: [String] { lock.withLock { _lines } }

    func append(_ line: String) {
        lock.withLock {
            _lines.append(line)
            if let handle = FileHandle(forWritingAtPath: path) {
                _ = try? handle.seekToEnd()
                try? handle.write(contentsOf: Data((line + "\n").utf8))
                try? handle.close()
            }
        }
    }
}

extension PostfixInstance {
    /// The milters of `configuration`'s policy (nil when it has no DKIM or DMARC check), in
    /// `DIRECTORY/milters`.
    static func startMilters(
        _ configuration: PostfixConfiguration, namespace: NetworkNamespace, directory: String, logger: Logger
    ) async throws -> PostfixMilters? {
        guard MilterChecks(policy: configuration.policy).isNeeded else { return nil }
        return try await PostfixMilters.start(
            policy: configuration.policy, keyRecords: configuration.worldKeyRecords, in: namespace,
            directory: directory + "/milters", logger: logger)
    }
}
