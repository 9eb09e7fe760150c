import DNSCore

/// A client whose identity another host vouched for: Postfix after `XCLIENT` does no DNS lookup
/// for the client's name (smtpd.c `xclient_cmd()` sets `name`, `reverse_name` and their status
/// codes from the command) and its checks read what it was told.
public enum VouchedName: Sendable, Hashable {
    /// `NAME=host`: the name is taken as verified (PTR and forward confirmation both pass).
    case verified(String)
    /// `NAME=[UNAVAILABLE]`: the name lookup failed for good. Postfix changes only `name` (the
    /// forward-confirmed name); `reverse_name` keeps what it was.
    case unavailable
    /// `NAME=[TEMPUNAVAIL]`: the name lookup failed for now (a 450 from the name checks).
    case temporarilyUnavailable
    /// No `NAME`: the names found before (the proxy's own) are kept.
    case kept
}

extension PolicyEngine {
    /// The opening for `client` when `name` was vouched for, starting from `before` (the findings
    /// of the connection so far: the proxy's). Nothing is looked up for the client's identity;
    /// the other checks (DNSBL, SPF) look up `client` as usual.
    public func opening(client: IPAddress, vouched name: VouchedName, before: PolicyFindings?) -> PolicyOpening {
        var findings = PolicyFindings(client: client)
        let keptPTR = before?.ptr ?? PTRFinding(names: [], error: "not looked up")
        let keptFCrDNS = before?.fcrdns ?? FCrDNSFinding(reason: "not looked up")
        switch name {
        case .verified(let host):
            findings.ptr = PTRFinding(names: [host])
            findings.fcrdns = FCrDNSFinding(
                confirmedName: host, reason: "XCLIENT NAME, taken as verified (not looked up)")
        case .unavailable:
            findings.ptr = keptPTR
            findings.fcrdns = FCrDNSFinding(reason: "XCLIENT NAME=[UNAVAILABLE]")
        case .temporarilyUnavailable:
            findings.ptr = keptPTR
            findings.fcrdns = FCrDNSFinding(reason: "XCLIENT NAME=[TEMPUNAVAIL]", isTemporary: true)
        case .kept:
            findings.ptr = keptPTR
            findings.fcrdns = keptFCrDNS
            if let name = keptFCrDNS.confirmedName {
                findings.fcrdns = FCrDNSFinding(
                    confirmedName: name,
                    reason: "the proxy's name, kept (XCLIENT without NAME; nothing looked up for \(client))")
            }
        }
        let entry = ClientIdentityMemo.Entry(findings: findings, expires: .now + .seconds(86_400 * 365))
        return PolicyOpening(engine: self, client: client, identity: entry)
    }
}
