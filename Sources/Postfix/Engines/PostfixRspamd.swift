import Foundation
import Logging
import Rspamd
import Sandbox

/// `receiver.engines: [rspamd]` on a Postfix instance: rspamd as its last milter (after the
/// policy's own milters), with the thresholds given and this machine's installation.
public struct PostfixRspamdEngine: Sendable, Hashable {
    /// `receiver.rspamd` by action name (`reject`, `soft_reject`, ...).
    public var actions: [String: Double]
    public var setup: RspamdSetup

    public init(actions: [String: Double] = [:], setup: RspamdSetup) {
        self.actions = actions
        self.setup = setup
    }

    /// The milter address smtpd connects to.
    public static var milter: String { "inet:127.0.0.1:\(RspamdConfiguration.milterPort)" }
}

/// One instance's rspamd, in milter mode, in its namespace (`RspamdDaemon`): its errors in
/// Postfix's terms. `stop()` leaves nothing running.
public final class PostfixRspamd: Sendable {
    public let daemon: RspamdDaemon
    public var configuration: RspamdConfiguration { daemon.configuration }

    private init(daemon: RspamdDaemon) {
        self.daemon = daemon
    }

    /// Starts rspamd for `engine` in `namespace` and returns once its milter listens and its
    /// regular expressions are in hyperscan.
    public static func start(
        _ engine: PostfixRspamdEngine, dnsTimeoutSeconds: Int, nameserver: String = "127.0.0.1",
        in namespace: NetworkNamespace, directory: String,
        ipPath: String,
        startTimeout: Duration = .seconds(600), logger: Logger
    ) async throws -> PostfixRspamd {
        if let reason = engine.setup.missingReason {
            throw PostfixConfigurationError.unsupported(PostfixUnsupported(reason: reason))
        }
        let configuration = RspamdConfiguration(
            actions: engine.actions, dnsTimeoutSeconds: dnsTimeoutSeconds, nameserver: nameserver,
            directory: directory, cacheDirectory: engine.setup.cacheDirectory, interface: .milter)
        do {
            return PostfixRspamd(
                daemon: try await RspamdDaemon.start(
                    configuration, setup: engine.setup, in: namespace, ipPath: ipPath, startTimeout: startTimeout,
                    logger: logger))
        } catch {
            throw PostfixInstanceError(message: error.message, output: error.output)
        }
    }

    /// What rspamd made of each message so far, from its log.
    public var scans: [RspamdScan] { daemon.scans }

    /// rspamd's main process and its workers stopped. Safe to call twice.
    public func stop() async {
        await daemon.stop()
    }
}
