import Scenario
import Sender
import SenderMTAs

/// `sender.mta: exim`: Exim 4 from Debian's packages (unpacked, not installed) sends the scenario's
/// message from the case's namespace (`EximSendingMTA`), `sender.exim` options on its transport.
public struct EximSenders: SenderKind {
    public var mta: SenderMTA { .exim }

    public init() {}

    public func unsupportedReason(for scenario: ScenarioCase, settings: RunConfiguration) -> String? {
        if let reason = EximSendingMTA.unavailableReason() { return reason }
        if let reason = proxiedSenderReason(scenario, "Exim") { return reason }
        if let reason = untranslatedSenderTLS(of: scenario, on: "Exim") { return reason }
        if scenario.sender.message?.raw != nil { return rawMessageReason("Exim") }
        if scenario.sender.dkim != nil { return "sender.dkim: Exim's dkim_* transport options are not set up yet" }
        // Exim tries a host's IPv6 addresses first and has no setting to prefer IPv4 (short of
        // not looking AAAA up at all, dns_ipv4_lookup).
        if scenario.sender.prefer == .ipv4, scenario.sender.addresses.count == 2 {
            return "Exim cannot prefer IPv4 over IPv6 (sender.prefer: ipv4)"
        }
        if !scenario.sender.postfix.isEmpty, !scenario.sender.postfix.keys.allSatisfy({ $0 == "smtp_address_preference" && scenario.sender.postfix[$0] == "ipv6" }) {
            return "sender.postfix settings (\(scenario.sender.postfix.keys.sorted().joined(separator: ", "))) have no Exim equivalent here"
        }
        return nil
    }

    public func makeSender(for scenario: ScenarioCase, settings: RunConfiguration) -> any Sender {
        MTASender<EximSendingMTA>(
            request: DeliveryRequest(scenario.sender, connectTimeout: settings.connectTimeout, replyTimeout: settings.replyTimeout),
            settings: scenario.sender.exim)
    }
}
