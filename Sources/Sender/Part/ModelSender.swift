import CertificateAuthority
import Delivery
import Runner
import SMTPProtocol
import Scenario

/// The built-in sender (`sender.mta: builtin`): the `postfix` delivery model of the scenario
/// format, an NIO SMTP client connecting from the sender's real source addresses.
public struct ModelSenders: SenderKind {
    public var mta: SenderMTA { .builtin }
    public var displayName: String { "the delivery model" }

    public init() {}

    public func unsupportedReason(for scenario: ScenarioCase, settings: RunConfiguration) -> String? { nil }

    /// The model connects from `sender.proxy_address` and writes the header or XCLIENT itself.
    public var writesProxyHeaders: Bool { true }

    public func makeSender(for scenario: ScenarioCase, settings: RunConfiguration) -> any Sender {
        ModelSender(
            request: DeliveryRequest(
                scenario.sender, connectTimeout: settings.connectTimeout, replyTimeout: settings.replyTimeout),
            level: scenario.sender.tls, authority: settings.authority, handshakeTimeout: settings.replyTimeout)
    }
}

final class ModelSender: Sender {
    let request: DeliveryRequest
    let level: TLSSecurityLevel
    let authority: RunAuthority
    /// Postfix's smtp_starttls_timeout is 300s; a case waits as long as for a reply.
    let handshakeTimeout: Duration
    /// Its connections end with the delivery.
    var runsInWarmWorlds: Bool { true }

    init(request: DeliveryRequest, level: TLSSecurityLevel, authority: RunAuthority, handshakeTimeout: Duration) {
        self.request = request
        self.level = level
        self.authority = authority
        self.handshakeTimeout = handshakeTimeout
    }

    func deliver(in context: CaseContext) async throws -> DeliveryReport {
        var request = request
        if level != .none {
            // The world's authority is trusted as a real sender trusts the public ones.
            request.tls = SenderTLS(
                level: level, trustAnchors: [try authority.authority().root], handshakeTimeout: handshakeTimeout)
        }
        let agent = DeliveryAgent(
            lookup: context.senderResolver, eventLoopGroup: context.eventLoopGroup, logger: context.logger)
        return await agent.deliver(request, in: context.namespace)
    }
}
