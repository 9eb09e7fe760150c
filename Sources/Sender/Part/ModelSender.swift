import CertificateAuthority
import Delivery
import Runner
import Sandbox
import SMTPProtocol
import Scenario

/// The built-in sender (`sender.mta: builtin`): the `postfix` delivery model of the scenario
/// format, an NIO SMTP client connecting from the sender's real source addresses.
public struct ModelSenders: SenderKind {
    public var mta: SenderMTA { .builtin }
    public var displayName: String { "the delivery model" }

    public init() {}

    /// `sender.postfix`, the settings of Postfix's SMTP client it models.
    public var scenarioKeys: [ScenarioKey] { [ModelledPostfixSettings.scenarioKey] }

    public func unsupportedReason(for scenario: ScenarioCase, settings: RunConfiguration) -> String? { nil }

    /// The model connects from `sender.proxy_address` and writes the header or XCLIENT itself.
    public var writesProxyHeaders: Bool { true }

    public func makeSender(for scenario: ScenarioCase, settings: RunConfiguration) -> any Sender {
        ModelSender(
            request: Self.request(for: scenario.sender, settings: settings),
            level: scenario.sender.tls, authority: settings.authority, handshakeTimeout: settings.replyTimeout)
    }

    /// The delivery the model makes: `sender.postfix` settings it honours override `sender.prefer`
    /// and the defaults.
    public static func request(for sender: SenderSpec, settings: RunConfiguration) -> DeliveryRequest {
        let postfix = ModelledPostfixSettings(sender)
        return DeliveryRequest(
            sender, connectTimeout: settings.connectTimeout, replyTimeout: settings.replyTimeout,
            limits: postfix.limits, prefer: postfix.preference)
    }
}

struct ModelSender: Sender {
    let request: DeliveryRequest
    let level: TLSSecurityLevel
    let authority: RunAuthority
    /// Postfix's smtp_starttls_timeout is 300s; a case waits as long as for a reply.
    let handshakeTimeout: Duration
    /// Its connections end with the delivery.
    var runsInWarmWorlds: Bool { true }

    func start(in context: CaseContext) async throws -> any RunningSender {
        var request = request
        if level != .none {
            // The world's authority is trusted as a real sender trusts the public ones.
            request.tls = SenderTLS(
                level: level, trustAnchors: [try authority.authority().root], handshakeTimeout: handshakeTimeout)
        }
        return RunningModelSender(
            agent: DeliveryAgent(
                lookup: context.senderResolver, eventLoopGroup: context.eventLoopGroup, logger: context.logger),
            request: request, namespace: context.namespace)
    }
}

/// The delivery model's agent for one case; its connections end with the delivery.
struct RunningModelSender: RunningSender {
    let agent: DeliveryAgent
    let request: DeliveryRequest
    let namespace: NetworkNamespace

    func deliver() async throws -> DeliveryReport {
        await agent.deliver(request, in: namespace)
    }
}
