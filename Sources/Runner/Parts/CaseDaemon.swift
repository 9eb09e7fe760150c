import DNSCore
import Sandbox

/// A receiver daemon started for one case (a real MTA's own, a private process in the case's
/// namespace), whose log says what it did with each client.
public protocol CaseDaemon: Sendable {
    /// Stops it, leaving no process of it; safe to call twice.
    func stop() async
    /// Its log so far.
    var log: [String] { get }
    /// The log's lines about `client`'s sessions.
    func sessionLog(client: IPAddress) -> [String]
    /// The messages it accepted from `client`.
    func messagesAccepted(from client: IPAddress) -> Int
}

/// A `CaseDaemon` serving one case as its running receiver: what it saw of the clients is read
/// from its log once it has stopped.
public struct RunningCaseDaemon<Daemon: CaseDaemon>: RunningReceiver {
    public let daemon: Daemon

    public init(daemon: Daemon) {
        self.daemon = daemon
    }

    /// The daemon `start` starts. A daemon that does not start (`DaemonStartError`) fails the case
    /// with what it said; an error `unsupported` gives a reason for (the case's policy has no
    /// equivalent in the daemon's configuration) skips the case with it.
    public static func start(
        unsupported: (any Error) -> String?, _ start: () async throws -> Daemon
    ) async throws -> RunningCaseDaemon {
        do {
            return RunningCaseDaemon(daemon: try await start())
        } catch let error as DaemonStartError {
            throw ReceiverStartFailure(error, evidence: LogEvidence(log: error.output))
        } catch {
            if let reason = unsupported(error) { throw CaseSkipped(reason: reason) }
            throw error
        }
    }

    public func evidence(of clients: [IPAddress]) async -> any ReceiverEvidence {
        // Stopped first, so that every reception process has written its lines.
        await daemon.stop()
        return LogEvidence(
            log: clients.flatMap { daemon.sessionLog(client: $0) }.joined(separator: "\n"),
            messagesAccepted: clients.map { daemon.messagesAccepted(from: $0) }.reduce(0, +))
    }

    public func failureEvidence() async -> (any ReceiverEvidence)? {
        LogEvidence(log: daemon.log.joined(separator: "\n"))
    }

    public func stop(clean: Bool) async {
        await daemon.stop()
    }
}
