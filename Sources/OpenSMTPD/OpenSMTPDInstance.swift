import DNSCore
import Foundation
import Logging
import Sandbox

/// A private OpenSMTPD (`smtpd -d -f CONF`) in a case's network namespace. Its spool
/// (/var/spool/smtpd) and control socket (/run/smtpd.sock) paths are built in, so it runs in a
/// mount namespace of its own (unshare(1)) where a tmpfs covers /var/spool and /run, the case's
/// spool folder is bind-mounted at /var/spool/smtpd and the case's resolv.conf over
/// /etc/resolv.conf: the host's spool, socket and resolver stay untouched, and the mounts go with
/// the daemon's last process.
public final class OpenSMTPDInstance: @unchecked Sendable {
    public let paths: OpenSMTPDPaths
    private let process: ManagedProcess
    private let lock = NSLock()
    private var stopped = false

    private init(paths: OpenSMTPDPaths, process: ManagedProcess) {
        self.paths = paths
        self.process = process
    }

    public static func start(
        _ configuration: OpenSMTPDConfiguration, installation: OpenSMTPDInstallation, in namespace: NetworkNamespace,
        caseDirectory: String, resolver: ResolvConf, startTimeout: Duration = .seconds(10), logger: Logger
    ) async throws -> OpenSMTPDInstance {
        let directory = caseDirectory + "/receiver"
        let paths = OpenSMTPDPaths(under: directory)
        let text = try configuration.render(paths: paths)
        let manager = FileManager.default
        do {
            try manager.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            // smtpd refuses a spool that is not root's with mode 0711.
            try manager.createDirectory(
                atPath: paths.spoolDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
            chmod(paths.spoolDirectory, 0o711)
            try text.write(toFile: paths.configuration, atomically: true, encoding: .utf8)
            if let tls = configuration.tls {
                // Read by the parent process, as root, before it drops privileges.
                try manager.createDirectory(
                    atPath: paths.tlsDirectory, withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o700])
                chmod(paths.tlsDirectory, 0o700)
                for (path, contents) in tls.files(directory: paths.tlsDirectory) {
                    try contents.write(toFile: path, atomically: true, encoding: .utf8)
                    chmod(path, 0o600)
                }
                if tls.required {
                    try OpenSMTPDTLS.requiredFilterScript.write(
                        toFile: paths.requiredFilter, atomically: true, encoding: .utf8)
                    chmod(paths.requiredFilter, 0o755)
                }
            }
            // libasr reads the name server only: its waits are its own (`ResolvConf`).
            try resolver.text.write(toFile: paths.resolvConf, atomically: true, encoding: .utf8)
        } catch {
            throw DaemonStartError(
                daemon: "OpenSMTPD", message: "cannot write the OpenSMTPD configuration in \(directory): \(error)",
                output: "")
        }
        let script = """
            mount -t tmpfs mxh-spool /var/spool && mkdir -m 711 /var/spool/smtpd && mount --bind "$1" /var/spool/smtpd \
            && mount -t tmpfs mxh-run /run && mount --bind "$2" /etc/resolv.conf && exec "$3" -d -f "$4"
            """
        let process = try ManagedProcess.launch(
            "/usr/bin/unshare",
            [
                "--mount", "--propagation", "private", "/bin/sh", "-c", script, "smtpd", paths.spoolDirectory,
                paths.resolvConf, installation.binary,
                paths.configuration,
            ],
            in: namespace, outputPath: paths.log)
        let instance = OpenSMTPDInstance(paths: paths, process: process)
        let why: String
        switch await process.waitUntilListening(on: configuration.addresses, timeout: startTimeout) {
        case .listening:
            logger.debug("opensmtpd up", metadata: ["netns": "\(namespace.name)", "pid": "\(process.pid)"])
            return instance
        case .exited:
            why = "OpenSMTPD exited during start-up"
        case .timedOut(let waiting):
            why =
                "OpenSMTPD did not listen on port 25 of \(waiting.map(\.description).joined(separator: ", ")) within \(startTimeout)"
        }
        await instance.stop()
        throw DaemonStartError(
            daemon: "OpenSMTPD", message: why + "; configuration in \(paths.configuration)",
            output: instance.log.joined(separator: "\n"))
    }

    /// SIGTERM to the parent process (which stops its privilege-separated children), then
    /// SIGKILL for whatever of it is left. Safe to call twice.
    public func stop() async {
        let already = lock.withLock { () -> Bool in
            defer { stopped = true }
            return stopped
        }
        guard !already else { return }
        await process.stopWithDescendants()
    }

    /// The daemon's log so far.
    public var log: [String] {
        ((try? String(contentsOfFile: paths.log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// The lines of `client`'s sessions: smtpd names the address once (`smtp connected
    /// address=IP`) and the session by its id on every line.
    public func sessionLog(client: IPAddress) -> [String] {
        let lines = log
        var sessions = Set<Substring>()
        for line in lines where line.contains(" smtp connected address=\(client) ") {
            if let id = line.split(separator: " ").first { sessions.insert(id) }
        }
        return lines.filter { line in line.split(separator: " ").first.map { sessions.contains($0) } ?? false }
    }

    /// Messages accepted from `client`.
    public func messagesAccepted(from client: IPAddress) -> Int {
        Self.messagesAccepted(inSessionLog: sessionLog(client: client))
    }

    /// The messages a session log says smtpd took: one `smtp message msgid=... size=... nrcpt=...`
    /// line each, logged when the message is committed to the queue (smtp_session.c
    /// `smtp_tx_commit`); a refused one gets `smtp failed-command` instead.
    public static func messagesAccepted(inSessionLog lines: [String]) -> Int {
        lines.filter { $0.contains(" smtp message msgid=") }.count
    }
}
