#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import DNSCore
import Foundation
import Logging
import Sandbox

/// A private Postfix in a network namespace: its own configuration directory (`/etc/netns/NAME/postfix`,
/// which `ip netns exec` bind-mounts over `/etc/postfix`), its own `resolv.conf` pointing at the
/// world's unbound on 127.0.0.1, and its queue, data and log under the case folder.
///
/// One instance per namespace. `stop()` leaves no process of the instance and no `/etc/netns/NAME`.
public final class PostfixInstance: @unchecked Sendable {
    public struct Options: Sendable {
        /// resolv.conf(5) `timeout:` and `attempts:` for Postfix's lookups. glibc's defaults (5 s,
        /// twice) would make a `timeout` fault cost 10 s per lookup.
        public var dnsTimeoutSeconds: Int
        public var dnsAttempts: Int
        /// The name server resolv.conf names: the world's unbound, or its validating twin when
        /// the receiver's resolver validates (`receiver.resolver`).
        public var nameserver: String = "127.0.0.1"
        public var startTimeout: Duration
        public var stopGrace: Duration
        public var postfixPath: String
        public var ipPath: String
        /// The installed configuration whose master.cf, postfix-files and dynamicmaps.cf are copied.
        public var stockConfigDirectory: String
        /// Make the queue folders here and let `postfix start` skip its integrity checks (about
        /// 0.07 s instead of 0.2 to 0.5 s per start on a busy 2-core machine).
        public var quickStart: Bool

        public init(
            dnsTimeoutSeconds: Int = 1, dnsAttempts: Int = 1, startTimeout: Duration = .seconds(10),
            stopGrace: Duration = .seconds(3),
            postfixPath: String = "/usr/sbin/postfix", ipPath: String = "/usr/sbin/ip",
            stockConfigDirectory: String = "/etc/postfix",
            quickStart: Bool = true
        ) {
            self.dnsTimeoutSeconds = dnsTimeoutSeconds
            self.dnsAttempts = dnsAttempts
            self.startTimeout = startTimeout
            self.stopGrace = stopGrace
            self.postfixPath = postfixPath
            self.ipPath = ipPath
            self.stockConfigDirectory = stockConfigDirectory
            self.quickStart = quickStart
        }
    }

    public let namespace: NetworkNamespace
    /// `CASE/postfix`: queue, data, log, tables, mail.
    public let directory: String
    public let paths: PostfixPaths
    /// `/etc/netns/NAME`.
    public let etcDirectory: String
    public let options: Options
    /// From `postfix start` until every receiver address listens.
    public let startupTime: Duration
    public let masterPID: pid_t

    let lock = NSLock()
    var _configuration: PostfixConfiguration
    var _rendered: RenderedPostfixConfiguration
    var stopped = false
    let logger: Logger
    /// OpenDKIM, OpenDMARC and the decision milter, for a policy with DKIM or DMARC checks.
    public internal(set) var milters: PostfixMilters?
    /// rspamd, for `receiver.engines: [rspamd]`.
    public internal(set) var rspamd: PostfixRspamd?
    private var _skipsReload = false

    /// For the isolation tests only: `reconfigure` claims the new configuration but leaves the
    /// running one in place (a planted leak the tests must catch).
    var skipsReload: Bool {
        get { lock.withLock { _skipsReload } }
        set { lock.withLock { _skipsReload = newValue } }
    }

    public var configuration: PostfixConfiguration { lock.withLock { _configuration } }
    public var rendered: RenderedPostfixConfiguration { lock.withLock { _rendered } }
    public var logPath: String { paths.logFile }

    private init(
        namespace: NetworkNamespace, directory: String, paths: PostfixPaths, etcDirectory: String, options: Options,
        startupTime: Duration,
        masterPID: pid_t, configuration: PostfixConfiguration, rendered: RenderedPostfixConfiguration, logger: Logger
    ) {
        self.namespace = namespace
        self.directory = directory
        self.paths = paths
        self.etcDirectory = etcDirectory
        self.options = options
        self.startupTime = startupTime
        self.masterPID = masterPID
        self._configuration = configuration
        self._rendered = rendered
        self.logger = logger
    }

    public static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: Options().postfixPath) }

    /// The uid and gid of `nobody`, for `PostfixDelivery.maildir`.
    public static var nobody: (uid: UInt32, gid: UInt32) {
        guard let entry = SystemAccounts.user(named: "nobody") else { return (65534, 65534) }
        return (entry.uid, entry.gid)
    }

    /// Writes the configuration, starts Postfix in `namespace` and returns once port 25 listens on
    /// every receiver address. `caseDirectory` must be traversable by user postfix (mode 0755 from
    /// `ResourceRegistry.makeTemporaryDirectory`). Throws `PostfixConfigurationError` when the case
    /// cannot be configured (`.unsupported` means: skip it) and `PostfixInstanceError` when Postfix
    /// does not start.
    public static func start(
        _ configuration: PostfixConfiguration, in namespace: NetworkNamespace, caseDirectory: String,
        options: Options = Options(),
        logger: Logger = Logger(label: "mxharness.postfix")
    ) async throws -> PostfixInstance {
        guard FileManager.default.isExecutableFile(atPath: options.postfixPath) else {
            throw PostfixInstanceError(
                message:
                    "postfix is not installed at \(options.postfixPath): install it with `apt-get install postfix` (Debian: as in scripts/lib.sh, with debconf set to \"No configuration\")"
            )
        }
        let directory = caseDirectory + "/postfix"
        let paths = PostfixPaths(under: directory)
        let rendered = try configuration.render(paths: paths)
        for key in rendered.overridden {
            // Reported once per run by the preflight (`PostfixPreflight`).
            logger.debug(
                "the harness owns this Postfix setting; the given value is ignored", metadata: ["setting": "\(key)"])
        }
        let etc = "/etc/netns/\(namespace.name)"
        guard !FileManager.default.fileExists(atPath: etc) else {
            throw PostfixInstanceError(
                message:
                    "\(etc) exists already: namespace \(namespace.name) has a Postfix instance (one per namespace) or a stale one; stop it first"
            )
        }
        do {
            try prepareDirectories(
                paths: paths, directory: directory, delivery: configuration.delivery, options: options)
            try writeFiles(rendered, into: etc, options: options)
            try await compileTables(
                rendered, config: etc + "/postfix", namespace: namespace.name, options: options,
                outputPath: directory + "/postfix.out")
        } catch let error as PostfixInstanceError {
            try? FileManager.default.removeItem(atPath: etc)
            throw error
        } catch {
            try? FileManager.default.removeItem(atPath: etc)
            throw PostfixInstanceError(
                message: "cannot write the Postfix configuration for namespace \(namespace.name): \(error)")
        }

        // Before Postfix, which calls them from its first connection on.
        var milters: PostfixMilters?
        var rspamd: PostfixRspamd?
        do {
            milters = try await startMilters(configuration, namespace: namespace, directory: directory, logger: logger)
            if let engine = configuration.rspamd {
                rspamd = try await PostfixRspamd.start(
                    engine, dnsTimeoutSeconds: options.dnsTimeoutSeconds, nameserver: options.nameserver,
                    in: namespace,
                    directory: directory + "/rspamd", ipPath: options.ipPath,
                    logger: logger)
            }
        } catch {
            await milters?.stop()
            try? FileManager.default.removeItem(atPath: etc)
            throw error
        }

        let clock = ContinuousClock()
        let began = clock.now
        let outputPath = directory + "/postfix.out"
        let status = await run(
            options.ipPath, ["netns", "exec", namespace.name, options.postfixPath, "start"], outputPath: outputPath,
            timeout: options.startTimeout)
        func said() -> String {
            let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            let log = (try? String(contentsOfFile: paths.logFile, encoding: .utf8)) ?? ""
            return output + log
        }
        func fail(_ message: String) async -> PostfixInstanceError {
            let error = PostfixInstanceError(message: message, output: said())
            await teardown(
                namespace: namespace, queueDirectory: paths.queueDirectory, etc: etc, options: options, logger: logger)
            await milters?.stop()
            await rspamd?.stop()
            return error
        }
        guard status == 0 else {
            // postfix(1) prints its fatal errors only to a terminal (or the maillog, once it can
            // read main.cf): ask `postfix check` again under script(1), which provides one.
            if FileManager.default.isExecutableFile(atPath: "/usr/bin/script") {
                let command = [options.ipPath, "netns", "exec", namespace.name, options.postfixPath, "check"].map {
                    "'\($0)'"
                }.joined(separator: " ")
                _ = await run(
                    "/usr/bin/script", ["-qec", command, "/dev/null"], outputPath: outputPath,
                    timeout: options.startTimeout)
            }
            throw await fail(
                "`ip netns exec \(namespace.name) postfix start` failed (status \(status)); configuration in \(etc)/postfix"
            )
        }
        guard let pid = readMasterPID(queueDirectory: paths.queueDirectory) else {
            throw await fail("postfix started but \(paths.queueDirectory)/pid/master.pid names no process")
        }
        let deadline = clock.now + options.startTimeout
        while true {
            let sockets = ListeningSockets(
                procNetTCP: ["tcp", "tcp6"].compactMap {
                    try? String(contentsOfFile: "/proc/\(pid)/net/\($0)", encoding: .utf8)
                })
            let waiting = configuration.addresses.filter { !sockets.accepts($0, port: 25) }
            if waiting.isEmpty { break }
            if !isAlive(pid) {
                throw await fail("the Postfix master (pid \(pid)) exited during start-up")
            }
            if clock.now > deadline {
                throw await fail(
                    "Postfix did not listen on port 25 of \(waiting.map(\.description).joined(separator: ", ")) within \(options.startTimeout)"
                )
            }
            try? await Task.sleep(for: .milliseconds(2))
        }
        let startupTime = clock.now - began
        logger.debug(
            "postfix up", metadata: ["netns": "\(namespace.name)", "startup": "\(startupTime)", "master": "\(pid)"])
        let instance = PostfixInstance(
            namespace: namespace, directory: directory, paths: paths, etcDirectory: etc, options: options,
            startupTime: startupTime,
            masterPID: pid, configuration: configuration, rendered: rendered, logger: logger)
        instance.milters = milters
        instance.rspamd = rspamd
        return instance
    }

    /// Stops the master as `postfix stop` does (SIGTERM to the master; `postfix stop` itself when
    /// the master is unknown), then SIGKILL for whatever of this instance is left in the namespace
    /// after `Options.stopGrace`, then removes `/etc/netns/NAME`. Safe to call twice.
    public func stop() async {
        let alreadyStopped = lock.withLock { () -> Bool in
            defer { stopped = true }
            return stopped
        }
        guard !alreadyStopped else { return }
        await Self.teardown(
            namespace: namespace, queueDirectory: paths.queueDirectory, etc: etcDirectory, options: options,
            logger: logger)
        await milters?.stop()
        await rspamd?.stop()
    }

    /// The pids of this instance's processes still running.
    public var processes: [pid_t] {
        Self.instanceProcesses(namespace: namespace, masterPID: masterPID)
    }

    // MARK: Teardown

    static func teardown(
        namespace: NetworkNamespace, queueDirectory: String, etc: String, options: Options, logger: Logger
    ) async {
        let master = readMasterPID(queueDirectory: queueDirectory)
        if let master, processGroup(of: master) == master {
            // What `postfix stop` does (postfix-script: kill the master named in pid/master.pid; the
            // master then signals its process group), without the script's one-second sleeps.
            kill(master, SIGTERM)
        } else if FileManager.default.fileExists(atPath: etc + "/postfix/main.cf") {
            let status = await run(
                options.ipPath, ["netns", "exec", namespace.name, options.postfixPath, "stop"], outputPath: nil,
                timeout: options.stopGrace)
            if status != 0 {
                logger.debug(
                    "postfix stop failed; killing what is left",
                    metadata: ["netns": "\(namespace.name)", "status": "\(status)"])
            }
        }
        // The master exits once its daemons have their SIGTERM. A child it forked a moment before
        // may still be a "master" with SIGTERM blocked, waiting to exec, for about a second;
        // with the master gone nothing needs it, so it gets SIGKILL at once.
        let deadline = ContinuousClock.now + options.stopGrace
        while let master, isAlive(master), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(2))
        }
        var left = instanceProcesses(namespace: namespace, masterPID: master)
        for pid in left {
            logger.debug(
                "killing a Postfix process left after the master",
                metadata: ["pid": "\(pid)", "name": "\(daemonName(of: pid) ?? "?")"])
            kill(pid, SIGKILL)
        }
        let killDeadline = ContinuousClock.now + .seconds(1)
        while !left.isEmpty && ContinuousClock.now < killDeadline {
            try? await Task.sleep(for: .milliseconds(2))
            left = instanceProcesses(namespace: namespace, masterPID: master)
        }
        try? FileManager.default.removeItem(atPath: etc)
    }
}
