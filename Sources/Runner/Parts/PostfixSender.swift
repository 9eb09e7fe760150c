import Scenario
import Sender
import SenderMTAs

/// `sender.mta: postfix`: a real Postfix in the case's namespace sends the scenario's message
/// (`PostfixSendingMTA`), with `sender.postfix` settings on top of the harness's.
public struct PostfixSenders: SenderKind {
    public var mta: SenderMTA { .postfix }

    public init() {}

    public func unsupportedReason(for scenario: ScenarioCase, settings: RunConfiguration) -> String? {
        if let reason = PostfixSendingMTA.unavailableReason() { return reason }
        if let reason = proxiedSenderReason(scenario, "Postfix") { return reason }
        return scenario.sender.message?.raw == nil ? nil : rawMessageReason("Postfix")
    }

    public func unavailableReason(settings: RunConfiguration) -> String? {
        PostfixSendingMTA.unavailableReason()
    }

    public func makeSender(for scenario: ScenarioCase, settings: RunConfiguration) -> any Sender {
        MTASender<PostfixSendingMTA>(
            request: DeliveryRequest(scenario.sender, connectTimeout: settings.connectTimeout, replyTimeout: settings.replyTimeout),
            settings: scenario.sender.postfix, tls: (scenario.sender.tls, settings.authority))
    }
}
