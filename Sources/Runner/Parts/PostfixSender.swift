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

    public func makeSender(for scenario: ScenarioCase, settings: RunConfiguration) -> any Sender {
        PostfixSender(
            request: DeliveryRequest(scenario.sender, connectTimeout: settings.connectTimeout, replyTimeout: settings.replyTimeout),
            settings: scenario.sender.postfix)
    }
}

final class PostfixSender: Sender, @unchecked Sendable {
    let request: DeliveryRequest
    let settings: [String: String]
    private var mta: PostfixSendingMTA?

    init(request: DeliveryRequest, settings: [String: String]) {
        self.request = request
        self.settings = settings
    }

    func deliver(in environment: CaseEnvironment) async throws -> DeliveryReport {
        let mta = PostfixSendingMTA(
            namespaceName: environment.namespace.name, caseDirectory: environment.directory,
            resolverAddress: environment.resolverAddress, logger: environment.logger)
        self.mta = mta
        // Every address may be tried (smtp_mx_address_limit, 5 by default), each up to the connect
        // timeout and a few reply timeouts, and DNS lookups before that.
        let perAddress = request.connectTimeout + request.replyTimeout * 2
        return try await mta.deliver(request, settings: settings, outcomeTimeout: .seconds(15) + perAddress * 5)
    }

    func stop() async {
        await mta?.stop()
    }
}

/// Why a real MTA cannot send `sender.message.raw`: it takes the message through its own
/// submission path and sends it with its own line endings and end of data.
func rawMessageReason(_ mta: String) -> String {
    "sender.message.raw is sent byte for byte by the built-in sender only: \(mta) sends a message with line endings and an end of data of its own"
}
