import DNSCore
import Policy
import SMTPProtocol

/// Why a case cannot run on OpenSMTPD: its policy has no OpenSMTPD equivalent. Skipped with `reason`.
public struct OpenSMTPDUnsupported: Error, Sendable, Hashable, CustomStringConvertible {
    public var reason: String
    public init(reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// The scenario format's checks as OpenSMTPD's built-in filters (smtpd.conf(5), "MAIL
/// FILTERING"): `filter NAME phase rcpt-to match !fcrdns reject "550 ..."`, chained in the
/// policy's order so that the first failing check answers.
public enum OpenSMTPDFilters {
    /// The tables the filters name (source families, HELO regexes), as smtpd.conf lines.
    public static let tables = [
        "table mxh_ipv4 { 0.0.0.0/0 }",
        "table mxh_ipv6 { ::/0 }",
        // A dot between two other characters, or an address literal.
        #"table mxh_helo_fqdn { "[^.][.][^.]", "^[[]" }"#,
    ]

    /// The name of the chain `listen` uses, when the policy has checks.
    public static let chain = "mxh_policy"

    public static func unsupportedReason(_ policy: ReceiverPolicy, dnsFaults: Bool) -> String? {
        if case .failure(let unsupported) = filters(for: policy, dnsFaults: dnsFaults) { return unsupported.reason }
        return nil
    }

    /// The filter lines, the chain last; empty when the policy checks nothing.
    public static func filters(for policy: ReceiverPolicy, dnsFaults: Bool) -> Result<[String], OpenSMTPDUnsupported> {
        // The reply phase: RCPT, or the end of DATA (`commit`) for reject_at: data.
        let phase = policy.rejectAt == .data ? "commit" : "rcpt-to"
        var lines: [String] = []
        var names: [String] = []
        let sameLists = policy.ipv4 == policy.ipv6
        for family in sameLists ? [AddressFamily.ipv4] : AddressFamily.allCases {
            for check in policy.checks(for: family) {
                let condition: String
                switch check {
                case .ptr, .fcrdns:
                    // smtp_session.c keeps "<unknown>" as the name when the lookup fails for any
                    // reason, so a DNS error is answered as a missing name, never deferred.
                    if dnsFaults {
                        return .failure(OpenSMTPDUnsupported(
                            reason: "check \(check.name) with DNS faults: OpenSMTPD answers a failed reverse lookup as a missing name (no temporary answer)"))
                    }
                    condition = check == .ptr ? "!rdns" : "!fcrdns"
                case .heloFQDN:
                    condition = "!helo regex <mxh_helo_fqdn>"
                case .heloValid:
                    return .failure(OpenSMTPDUnsupported(
                        reason: "check helo-valid: OpenSMTPD answers an invalid HELO name itself with 501 at HELO (smtp_session.c), before any filter"))
                case .heloResolves, .heloMatches:
                    return .failure(OpenSMTPDUnsupported(reason: "check \(check.name): no built-in OpenSMTPD filter looks the HELO name up"))
                case .dnsbl:
                    return .failure(OpenSMTPDUnsupported(
                        reason: "check \(check.name): OpenSMTPD 6.8 has no built-in DNSBL filter (filter-dnsbl is a separate program)"))
                case .spf, .spfPass:
                    return .failure(OpenSMTPDUnsupported(reason: "check \(check.name): OpenSMTPD has no built-in SPF filter"))
                }
                guard let reply = reply(policy, check, family: family) else { continue }
                let name = "mxh_\(names.count + 1)"
                names.append(name)
                let source = sameLists ? "" : "src <mxh_\(family.rawValue)> "
                lines.append("filter \"\(name)\" phase \(phase) match \(source)\(condition) reject \"\(reply)\"")
            }
        }
        guard !names.isEmpty else { return .success([]) }
        lines.append("filter \"\(chain)\" chain { \(names.map { "\"\($0)\"" }.joined(separator: ", ")) }")
        return .success(lines)
    }

    /// The spec's failure reply, as one quoted-safe line. OpenSMTPD cannot put the client
    /// address or HELO name into a filter's reply, so `[ADDR]` and `<HELO>` are left out of the text.
    static func reply(_ policy: ReceiverPolicy, _ check: Check, family: AddressFamily) -> String? {
        let client = family == .ipv4 ? IPAddress("192.0.2.255")! : IPAddress("2001:db8::ffff")!
        let helo = "mxh-helo-placeholder.test"
        guard let reply = policy.reply(for: check, outcome: .fail, client: client, helo: helo) else { return nil }
        let text = reply.text.replacing(", [\(client)]", with: "").replacing(" [\(client)]", with: "").replacing("[\(client)]", with: "")
            .replacing("<\(helo)>: ", with: "").replacing("\"", with: "'").replacing("\n", with: " ")
        return ([String(reply.code)] + (reply.enhanced.map { [$0] } ?? []) + [text]).joined(separator: " ")
    }
}
