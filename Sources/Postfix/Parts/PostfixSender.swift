import DNSCore
import Delivery
import Logging
import Runner
import Scenario

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

extension PostfixSendingMTA: SendingMTA {
    public static var artifactFiles: [String: String] {
        ["postfix-sender/maillog": "sender-postfix-maillog", "postfix-sender/etc/main.cf": "sender-postfix-main.cf"]
    }

    public convenience init(namespaceName: String, caseDirectory: String, resolverAddress: IPAddress, dnsTimeout: Duration, logger: Logger) {
        var options = Options()
        options.dnsTimeoutSeconds = ResolvConf.timeoutSeconds(for: dnsTimeout)
        self.init(namespaceName: namespaceName, caseDirectory: caseDirectory, resolverAddress: resolverAddress, options: options, logger: logger)
    }

    /// Every address may be tried (smtp_mx_address_limit, 5 by default), each up to the connect
    /// timeout and a few reply timeouts, and DNS lookups before that.
    public func deliver(_ request: DeliveryRequest, settings: [String: String]) async throws -> DeliveryReport {
        let perAddress = request.connectTimeout + request.replyTimeout * 2
        return try await deliver(request, settings: settings, outcomeTimeout: .seconds(15) + perAddress * 5)
    }
}
