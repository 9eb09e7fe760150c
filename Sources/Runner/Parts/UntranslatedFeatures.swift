import DNSCore
import Policy
import Scenario

/// Scenario keys that describe Postfix's own behaviour, which the built-in MX and the Postfix
/// target model and the policy translations for other MTAs do not (yet) express: such a case is
/// skipped on those MTAs with the reason, never run against a receiver that means something else.
public func untranslatedFeature(of scenario: ScenarioCase, on mta: String) -> String? {
    if scenario.receiver.policy.rejectAt == .greeting {
        return
            "reject_at: greeting is not translated for \(mta) (the built-in MX answers at the greeting; the case's expect is written for that)"
    }
    if let mode = scenario.receiver.bareNewline {
        return
            "receiver.bare_newline: \(mode) is Postfix's smtpd_forbid_bare_newline mode; \(mta) handles a bare <LF> its own way"
    }
    if scenario.expect.messagesAccepted != nil {
        return "expect.messages_accepted is counted on the built-in MX and Postfix only"
    }
    return untranslatedIdentity(of: scenario, on: mta) ?? unrunEngines(of: scenario, on: mta)
}

/// `receiver.engines` that `mta` does not run (all of them, unless `runs` names some): such a case
/// is skipped, never run without the engine its expect counts on.
public func unrunEngines(of scenario: ScenarioCase, on mta: String, runs: Set<ReceiverEngine> = []) -> String? {
    let missing = scenario.receiver.engines.filter { !runs.contains($0) }
    guard !missing.isEmpty else { return nil }
    let names = missing.map(\.rawValue).joined(separator: ", ")
    return
        "receiver.engines: \(names): \(mta) runs no such engine beside it (docs/format-extensions.md says which receiver does)"
}

/// `receiver.tls` (STARTTLS and its certificate) is set up on the built-in MX only, so far.
public func untranslatedTLS(of scenario: ScenarioCase, on mta: String) -> String? {
    guard scenario.receiver.tls.starttls else { return nil }
    return "receiver.tls is not yet set up for \(mta) (STARTTLS with the world's certificates runs on the built-in MX)"
}

/// `sender.identity` other than socket, `receiver.proxy_protocol`, `receiver.xclient_hosts`: the
/// expect of such a case says what Postfix does on that path (smtpd_upstream_proxy_protocol,
/// smtpd_authorized_xclient_hosts), which is not set up for `mta`.
public func untranslatedIdentity(of scenario: ScenarioCase, on mta: String) -> String? {
    if let proxy = scenario.receiver.proxyProtocol {
        return
            "receiver.proxy_protocol: \(proxy) is not set up for \(mta) (the built-in MX and Postfix take PROXY headers)"
    }
    if !scenario.receiver.xclientHosts.isEmpty {
        return "receiver.xclient_hosts is Postfix's smtpd_authorized_xclient_hosts; \(mta) has no XCLIENT"
    }
    if scenario.sender.identity != .socket {
        return
            "sender.identity: \(scenario.sender.identity) is answered as Postfix answers it; \(mta) is not set up for it"
    }
    return nil
}

extension ScenarioCase {
    /// The recipient domains of the case, each once, in the order written: what a real receiver
    /// accepts mail for.
    public var recipientDomains: [String] {
        var domains: [String] = []
        for recipient in sender.rcptTo {
            if let at = recipient.lastIndex(of: "@") {
                let domain = DNSName.normalize(recipient[recipient.index(after: at)...])
                if !domains.contains(domain) { domains.append(domain) }
            }
        }
        return domains
    }
}
