#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import DNSCore
import Foundation
import Logging
import Sandbox

/// A position in the maillog, to read only what was logged after it (a shared instance serving
/// one case after another).
public struct PostfixLogMark: Sendable, Hashable, Comparable {
    public var offset: UInt64
    public static let start = PostfixLogMark(offset: 0)
    public static func < (lhs: PostfixLogMark, rhs: PostfixLogMark) -> Bool { lhs.offset < rhs.offset }
}

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
            dnsTimeoutSeconds: Int = 2, dnsAttempts: Int = 1, startTimeout: Duration = .seconds(10), stopGrace: Duration = .seconds(3),
            postfixPath: String = "/usr/sbin/postfix", ipPath: String = "/usr/sbin/ip", stockConfigDirectory: String = "/etc/postfix",
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

    private let lock = NSLock()
    private var _configuration: PostfixConfiguration
    private var _rendered: RenderedPostfixConfiguration
    private var stopped = false
    private let logger: Logger

    public var configuration: PostfixConfiguration { lock.withLock { _configuration } }
    public var rendered: RenderedPostfixConfiguration { lock.withLock { _rendered } }
    public var logPath: String { paths.logFile }

    private init(
        namespace: NetworkNamespace, directory: String, paths: PostfixPaths, etcDirectory: String, options: Options, startupTime: Duration,
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
        guard let entry = getpwnam("nobody") else { return (65534, 65534) }
        return (entry.pointee.pw_uid, entry.pointee.pw_gid)
    }

    /// Writes the configuration, starts Postfix in `namespace` and returns once port 25 listens on
    /// every receiver address. `caseDirectory` must be traversable by user postfix (mode 0755 from
    /// `ResourceRegistry.makeTemporaryDirectory`). Throws `PostfixConfigurationError` when the case
    /// cannot be configured (`.unsupported` means: skip it) and `PostfixInstanceError` when Postfix
    /// does not start.
    public static func start(
        _ configuration: PostfixConfiguration, in namespace: NetworkNamespace, caseDirectory: String, options: Options = Options(),
        logger: Logger = Logger(label: "mxharness.postfix")
    ) async throws -> PostfixInstance {
        guard FileManager.default.isExecutableFile(atPath: options.postfixPath) else {
            throw PostfixInstanceError(message: "postfix is not installed at \(options.postfixPath): install it with `apt-get install postfix` (Debian: as in scripts/lib.sh, with debconf set to \"No configuration\")")
        }
        let directory = caseDirectory + "/postfix"
        let paths = PostfixPaths(under: directory)
        let rendered = try configuration.render(paths: paths)
        for key in rendered.overridden {
            logger.notice("the harness owns this Postfix setting; the given value is ignored", metadata: ["setting": "\(key)"])
        }
        let etc = "/etc/netns/\(namespace.name)"
        guard !FileManager.default.fileExists(atPath: etc) else {
            throw PostfixInstanceError(message: "\(etc) exists already: namespace \(namespace.name) has a Postfix instance (one per namespace) or a stale one; stop it first")
        }
        do {
            try prepareDirectories(paths: paths, directory: directory, delivery: configuration.delivery, options: options)
            try writeFiles(rendered, into: etc, options: options)
        } catch let error as PostfixInstanceError {
            try? FileManager.default.removeItem(atPath: etc)
            throw error
        } catch {
            try? FileManager.default.removeItem(atPath: etc)
            throw PostfixInstanceError(message: "cannot write the Postfix configuration for namespace \(namespace.name): \(error)")
        }

        let clock = ContinuousClock()
        let began = clock.now
        let outputPath = directory + "/postfix.out"
        let status = await run(options.ipPath, ["netns", "exec", namespace.name, options.postfixPath, "start"], outputPath: outputPath, timeout: options.startTimeout)
        func said() -> String {
            let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            let log = (try? String(contentsOfFile: paths.logFile, encoding: .utf8)) ?? ""
            return output + log
        }
        func fail(_ message: String) async -> PostfixInstanceError {
            let error = PostfixInstanceError(message: message, output: said())
            await teardown(namespace: namespace, queueDirectory: paths.queueDirectory, etc: etc, options: options, logger: logger)
            return error
        }
        guard status == 0 else {
            // postfix(1) prints its fatal errors only to a terminal (or the maillog, once it can
            // read main.cf): ask `postfix check` again under script(1), which provides one.
            if FileManager.default.isExecutableFile(atPath: "/usr/bin/script") {
                let command = [options.ipPath, "netns", "exec", namespace.name, options.postfixPath, "check"].map { "'\($0)'" }.joined(separator: " ")
                _ = await run("/usr/bin/script", ["-qec", command, "/dev/null"], outputPath: outputPath, timeout: options.startTimeout)
            }
            throw await fail("`ip netns exec \(namespace.name) postfix start` failed (status \(status)); configuration in \(etc)/postfix")
        }
        guard let pid = readMasterPID(queueDirectory: paths.queueDirectory) else {
            throw await fail("postfix started but \(paths.queueDirectory)/pid/master.pid names no process")
        }
        let deadline = clock.now + options.startTimeout
        while true {
            let sockets = ListeningSockets(procNetTCP: ["tcp", "tcp6"].compactMap { try? String(contentsOfFile: "/proc/\(pid)/net/\($0)", encoding: .utf8) })
            let waiting = configuration.addresses.filter { !sockets.accepts($0, port: 25) }
            if waiting.isEmpty { break }
            if !isAlive(pid) {
                throw await fail("the Postfix master (pid \(pid)) exited during start-up")
            }
            if clock.now > deadline {
                throw await fail("Postfix did not listen on port 25 of \(waiting.map(\.description).joined(separator: ", ")) within \(options.startTimeout)")
            }
            try? await Task.sleep(for: .milliseconds(2))
        }
        let startupTime = clock.now - began
        logger.debug("postfix up", metadata: ["netns": "\(namespace.name)", "startup": "\(startupTime)", "master": "\(pid)"])
        return PostfixInstance(
            namespace: namespace, directory: directory, paths: paths, etcDirectory: etc, options: options, startupTime: startupTime,
            masterPID: pid, configuration: configuration, rendered: rendered, logger: logger)
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
        await Self.teardown(namespace: namespace, queueDirectory: paths.queueDirectory, etc: etcDirectory, options: options, logger: logger)
    }

    /// The pids of this instance's processes still running.
    public var processes: [pid_t] {
        Self.instanceProcesses(namespace: namespace, masterPID: masterPID)
    }

    // MARK: Log

    /// The maillog so far, as lines.
    public var log: [String] { PostfixLog(text: logText(since: .start)).lines }

    /// The end of the log now; pass it to `log(since:)` and `sessionLog(client:since:)` later.
    public func logMark() -> PostfixLogMark {
        let size = (try? FileManager.default.attributesOfItem(atPath: paths.logFile)[.size] as? NSNumber)?.uint64Value ?? 0
        return PostfixLogMark(offset: size)
    }

    public func log(since mark: PostfixLogMark) -> PostfixLog { PostfixLog(text: logText(since: mark)) }

    /// The lines of the smtpd sessions of `client` (with the lines of the messages they queued).
    public func sessionLog(client: IPAddress, since mark: PostfixLogMark = .start) -> [String] {
        log(since: mark).sessionLog(client: client)
    }

    /// The `NOQUEUE: reject: ...` line of `client`'s sessions, if any.
    public func rejectLine(client: IPAddress, since mark: PostfixLogMark = .start) -> String? {
        log(since: mark).rejectLine(client: client)
    }

    private func logText(since mark: PostfixLogMark) -> String {
        guard let handle = FileHandle(forReadingAtPath: paths.logFile) else { return "" }
        defer { try? handle.close() }
        try? handle.seek(toOffset: mark.offset)
        let data = (try? handle.readToEnd()) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    // MARK: Reuse

    /// After a case, before the instance serves another: waits until no smtpd of the instance runs
    /// (each exits after its one connection, `MasterCF.smtpdOverrides`), every session logged since
    /// `mark` has its `disconnect from` line (postlogd(8) writes what smtpd sent it a moment later)
    /// and the incoming and active queues are empty, so that the next case's log starts after this
    /// one's. Returns false when that did not happen within `timeout`: an smtpd may then still
    /// hold a connection or state of this case, and the instance should serve no other case.
    public func settle(since mark: PostfixLogMark, timeout: Duration = .seconds(5)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        var smtpdGone = false
        while ContinuousClock.now < deadline {
            smtpdGone = smtpdGone || !processes.contains { Self.daemonName(of: $0) == "smtpd" }
            if smtpdGone, log(since: mark).sessions.allSatisfy(\.isComplete), queuesAreEmpty { return true }
            try? await Task.sleep(for: .milliseconds(2))
        }
        // The queue is only about whose log lines come where; a running smtpd is about results.
        return smtpdGone && log(since: mark).sessions.allSatisfy(\.isComplete)
    }

    /// True when the master runs and nothing since `mark` says a daemon failed: a fatal error,
    /// a panic, or a daemon that exited abnormally, after which master(8) may throttle the service
    /// ("bad command startup -- throttling") and a following case would meet a slow or silent port 25.
    public func isHealthy(since mark: PostfixLogMark) -> Bool {
        guard Self.isAlive(masterPID) else { return false }
        let signs = [": fatal: ", ": panic: ", "-- throttling", " killed by signal ", ": warning: process "]
        return !log(since: mark).lines.contains { line in signs.contains { line.contains($0) } }
    }

    /// Nothing in `incoming` or `active`: every message this instance accepted has been handled.
    var queuesAreEmpty: Bool {
        for folder in ["incoming", "active"] {
            let path = paths.queueDirectory + "/" + folder
            guard let enumerator = FileManager.default.enumerator(atPath: path) else { continue }
            for case let entry as String in enumerator {
                var info = stat()
                if stat(path + "/" + entry, &info) == 0, info.st_mode & S_IFMT == S_IFREG { return false }
            }
        }
        return true
    }

    /// True when this running instance behaves exactly as one started for `configuration` would:
    /// the same main.cf and tables once rendered with this instance's paths.
    public func canServe(_ configuration: PostfixConfiguration) -> Bool {
        guard let other = try? configuration.render(paths: paths) else { return false }
        let mine = rendered
        return other.mainCF == mine.mainCF && other.files == mine.files
    }

    /// Switches the running instance to `configuration` with `postfix reload`, when it differs only
    /// in settings a reload applies (not in addresses or hostname, which need a restart), and
    /// returns once every smtpd started under the old configuration has exited, so the next
    /// connection is served by the new one. Run no session during the call.
    public func reconfigure(_ configuration: PostfixConfiguration) async throws {
        let current = self.configuration
        guard Set(configuration.addresses) == Set(current.addresses), configuration.hostname == current.hostname else {
            throw PostfixInstanceError(message: "reconfigure: a different hostname or address list needs a new instance (inet_interfaces changes need postfix stop and start)")
        }
        let newRendered = try configuration.render(paths: paths)
        if newRendered.mainCF == rendered.mainCF && newRendered.files == rendered.files {
            lock.withLock { _configuration = configuration }
            return
        }
        for (path, contents) in newRendered.files { try contents.write(toFile: path, atomically: true, encoding: .utf8) }
        try newRendered.mainCF.write(toFile: etcDirectory + "/postfix/main.cf", atomically: true, encoding: .utf8)
        Self.backdate(etcDirectory + "/postfix/main.cf")
        for path in newRendered.files.keys { Self.backdate(path) }
        let before = Set(processes.filter { Self.daemonName(of: $0) == "smtpd" })
        let outputPath = directory + "/postfix.out"
        let status = await Self.run(options.ipPath, ["netns", "exec", namespace.name, options.postfixPath, "reload"], outputPath: outputPath, timeout: options.startTimeout)
        guard status == 0 else {
            throw PostfixInstanceError(message: "`postfix reload` failed (status \(status))", output: (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "")
        }
        // After SIGHUP the master closes the old generation's status pipes and idle children
        // exit (master(8)); until they do, one of them could still accept a connection.
        let deadline = ContinuousClock.now + options.stopGrace
        while ContinuousClock.now < deadline {
            if Set(processes).isDisjoint(with: before) { break }
            try? await Task.sleep(for: .milliseconds(5))
        }
        for pid in Set(processes).intersection(before) { kill(pid, SIGKILL) }
        lock.withLock {
            _configuration = configuration
            _rendered = newRendered
        }
    }

    // MARK: Set-up and teardown

    static func prepareDirectories(paths: PostfixPaths, directory: String, delivery: PostfixDelivery, options: Options) throws {
        let fm = FileManager.default
        // Not with intermediate folders: a case folder removed meanwhile (the run interrupted)
        // must not come back.
        if !fm.fileExists(atPath: directory) {
            try fm.createDirectory(atPath: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        }
        // Postfix's daemons run as user postfix and must reach data_directory and the queue:
        // every parent folder has to be traversable ("open lock file ... Permission denied").
        var parent = directory
        while parent.count > 1 {
            var info = stat()
            if stat(parent, &info) == 0, info.st_mode & 0o001 == 0 {
                throw PostfixInstanceError(message: "\(parent) is not traversable by user postfix (mode \(String(info.st_mode & 0o7777, radix: 8))): the case folder and its parents need o+x")
            }
            parent = (parent as NSString).deletingLastPathComponent
        }
        try fm.createDirectory(atPath: paths.queueDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try fm.createDirectory(atPath: paths.tableDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try fm.createDirectory(atPath: paths.dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        guard let postfix = getpwnam("postfix") else {
            throw PostfixInstanceError(message: "there is no user postfix: reinstall Postfix (apt-get install --reinstall postfix)")
        }
        guard chown(paths.dataDirectory, postfix.pointee.pw_uid, postfix.pointee.pw_gid) == 0 else {
            throw PostfixInstanceError(message: "cannot give \(paths.dataDirectory) to user postfix: \(String(cString: strerror(errno))); run as root")
        }
        if options.quickStart {
            // What `post-install create-missing` would make, so that `postfix start` can skip its
            // integrity checks (postfix-script: a `quick-start` file in the queue directory), which
            // run some two hundred commands.
            guard let files = try? String(contentsOfFile: options.stockConfigDirectory + "/postfix-files", encoding: .utf8) else {
                throw PostfixInstanceError(message: "cannot read \(options.stockConfigDirectory)/postfix-files: is Postfix installed?")
            }
            for folder in QueueLayout(postfixFiles: files).folders {
                let path = folder.path.isEmpty ? paths.queueDirectory : paths.queueDirectory + "/" + folder.path
                try fm.createDirectory(atPath: path, withIntermediateDirectories: true)
                guard let user = getpwnam(folder.owner) else {
                    throw PostfixInstanceError(message: "postfix-files names user \(folder.owner) for \(path), which does not exist")
                }
                var gid = gid_t.max
                if let name = folder.group {
                    guard let group = getgrnam(name) else {
                        throw PostfixInstanceError(message: "postfix-files names group \(name) for \(path), which does not exist")
                    }
                    gid = group.pointee.gr_gid
                }
                guard chown(path, user.pointee.pw_uid, gid) == 0, chmod(path, mode_t(folder.mode)) == 0 else {
                    throw PostfixInstanceError(message: "cannot set owner and mode of \(path): \(String(cString: strerror(errno)))")
                }
            }
            _ = fm.createFile(atPath: paths.queueDirectory + "/quick-start", contents: nil)
        }
        if case .maildir(let uid, let gid) = delivery {
            try fm.createDirectory(atPath: paths.mailDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            guard chown(paths.mailDirectory, uid, gid) == 0 else {
                throw PostfixInstanceError(message: "cannot give \(paths.mailDirectory) to uid \(uid): \(String(cString: strerror(errno)))")
            }
        }
    }

    static func writeFiles(_ rendered: RenderedPostfixConfiguration, into etc: String, options: Options) throws {
        let fm = FileManager.default
        let stock = options.stockConfigDirectory
        guard let stockMaster = try? String(contentsOfFile: stock + "/master.cf", encoding: .utf8) else {
            throw PostfixInstanceError(message: "cannot read \(stock)/master.cf: is Postfix installed? (apt-get install postfix)")
        }
        let config = etc + "/postfix"
        try fm.createDirectory(atPath: config, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        // Everything else of the installed configuration (postfix-files*, dynamicmaps.cf*,
        // post-install, tables a base main.cf may name), since ours hides /etc/postfix.
        for entry in try fm.contentsOfDirectory(atPath: stock) where entry != "main.cf" && entry != "master.cf" {
            try fm.copyItem(atPath: stock + "/" + entry, toPath: config + "/" + entry)
        }
        try MasterCF.render(stock: stockMaster).write(toFile: config + "/master.cf", atomically: true, encoding: .utf8)
        try rendered.mainCF.write(toFile: config + "/main.cf", atomically: true, encoding: .utf8)
        for (path, contents) in rendered.files {
            try contents.write(toFile: path, atomically: true, encoding: .utf8)
        }
        // Only the world's unbound answers (resolv.conf(5)); /etc/hosts knows nothing but localhost.
        let resolv = "nameserver 127.0.0.1\noptions timeout:\(options.dnsTimeoutSeconds) attempts:\(options.dnsAttempts)\n"
        try resolv.write(toFile: etc + "/resolv.conf", atomically: true, encoding: .utf8)
        // The machine's own name stays in it, so that looking it up never reaches the world's DNS.
        let machine = ProcessInfo.processInfo.hostName
        let names = ["localhost"] + (machine.isEmpty || machine == "localhost" ? [] : [machine])
        let hosts = "127.0.0.1 \(names.joined(separator: " "))\n::1 localhost\n"
        try hosts.write(toFile: etc + "/hosts", atomically: true, encoding: .utf8)
        for file in ["resolv.conf", "hosts", "postfix/main.cf", "postfix/master.cf"] {
            chmod(etc + "/" + file, 0o644)
        }
        for entry in fm.enumerator(atPath: config)?.allObjects as? [String] ?? [] { backdate(config + "/" + entry) }
        for path in rendered.files.keys { backdate(path) }
    }

    static func teardown(namespace: NetworkNamespace, queueDirectory: String, etc: String, options: Options, logger: Logger) async {
        let master = readMasterPID(queueDirectory: queueDirectory)
        if let master, processGroup(of: master) == master {
            // What `postfix stop` does (postfix-script: kill the master named in pid/master.pid; the
            // master then signals its process group), without the script's one-second sleeps.
            kill(master, SIGTERM)
        } else if FileManager.default.fileExists(atPath: etc + "/postfix/main.cf") {
            let status = await run(options.ipPath, ["netns", "exec", namespace.name, options.postfixPath, "stop"], outputPath: nil, timeout: options.stopGrace)
            if status != 0 { logger.debug("postfix stop failed; killing what is left", metadata: ["netns": "\(namespace.name)", "status": "\(status)"]) }
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
            logger.debug("killing a Postfix process left after the master", metadata: ["pid": "\(pid)", "name": "\(daemonName(of: pid) ?? "?")"])
            kill(pid, SIGKILL)
        }
        let killDeadline = ContinuousClock.now + .seconds(1)
        while !left.isEmpty && ContinuousClock.now < killDeadline {
            try? await Task.sleep(for: .milliseconds(2))
            left = instanceProcesses(namespace: namespace, masterPID: master)
        }
        try? FileManager.default.removeItem(atPath: etc)
    }

    /// Sets a file's modification time a minute back. Postfix waits, 300 ms at a time, until a
    /// configuration file it loads is more than a second old ("pausing to let FILE cool down",
    /// dict_load_file_xt() in dict_file.c), which made every start take about two seconds.
    static func backdate(_ path: String) {
        var times = [timespec](repeating: timespec(), count: 2)
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        now.tv_sec -= 60
        times[0] = now
        times[1] = now
        _ = utimensat(AT_FDCWD, path, &times, 0)
    }

    static func readMasterPID(queueDirectory: String) -> pid_t? {
        guard let text = try? String(contentsOfFile: queueDirectory + "/pid/master.pid", encoding: .utf8) else { return nil }
        return pid_t(text.trimmingWhitespaceAndNewlines())
    }

    /// Processes in `namespace` that belong to this instance: the master's process group (the
    /// master calls setsid(2); its children inherit the group) or, without a master pid, any
    /// Postfix daemon there.
    static func instanceProcesses(namespace: NetworkNamespace, masterPID: pid_t?) -> [pid_t] {
        var target = stat()
        guard stat(namespace.path, &target) == 0 else { return [] }
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        var found: [pid_t] = []
        for entry in entries {
            guard let pid = pid_t(entry) else { continue }
            var info = stat()
            guard stat("/proc/\(pid)/ns/net", &info) == 0, info.st_ino == target.st_ino, info.st_dev == target.st_dev, isAlive(pid) else { continue }
            if let masterPID, processGroup(of: pid) == masterPID {
                found.append(pid)
            } else if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe"), exe.hasPrefix("/usr/lib/postfix/") {
                found.append(pid)
            }
        }
        return found
    }

    /// Field 5 of /proc/PID/stat (proc(5)); the command name in field 2 may hold spaces and parentheses.
    static func processGroup(of pid: pid_t) -> pid_t? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 2 else { return nil }
        return pid_t(fields[2])
    }

    /// Running, not a zombie: a process whose parent is init may stay a zombie for a while (seen
    /// under gVisor, whose init reaps late), and a zombie holds nothing.
    static func isAlive(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].split(separator: " ").first
        return state != "Z" && state != "X"
    }

    static func daemonName(of pid: pid_t) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { return nil }
        return String(stat[stat.index(after: open)..<close])
    }

    /// Runs a command to its end with output to a file, not a pipe: `postfix start` leaves the
    /// master running, and a master holding the pipe's write end would make a reader wait forever.
    static func run(_ executable: String, _ arguments: [String], outputPath: String?, timeout: Duration) async -> Int32 {
        await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            DispatchQueue.global().async {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: executable)
                process.arguments = arguments
                process.standardInput = FileHandle.nullDevice
                var handle: FileHandle?
                if let outputPath {
                    if !FileManager.default.fileExists(atPath: outputPath) { _ = FileManager.default.createFile(atPath: outputPath, contents: nil) }
                    handle = FileHandle(forWritingAtPath: outputPath)
                    _ = try? handle?.seekToEnd()
                }
                process.standardOutput = handle ?? FileHandle.nullDevice
                process.standardError = handle ?? FileHandle.nullDevice
                do {
                    try process.run()
                } catch {
                    if let handle { handle.write(Data("cannot run \(executable): \(error)\n".utf8)) }
                    continuation.resume(returning: -1)
                    return
                }
                let done = DispatchSemaphore(value: 0)
                DispatchQueue.global().async {
                    process.waitUntilExit()
                    done.signal()
                }
                let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
                if done.wait(timeout: .now() + seconds) == .timedOut {
                    kill(process.processIdentifier, SIGKILL)
                    done.wait()
                }
                try? handle?.close()
                continuation.resume(returning: process.terminationStatus)
            }
        }
    }
}
