#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import DNSCore
import Foundation
import Logging
import Sandbox

/// rspamd could not be started, or stopped while starting: what went wrong, and what it said.
public struct RspamdError: Error, Sendable, CustomStringConvertible {
    public var message: String
    /// rspamd's own output and log, when it wrote any.
    public var output: String

    public init(message: String, output: String = "") {
        self.message = message
        self.output = output
    }

    public var description: String { output.isEmpty ? message : message + "\n" + output }
}

/// Lets one caller at a time through, in order of arrival.
actor RspamdStartGate {
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func enter() async {
        if !busy {
            busy = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func leave() {
        if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
    }
}

/// The process's rspamd starts, one at a time.
let startGate = RspamdStartGate()

/// One receiver's rspamd, running in the case's namespace through `ip netns exec` (so rspamd's main
/// process, which resolves through resolv.conf, and its workers, which ask the configured name
/// server on port 53, both reach only the world's unbound). `stop()` leaves nothing running.
public final class RspamdDaemon: @unchecked Sendable {
    public let configuration: RspamdConfiguration
    private let process: ManagedProcess

    private init(configuration: RspamdConfiguration, process: ManagedProcess) {
        self.configuration = configuration
        self.process = process
    }

    /// Starts rspamd with `configuration` in `namespace` and returns once its worker listens and
    /// its regular expressions are in hyperscan. A first start on a machine (an empty cache)
    /// compiles the hyperscan databases first, which takes from ten seconds to a minute on a busy
    /// machine; later ones load them.
    public static func start(
        _ configuration: RspamdConfiguration, setup: RspamdSetup, in namespace: NetworkNamespace,
        ipPath: String = "/usr/sbin/ip", startTimeout: Duration = .seconds(600), logger: Logger
    ) async throws(RspamdError) -> RspamdDaemon {
        if let reason = setup.missingReason { throw RspamdError(message: reason) }
        let directory = configuration.directory
        let fm = FileManager.default
        guard let user = SystemAccounts.user(named: setup.user) else {
            throw RspamdError(message: setup.missingReason ?? "no user \(setup.user)")
        }
        do {
            try fm.createDirectory(
                atPath: directory + "/local.d", withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o755])
            for (relative, text) in configuration.files {
                try text.write(toFile: directory + "/" + relative, atomically: true, encoding: .utf8)
                chmod(directory + "/" + relative, 0o644)
            }
            for folder in configuration.writableDirectories {
                try fm.createDirectory(
                    atPath: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
                guard chown(folder, user.uid, user.gid) == 0 else {
                    throw RspamdError(
                        message: "cannot give \(folder) to user \(setup.user): \(String(cString: strerror(errno)))")
                }
            }
            try prepareCache(configuration.cacheDirectory, user: user)
        } catch let error as RspamdError {
            throw error
        } catch {
            throw RspamdError(message: "cannot write rspamd's configuration in \(directory): \(error)")
        }
        // One start at a time in this process, up to the loaded database: with a cold cache the
        // first compiles it and the others then load it, instead of each compiling its own copy
        // into the shared folder (hs_helper also prunes files it does not know from that folder).
        await startGate.enter()
        defer { Task { await startGate.leave() } }
        let output = directory + "/rspamd.out"
        let process: ManagedProcess
        do {
            process = try ManagedProcess.launch(
                ipPath,
                ["netns", "exec", namespace.name, setup.executable]
                    + configuration.arguments(user: setup.user, group: setup.group),
                in: nil, outputPath: output)
        } catch {
            throw RspamdError(message: "cannot start \(setup.executable): \(error)")
        }
        let said = {
            ((try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
                + ((try? String(contentsOfFile: configuration.logPath, encoding: .utf8)) ?? "")
        }
        let loopback = IPAddress("127.0.0.1")!
        switch await process.waitUntilListening(on: [loopback], port: configuration.port, timeout: startTimeout) {
        case .listening:
            break
        case .exited:
            throw RspamdError(message: "rspamd exited during start-up (configuration in \(directory))", output: said())
        case .timedOut:
            await process.stopWithDescendants(grace: .seconds(3))
            throw RspamdError(
                message: "rspamd did not listen on 127.0.0.1:\(configuration.port) within \(startTimeout)",
                output: said())
        }
        // With an empty or partial cache, hs_helper compiles the regular expressions after the
        // worker listens (seconds), and scans use PCRE meanwhile; stopping the instance first would
        // leave the cache partial for every later start. So the first instance waits for its
        // database (a kept cache has it before the worker listens: `full hyperscan database of
        // 172 regexps has been loaded` from the main process).
        let clock = ContinuousClock()
        let deadline = clock.now + startTimeout
        while !((try? String(contentsOfFile: configuration.logPath, encoding: .utf8)) ?? "").contains(
            Self.hyperscanLoaded)
        {
            guard process.isRunning else {
                throw RspamdError(
                    message: "rspamd exited while compiling its hyperscan cache (configuration in \(directory))",
                    output: said())
            }
            guard clock.now < deadline else {
                logger.warning(
                    "rspamd's hyperscan cache is not compiled yet: its scans use PCRE",
                    metadata: ["cache": "\(configuration.cacheDirectory)"])
                break
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        logger.debug("rspamd up", metadata: ["netns": "\(namespace.name)", "pid": "\(process.pid)"])
        return RspamdDaemon(configuration: configuration, process: process)
    }

    /// What rspamd 3.4 logs once its regular expressions are in hyperscan: loaded from the cache,
    /// or compiled by hs_helper (`rspamd_re_cache_load_hyperscan`).
    static let hyperscanLoaded = "full hyperscan database of "

    /// The cache folder, made on first use, its owner the workers' user (hs_helper writes the
    /// compiled databases there; rspamd's main process writes some as root).
    static func prepareCache(_ path: String, user: SystemAccounts.User) throws(RspamdError) {
        let fm = FileManager.default
        if !fm.fileExists(atPath: path) {
            do {
                try fm.createDirectory(
                    atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            } catch {
                throw RspamdError(message: "cannot make rspamd's cache folder \(path): \(error)")
            }
        }
        guard chown(path, user.uid, user.gid) == 0 else {
            throw RspamdError(
                message:
                    "cannot give rspamd's cache \(path) to its workers' user (uid \(user.uid)): \(String(cString: strerror(errno)))"
            )
        }
    }

    /// What rspamd made of each message so far, from its log.
    public var scans: [RspamdScan] {
        RspamdScan.scans(inLog: (try? String(contentsOfFile: configuration.logPath, encoding: .utf8)) ?? "")
    }

    /// rspamd's main process and its workers stopped (SIGTERM, which it answers in about two
    /// seconds; SIGKILL after three). Safe to call twice.
    public func stop() async {
        await process.stopWithDescendants(grace: .seconds(3))
    }
}
