import Foundation
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
        if let signing = Self.signing(for: scenario) {
            if let reason = OpenDKIMSignerInstallation().missingReason(for: signing) { return reason }
            if signing.algorithm == "ed25519-sha256" {
                // Seen: OpenDKIM 2.11 (Debian 12) given the case's Ed25519 key (PKCS#8 PEM) signs,
                // and the receiver's verifier answers 5.7.20 (no valid signature).
                return "sender.dkim.algorithm: ed25519-sha256 is not signed by the real Postfix sender: OpenDKIM 2.11 given the case's Ed25519 key makes signatures that do not verify"
            }
        }
        return scenario.sender.message?.raw == nil ? nil : rawMessageReason("Postfix")
    }

    public func unavailableReason(settings: RunConfiguration) -> String? {
        PostfixSendingMTA.unavailableReason()
    }

    public func makeSender(for scenario: ScenarioCase, settings: RunConfiguration) -> any Sender {
        // The message goes in unsigned: OpenDKIM signs it as the sender queues it.
        var unsigned = scenario.sender
        unsigned.dkim = nil
        return MTASender<PostfixSendingMTA>(
            request: DeliveryRequest(unsigned, connectTimeout: settings.connectTimeout, replyTimeout: settings.replyTimeout),
            settings: PostfixSenderSettings(main: scenario.sender.postfix, signing: Self.signing(for: scenario)),
            tls: (scenario.sender.tls, settings.authority))
    }

    /// `sender.dkim` as OpenDKIM's signing (the key is the one the runner prepared), nil without it.
    static func signing(for scenario: ScenarioCase) -> OpenDKIMSigning? {
        let sender = scenario.sender
        guard let dkim = sender.dkim else { return nil }
        let breakage: OpenDKIMSigning.Breakage?
        switch dkim.breakage {
        case .none: breakage = nil
        case .expired: breakage = .expired
        case .bodyChanged:
            let body = sender.messageText(date: Date(timeIntervalSince1970: 0), messageID: "x").components(separatedBy: "\r\n\r\n").dropFirst()
                .joined(separator: "\r\n\r\n")
            let last = body.components(separatedBy: "\r\n").last(where: { !$0.isEmpty }) ?? ""
            breakage = .bodyChanged(lastBodyLine: last)
        case .headerChanged:
            let names = sender.messageHeaderNames
            breakage = .headerChanged(header: names.last(where: { dkim.headers.contains($0.lowercased()) }) ?? "Subject")
        }
        return OpenDKIMSigning(
            domain: sender.dkimDomain(dkim), selector: dkim.selector, algorithm: dkim.algorithm.rawValue,
            canonicalization: dkim.canonicalization.description, headers: dkim.headers, expireAfter: dkim.expireAfter,
            keyPEM: dkim.key?.pem ?? "", breakage: breakage)
    }
}
