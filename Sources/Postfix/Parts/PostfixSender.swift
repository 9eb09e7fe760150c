import Foundation
import DNSCore
import Delivery
import Logging
import Runner
import Scenario

/// `sender.mta: postfix`: a real Postfix in the case's namespace sends the scenario's message
/// (`PostfixSendingMTA`), with `sender.postfix` settings on top of the harness's.
public struct PostfixSenders: SenderKind {
    public var mta: SenderMTA { .postfix }
    public var resolvesThroughNamespaceResolvConf: Bool { true }
    public var displayName: String { "Postfix" }

    public init() {}

    public func unsupportedReason(for scenario: ScenarioCase, settings: RunConfiguration) -> String? {
        if let reason = PostfixSendingMTA.unavailableReason() { return reason }
        if let signing = Self.signing(for: scenario) {
            if let reason = SignerInstallation().missingReason(for: signing) { return reason }
        }
        return scenario.sender.message?.raw == nil ? nil : rawMessageReason("Postfix")
    }

    public func unavailableReason(settings: RunConfiguration) -> String? {
        PostfixSendingMTA.unavailableReason()
    }

    public func makeSender(for scenario: ScenarioCase, settings: RunConfiguration) -> any Sender {
        // The message goes in unsigned: the signing milter signs it as the sender queues it.
        var unsigned = scenario.sender
        unsigned.dkim = nil
        return MTASender<PostfixSendingMTA>(
            request: DeliveryRequest(
                unsigned, connectTimeout: settings.connectTimeout, replyTimeout: settings.replyTimeout),
            settings: PostfixSenderSettings(main: scenario.sender.postfix, signing: Self.signing(for: scenario)),
            tls: (scenario.sender.tls, settings.authority))
    }

    /// `sender.dkim` as the signing milter's work (the key is the one the runner prepared), nil without it.
    static func signing(for scenario: ScenarioCase) -> DKIMSigning? {
        let sender = scenario.sender
        guard let dkim = sender.dkim else { return nil }
        let breakage: DKIMSigning.Breakage?
        switch dkim.breakage {
        case .none: breakage = nil
        case .expired: breakage = .expired
        case .bodyChanged:
            let body = sender.messageText(date: Date(timeIntervalSince1970: 0), messageID: "x").components(
                separatedBy: "\r\n\r\n"
            ).dropFirst()
                .joined(separator: "\r\n\r\n")
            let last = body.components(separatedBy: "\r\n").last(where: { !$0.isEmpty }) ?? ""
            breakage = .bodyChanged(lastBodyLine: last)
        case .headerChanged:
            let names = sender.messageHeaderNames
            breakage = .headerChanged(
                header: names.last(where: { dkim.headers.contains($0.lowercased()) }) ?? "Subject")
        }
        return DKIMSigning(dkim: dkim, domain: sender.dkimDomain(dkim), breakage: breakage)
    }
}

extension PostfixSendingMTA: SendingMTA {
    public static var artifactFiles: [String: String] {
        ["postfix-sender/maillog": "sender-postfix-maillog", "postfix-sender/etc/main.cf": "sender-postfix-main.cf"]
    }

    public convenience init(
        namespaceName: String, caseDirectory: String, resolverAddress: IPAddress, dnsTimeout: Duration, logger: Logger
    ) {
        var options = Options()
        options.dnsTimeoutSeconds = ResolvConf.timeoutSeconds(for: dnsTimeout)
        self.init(
            namespaceName: namespaceName, caseDirectory: caseDirectory, resolverAddress: resolverAddress,
            options: options, logger: logger)
    }

    /// Every address may be tried (smtp_mx_address_limit, 5 by default), each up to the connect
    /// timeout and a few reply timeouts, and DNS lookups before that.
    public func deliver(_ request: DeliveryRequest, settings: PostfixSenderSettings) async throws -> DeliveryReport {
        let perAddress = request.connectTimeout + request.replyTimeout * 2
        return try await deliver(
            request, settings: settings.main, signing: settings.signing, outcomeTimeout: .seconds(15) + perAddress * 5)
    }
}

/// What a scenario sets on a real Postfix sender: `sender.postfix`, and `sender.dkim` as the signing milter's work.
public struct PostfixSenderSettings: Sendable {
    public var main: [String: String]
    public var signing: DKIMSigning?

    public init(main: [String: String] = [:], signing: DKIMSigning? = nil) {
        self.main = main
        self.signing = signing
    }
}
