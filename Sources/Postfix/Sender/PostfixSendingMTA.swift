import DNSCore
import Foundation
import Logging
import SMTPProtocol
import Sandbox
import Delivery

/// A Postfix that sends one message from a case's namespace: `postfix -c DIR start` with the
/// files of `PostfixSenderConfiguration`, the message injected with its `sendmail`, the outcome read
/// from its maillog once every recipient has a `status=` line (one queue run: a deferred message
/// is reported, not waited on), and what is left in its queue from `postqueue -j`.
///
/// It coexists with a receiver Postfix in the same namespace (another config directory, another
/// queue). It resolves through the namespace's `/etc/resolv.conf`, which `ip netns exec` takes from
/// `/etc/netns/NAME/resolv.conf`: the receiver Postfix's when there is one, else one written here
/// (and removed by `stop`).
public final class PostfixSendingMTA: @unchecked Sendable {
    public struct Options: Sendable {
        public var postfixPath = "/usr/sbin/postfix"
        public var sendmailPath = "/usr/sbin/sendmail"
        public var postqueuePath = "/usr/sbin/postqueue"
        public var ipPath = "/usr/sbin/ip"
        public var stockConfigDirectory = "/etc/postfix"
        /// resolv.conf(5) `timeout:` and `attempts:` when this sender writes it.
        public var dnsTimeoutSeconds = 2
        public var dnsAttempts = 1
        public var startTimeout: Duration = .seconds(10)
        public var stopGrace: Duration = .seconds(3)

        public init() {}
    }

    public let namespaceName: String
    public let paths: PostfixSenderConfiguration.Paths
    public let resolverAddress: IPAddress
    public let options: Options
    private let logger: Logger
    private let lock = NSLock()
    private var masterPID: pid_t?
    private var ownedEtc: String?
    private var signer: SigningMilter?
    private var stopped = false

    public init(
        namespaceName: String, caseDirectory: String, resolverAddress: IPAddress, options: Options = Options(),
        logger: Logger
    ) {
        self.namespaceName = namespaceName
        self.paths = .init(root: caseDirectory + "/postfix-sender")
        self.resolverAddress = resolverAddress
        self.options = options
        self.logger = logger
    }

    /// What the namespace's resolv.conf says when this sender writes it.
    public var resolvConf: ResolvConf {
        ResolvConf(
            nameserver: resolverAddress.description, timeoutSeconds: options.dnsTimeoutSeconds,
            attempts: options.dnsAttempts)
    }

    /// Why a Postfix sender cannot run on this machine, nil when it can.
    public static func unavailableReason(options: Options = Options()) -> String? {
        for path in [options.postfixPath, options.sendmailPath, options.postqueuePath]
        where !FileManager.default.isExecutableFile(atPath: path) {
            return "the Postfix sender needs \(path): install Postfix (apt-get install postfix)"
        }
        if geteuid() != 0 { return "the Postfix sender needs root (it starts Postfix in the case's namespace)" }
        return nil
    }

    /// Starts the instance, sends `request`'s message and reports what its log says. With
    /// `signing`, its milter (OpenDKIM or dkimpy-milter) signs the message as it is queued (`DKIMSigning`).
    public func deliver(
        _ request: DeliveryRequest, settings: [String: String], signing: DKIMSigning? = nil,
        signerInstallation: SignerInstallation = SignerInstallation(), outcomeTimeout: Duration
    ) async throws -> DeliveryReport {
        var signing = signing
        // cleanup(8) reaches the signer only in a family of inet_protocols, which are the sender's.
        signing?.loopback = request.sources[.ipv4] == nil ? .ipv6 : .ipv4
        let clock = ContinuousClock()
        var mark = clock.now
        func phase(_ name: String) {
            logger.debug("postfix sender", metadata: ["phase": "\(name)", "took": "\(clock.now - mark)"])
            mark = clock.now
        }
        try prepare(request, settings: settings, signing: signing)
        phase("files")
        if let signing {
            let signer = try await SigningMilter.start(
                signing, installation: signerInstallation, namespace: namespaceName, directory: paths.signerDirectory,
                ipPath: options.ipPath,
                logger: logger)
            let late = lock.withLock { () -> Bool in
                if stopped { return true }
                self.signer = signer
                return false
            }
            if late {
                await signer.stop()
                throw CancellationError()
            }
            phase("signer start")
        }
        try await start()
        phase("postfix start")
        try await inject(request)
        phase("sendmail")
        let log = await waitForOutcome(recipients: request.recipients, timeout: outcomeTimeout)
        phase("delivery")
        let queue = (try? await Command.run(options.postqueuePath, ["-c", paths.configDirectory, "-j"])) ?? ""
        phase("postqueue -j")
        var notes: [String] = []
        if log.statuses.count < request.recipients.count {
            notes.append("Postfix had not logged every recipient's status in time")
        }
        let queued = queue.split(separator: "\n").filter { !$0.isEmpty }.count
        if queued > 0 { notes.append("left in the Postfix sender's queue: \(queued) message(s)") }
        return log.report(for: request, notes: notes)
    }

    /// The maillog so far.
    public var logText: String { (try? String(contentsOfFile: paths.logFile, encoding: .utf8)) ?? "" }

    // MARK: Steps

    private func prepare(_ request: DeliveryRequest, settings: [String: String], signing: DKIMSigning?) throws {
        let fm = FileManager.default
        guard
            let stockMaster = try? String(contentsOfFile: options.stockConfigDirectory + "/master.cf", encoding: .utf8),
            let postfixFiles = try? String(
                contentsOfFile: options.stockConfigDirectory + "/postfix-files", encoding: .utf8)
        else {
            throw SenderMTAError(
                "cannot read \(options.stockConfigDirectory)/master.cf and postfix-files: is Postfix installed? (apt-get install postfix)"
            )
        }
        do {
            try fm.createDirectory(
                atPath: paths.root, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
            try fm.createDirectory(
                atPath: paths.configDirectory, withIntermediateDirectories: false,
                attributes: [.posixPermissions: 0o755])
            for entry in try fm.contentsOfDirectory(atPath: options.stockConfigDirectory)
            where entry != "main.cf" && entry != "master.cf" {
                try fm.copyItem(
                    atPath: options.stockConfigDirectory + "/" + entry, toPath: paths.configDirectory + "/" + entry)
            }
            try PostfixSenderConfiguration.mainCF(request, settings: settings, paths: paths, signing: signing)
                .write(toFile: paths.configDirectory + "/main.cf", atomically: true, encoding: .utf8)
            if let signing {
                // The breakage's check tables beside the signer's files (written when it starts).
                try fm.createDirectory(
                    atPath: paths.signerDirectory, withIntermediateDirectories: false,
                    attributes: [.posixPermissions: 0o755])
                for (name, text) in signing.checkTables {
                    try text.write(toFile: paths.signerDirectory + "/" + name, atomically: true, encoding: .utf8)
                    PostfixInstance.backdate(paths.signerDirectory + "/" + name)
                }
            }
            if let authority = PostfixSenderConfiguration.authorityPEM(request) {
                try authority.write(toFile: paths.authorityFile, atomically: true, encoding: .utf8)
            }
            try PostfixSenderConfiguration.masterCF(stock: stockMaster).write(
                toFile: paths.configDirectory + "/master.cf", atomically: true, encoding: .utf8)
            try fm.createDirectory(
                atPath: paths.dataDirectory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            try makeQueue(postfixFiles: postfixFiles)
            _ = fm.createFile(atPath: paths.logFile, contents: nil, attributes: [.posixPermissions: 0o644])
            // Postfix pauses until a table file it loads is over a second old (dict_file.c).
            for entry in fm.enumerator(atPath: paths.configDirectory)?.allObjects as? [String] ?? [] {
                PostfixInstance.backdate(paths.configDirectory + "/" + entry)
            }
        } catch let error as SenderMTAError {
            throw error
        } catch {
            throw SenderMTAError("cannot write the Postfix sender's files under \(paths.root): \(error)")
        }
        let owned = try NamespaceResolvConf(
            namespaceName: namespaceName, resolvConf: resolvConf
        ).ensure()
        lock.withLock { ownedEtc = owned }
    }

    /// The queue folders as `post-install create-missing` makes them, so `postfix start` can skip
    /// its integrity checks (a `quick-start` file in the queue directory).
    private func makeQueue(postfixFiles: String) throws {
        let fm = FileManager.default
        // SystemAccounts, not getpwnam(3): senders and receivers are set up on several threads at
        // once, and getpwnam(3) answers them all in one static buffer.
        guard let postfix = SystemAccounts.user(named: "postfix") else {
            throw SenderMTAError("there is no user postfix: reinstall Postfix")
        }
        chown(paths.dataDirectory, postfix.uid, postfix.gid)
        for folder in QueueLayout(postfixFiles: postfixFiles).folders {
            let path = folder.path.isEmpty ? paths.queueDirectory : paths.queueDirectory + "/" + folder.path
            try fm.createDirectory(atPath: path, withIntermediateDirectories: true)
            guard let user = SystemAccounts.user(named: folder.owner) else {
                throw SenderMTAError("postfix-files names user \(folder.owner), which does not exist")
            }
            var gid = gid_t.max
            if let name = folder.group {
                guard let group = SystemAccounts.groupID(named: name) else {
                    throw SenderMTAError("postfix-files names group \(name), which does not exist")
                }
                gid = group
            }
            guard chown(path, user.uid, gid) == 0, chmod(path, mode_t(folder.mode)) == 0 else {
                throw SenderMTAError("cannot set owner and mode of \(path): \(String(cString: strerror(errno)))")
            }
        }
        _ = fm.createFile(atPath: paths.queueDirectory + "/quick-start", contents: nil)
    }

    private func start() async throws {
        do {
            try await Command.run(
                options.ipPath,
                ["netns", "exec", namespaceName, options.postfixPath, "-c", paths.configDirectory, "start"])
        } catch {
            throw SenderMTAError("the Postfix sender did not start: \(error)\n\(logText)")
        }
        guard let text = try? String(contentsOfFile: paths.queueDirectory + "/pid/master.pid", encoding: .utf8),
            let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else {
            throw SenderMTAError(
                "the Postfix sender started but \(paths.queueDirectory)/pid/master.pid names no process\n\(logText)")
        }
        lock.withLock { masterPID = pid }
    }

    private func inject(_ request: DeliveryRequest) async throws {
        // sendmail(1) reads lines; -i keeps a lone "." from ending the message.
        let message = String(decoding: request.message, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
        do {
            try await Command.run(
                options.sendmailPath, ["-C", paths.configDirectory, "-i", "-f", request.mailFrom] + request.recipients,
                input: message)
        } catch {
            throw SenderMTAError("the Postfix sender's sendmail did not take the message: \(error)")
        }
    }

    /// Reads the log until every recipient has a status line, or `timeout`.
    private func waitForOutcome(recipients: [String], timeout: Duration) async -> PostfixDeliveryLog {
        let deadline = ContinuousClock.now + timeout
        while true {
            let lines = logText.split(separator: "\n").map(String.init)
            let log = PostfixDeliveryLog(lines: lines)
            let done = recipients.allSatisfy { log.status(of: $0) != nil }
            if done { return PostfixDeliveryLog(lines: Self.linesOfTheMessage(lines, recipients: recipients)) }
            if ContinuousClock.now >= deadline { return log }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// The lines up to the last status line of the case's recipients. What follows is other mail:
    /// a bounced message makes bounce(8) send a non-delivery notice to the envelope sender at
    /// once, and smtp(8)'s tries to deliver it would read as more attempts of the case.
    public static func linesOfTheMessage(_ lines: [String], recipients: [String]) -> [String] {
        let addresses = recipients.map { "to=<\($0.lowercased())>" }
        guard
            let last = lines.lastIndex(where: { line in
                let lowered = line.lowercased()
                return lowered.contains(" status=") && addresses.contains { lowered.contains($0) }
            })
        else { return lines }
        return Array(lines[...last])
    }

    // MARK: Stop

    /// SIGTERM to the master (as `postfix stop`), SIGKILL to its process group after the grace
    /// time, and `/etc/netns/NAME` removed when this sender wrote it. Safe to call twice.
    public func stop() async {
        let (master, etc, signer, already) = lock.withLock { () -> (pid_t?, String?, SigningMilter?, Bool) in
            defer { stopped = true }
            return (masterPID, ownedEtc, self.signer, stopped)
        }
        guard !already else { return }
        let began = ContinuousClock.now
        defer { logger.debug("postfix sender", metadata: ["phase": "stop", "took": "\(ContinuousClock.now - began)"]) }
        if let master {
            kill(master, SIGTERM)
            let deadline = ContinuousClock.now + options.stopGrace
            while PostfixInstance.isAlive(master), ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(5))
            }
            // The master signals its group on exit; whatever is left goes now.
            kill(-master, SIGKILL)
        }
        await signer?.stop()
        if let etc { try? FileManager.default.removeItem(atPath: etc) }
    }
}
