import DNSCore
import Foundation
import Logging
import Sandbox

/// A private Exim daemon (`exim4 -C CONF -bdf`) in a case's network namespace, with the case's
/// resolv.conf bind-mounted over /etc/resolv.conf in a mount namespace of its own (unshare(1)),
/// so it resolves through the world's unbound and the host's files stay untouched. Its spool and
/// logs are in the case's folder. `stop()` leaves no process of it.
public final class EximInstance: @unchecked Sendable {
    public let paths: EximPaths
    public let namespace: NetworkNamespace
    private let process: ManagedProcess
    private let lock = NSLock()
    private var stopped = false

    private init(paths: EximPaths, namespace: NetworkNamespace, process: ManagedProcess) {
        self.paths = paths
        self.namespace = namespace
        self.process = process
    }

    /// Writes the configuration under `caseDirectory/receiver`, starts the daemon and returns once it
    /// listens on port 25 of every receiver address. Throws `EximUnsupported` when the policy has
    /// no Exim equivalent (skip the case) and `DaemonStartError` when Exim does not start.
    public static func start(
        _ configuration: EximConfiguration, installation: EximInstallation, in namespace: NetworkNamespace,
        caseDirectory: String,
        resolver: ResolvConf, startTimeout: Duration = .seconds(10), logger: Logger
    ) async throws -> EximInstance {
        let directory = caseDirectory + "/receiver"
        let paths = EximPaths(under: directory)
        let text = try configuration.render(paths: paths, hasSPF: installation.hasSPF)
        let manager = FileManager.default
        guard let user = SystemAccounts.user(named: installation.user) else {
            throw DaemonStartError(
                daemon: "Exim",
                message: "no system user \(installation.user) (unpack_mtas in scripts/lib.sh creates it)", output: "")
        }
        let uid = user.uid, gid = user.gid
        do {
            for folder in [directory, paths.spoolDirectory, paths.logDirectory] {
                try manager.createDirectory(
                    atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            }
            // The daemon's reception processes run as the Exim user and write spool and logs.
            for folder in [paths.spoolDirectory, paths.logDirectory] { chown(folder, uid, gid) }
            try text.write(toFile: paths.configuration, atomically: true, encoding: .utf8)
            if let tls = configuration.tls {
                // The reception process, running as the Exim user, reads them.
                try manager.createDirectory(
                    atPath: paths.tlsDirectory, withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o700])
                chown(paths.tlsDirectory, uid, gid)
                for (path, contents) in tls.files(paths: paths) {
                    try contents.write(toFile: path, atomically: true, encoding: .utf8)
                    chown(path, uid, gid)
                    chmod(path, 0o600)
                }
            }
            try resolver.text.write(toFile: paths.resolvConf, atomically: true, encoding: .utf8)
        } catch {
            throw DaemonStartError(
                daemon: "Exim", message: "cannot write the Exim configuration in \(directory): \(error)", output: "")
        }
        let script = "mount --bind \"$1\" /etc/resolv.conf && exec \"$2\" -C \"$3\" -bdf"
        let process = try ManagedProcess.launch(
            "/usr/bin/unshare",
            [
                "--mount", "--propagation", "private", "/bin/sh", "-c", script, "exim", paths.resolvConf,
                installation.binary, paths.configuration,
            ],
            in: namespace, outputPath: paths.output)
        let instance = EximInstance(paths: paths, namespace: namespace, process: process)
        switch await process.waitUntilListening(on: configuration.addresses, timeout: startTimeout) {
        case .listening:
            break
        case .exited:
            let said = instance.said()
            await instance.stop()
            throw DaemonStartError(
                daemon: "Exim",
                message: "the Exim daemon exited during start-up; configuration in \(paths.configuration)", output: said
            )
        case .timedOut(let waiting):
            let said = instance.said()
            await instance.stop()
            throw DaemonStartError(
                daemon: "Exim",
                message:
                    "Exim did not listen on port 25 of \(waiting.map(\.description).joined(separator: ", ")) within \(startTimeout)",
                output: said)
        }
        logger.debug("exim up", metadata: ["netns": "\(namespace.name)", "pid": "\(process.pid)"])
        return instance
    }

    /// SIGTERM to the daemon (SIGKILL after a grace period), then whatever reception process of
    /// it is left. Safe to call twice.
    public func stop() async {
        let already = lock.withLock { () -> Bool in
            defer { stopped = true }
            return stopped
        }
        guard !already else { return }
        await process.stopWithDescendants()
    }

    /// The daemon's output, panic log and main log.
    func said() -> String {
        // Exim writes a configuration error to its output and to both logs: each line once.
        var seen = Set<Substring>()
        return [paths.output, paths.panicLog, paths.mainLog].compactMap {
            try? String(contentsOfFile: $0, encoding: .utf8)
        }
        .flatMap { $0.split(separator: "\n") }.filter { seen.insert($0).inserted }.joined(separator: "\n")
    }

    /// The main log so far.
    public var log: [String] {
        ((try? String(contentsOfFile: paths.mainLog, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// The main log's lines about `client` (Exim writes the address in brackets: `[192.0.2.1]`).
    public func sessionLog(client: IPAddress) -> [String] {
        log.filter { $0.contains("[\(client)]") }
    }

    /// Messages accepted from `client` (`<=` lines).
    public func messagesAccepted(from client: IPAddress) -> Int {
        sessionLog(client: client).filter { $0.contains(" <= ") }.count
    }
}
