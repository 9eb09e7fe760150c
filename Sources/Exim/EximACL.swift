import DNSCore
import Policy
import Scenario
import SMTPProtocol

/// Why a case cannot run on Exim: its policy has no Exim equivalent here. Skipped with `reason`.
public struct EximUnsupported: Error, Sendable, Hashable, CustomStringConvertible {
    public var reason: String
    public init(reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// The scenario format's checks as Exim ACL statements (the Exim specification, chapter "Access
/// control lists"). Each check becomes statements whose conditions are true when the check
/// fails, answered with the spec's reply: Exim takes a code and text from `message` when it
/// starts with a code of the verb's class (`deny` 5xx, `defer` 4xx), so the codes are the spec's.
/// A DNS error inside a plain condition would make Exim defer with its own 451 "Temporary local
/// problem"; checks with lookups record their outcome first (`statements(for:hasSPF:)`) so that
/// they answer with the spec's temporary reply.
public enum EximACL {
    /// Macros the statements use (Exim macros are replaced in the text before it is parsed).
    public static let macros = [
        // The HELO is an address literal ([192.0.2.1], [IPv6:2001:db8::1]) or a bare address.
        #"MXH_HELO_IS_LITERAL = ${if or{ {isip{$sender_helo_name}} {and{ {match{$sender_helo_name}{\N^\[(.*)\]$\N}} {isip4{$1}} }} {and{ {match{$sender_helo_name}{\N^\[[iI][pP][vV]6:(.*)\]$\N}} {isip6{$1}} }} }{yes}{no}}"#,
        #"MXH_LITERAL_ADDRESS = ${sg{$sender_helo_name}{\N^\[([iI][pP][vV]6:)?(.*)\]$\N}{\$2}}"#,
        // Postfix's valid_hostname(): letters, digits, - and _ in dot-separated labels that do
        // not start or end with -, the last label not all digits.
        #"MXH_HELO_HOSTNAME = ${if and{ {match{$sender_helo_name}{\N^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$\N}} {!match{$sender_helo_name}{\N(^|\.)[0-9]+\.?$\N}} }{yes}{no}}"#,
    ]

    /// Why `policy` cannot be played by `installation`'s Exim, or nil.
    public static func unsupportedReason(_ policy: ReceiverPolicy, hasSPF: Bool) -> String? {
        if case .failure(let unsupported) = statements(for: policy, hasSPF: hasSPF) { return unsupported.reason }
        return nil
    }

    /// The policy's statements, in the policy's order (the first failing check answers).
    ///
    /// A check with DNS lookups first records its outcome in `$acl_m_mxh` with `warn` statements.
    /// A `warn` whose condition cannot be completed (a DNS error) is skipped (the Exim
    /// specification, chapter "Access control lists", section "ACL verbs"), so the variable keeps
    /// `temporary`, and the check then answers with the spec's temporary reply instead of Exim's
    /// own 451 "Temporary local problem".
    public static func statements(for policy: ReceiverPolicy, hasSPF: Bool) -> Result<String, EximUnsupported> {
        var out: [String] = []
        let sameLists = policy.ipv4 == policy.ipv6
        for family in sameLists ? [AddressFamily.ipv4] : AddressFamily.allCases {
            let gate =
                sameLists
                ? []
                : [
                    family == .ipv4
                        ? "condition = ${if isip4{$sender_host_address}}"
                        : "condition = ${if isip6{$sender_host_address}}"
                ]
            for check in policy.checks(for: family) {
                let comment = "  # check \(check.name) of \(sameLists ? "both families" : family.rawValue)"
                switch conditions(for: check, hasSPF: hasSPF) {
                case .failure(let unsupported):
                    return .failure(unsupported)
                case .success(.direct(let alternatives)):
                    out.append(comment)
                    for (outcome, lines) in alternatives {
                        guard let reply = reply(policy, check, outcome, family: family) else { continue }
                        out.append(statement(reply, gate + lines))
                    }
                case .success(.recorded(let pass, let fail)):
                    out.append(comment)
                    out.append(statement(nil, gate + ["set acl_m_mxh = temporary"]))
                    out.append(statement(nil, gate + pass + ["set acl_m_mxh = pass"]))
                    out.append(statement(nil, gate + fail + ["set acl_m_mxh = fail"]))
                    for outcome in [CheckOutcome.temporary, .fail] {
                        guard let reply = reply(policy, check, outcome, family: family) else { continue }
                        out.append(statement(reply, gate + ["condition = ${if eq{$acl_m_mxh}{\(outcome.rawValue)}}"]))
                    }
                }
            }
        }
        return .success(out.joined(separator: "\n"))
    }

    /// One statement: `deny` or `defer` with the reply, or `warn` without one.
    static func statement(_ reply: SMTPReply?, _ lines: [String]) -> String {
        guard let reply else { return (["  warn"] + lines.map { "       " + $0 }).joined(separator: "\n") }
        let verb = reply.code >= 500 ? "deny " : "defer"
        let message = ([String(reply.code)] + (reply.enhanced.map { [$0] } ?? []) + [reply.text]).joined(separator: " ")
        return (["  \(verb) message = \(message)"] + lines.map { "       " + $0 }).joined(separator: "\n")
    }

    enum Conditions {
        /// Statements answering when their conditions hold, per outcome.
        case direct([(CheckOutcome, [String])])
        /// Conditions true when the check passes and when it fails; neither completing (a DNS
        /// error) means temporary.
        case recorded(pass: [String], fail: [String])
    }

    static func conditions(for check: Check, hasSPF: Bool) -> Result<Conditions, EximUnsupported> {
        let notLiteral = "condition = ${if eq{MXH_HELO_IS_LITERAL}{no}}"
        switch check {
        case .ptr:
            // Like Postfix (smtpd_peer.c), a PTR name that is a numeric address counts as none.
            let named = "${if forany{<, ${lookup dnsdb{>, ptr=$sender_host_address}{$value}{}}}{!isip{$item}}{yes}{no}}"
            return .success(.recorded(pass: ["condition = \(named)"], fail: ["condition = ${if eq{\(named)}{no}}"]))
        case .fcrdns:
            // A PTR name whose addresses include the client's (verify = reverse_host_lookup).
            return .success(.recorded(pass: ["verify = reverse_host_lookup"], fail: ["!verify = reverse_host_lookup"]))
        case .heloValid:
            return .success(.direct([(.fail, [notLiteral, "condition = ${if eq{MXH_HELO_HOSTNAME}{no}}"])]))
        case .heloFQDN:
            return .success(
                .direct([
                    (.fail, [notLiteral, #"condition = ${if match{$sender_helo_name}{\N[^.]\.[^.]\N}{no}{yes}}"#])
                ]))
        case .heloResolves:
            let found =
                "${lookup dnsdb{a=$sender_helo_name}{yes}{${lookup dnsdb{aaaa=$sender_helo_name}{yes}{${lookup dnsdb{mx=$sender_helo_name}{yes}{no}}}}}}"
            return .success(
                .recorded(
                    pass: ["condition = ${if or{{eq{MXH_HELO_IS_LITERAL}{yes}}{eq{\(found)}{yes}}}}"],
                    fail: [notLiteral, "condition = ${if eq{\(found)}{no}}"]))
        case .heloMatches:
            // The HELO's addresses of the client's family, compared in Exim's normal IPv6 form.
            let matches =
                "${if isip4{$sender_host_address}"
                + "{${if forany{<, ${lookup dnsdb{>, a=$sender_helo_name}{$value}{}}}{eq{$item}{$sender_host_address}}{yes}{no}}}"
                + "{${if forany{<, ${lookup dnsdb{>, aaaa=$sender_helo_name}{$value}{}}}{eq{${ipv6norm:$item}}{${ipv6norm:$sender_host_address}}}{yes}{no}}}}"
            let literalMatches =
                "${if isip4{$sender_host_address}{${if eq{MXH_LITERAL_ADDRESS}{$sender_host_address}{yes}{no}}}"
                + "{${if and{{isip6{MXH_LITERAL_ADDRESS}}{eq{${ipv6norm:MXH_LITERAL_ADDRESS}}{${ipv6norm:$sender_host_address}}}}{yes}{no}}}}"
            return .success(
                .recorded(
                    pass: ["condition = ${if eq{MXH_HELO_IS_LITERAL}{yes}{\(literalMatches)}{\(matches)}}"],
                    fail: [
                        "condition = ${if eq{MXH_HELO_IS_LITERAL}{yes}{${if eq{\(literalMatches)}{yes}{no}{yes}}}{${if eq{\(matches)}{yes}{no}{yes}}}}"
                    ]))
        case .dnsbl(let zone):
            // A DNS error counts as not listed (Exim's dnslists, like Postfix's reject_rbl_client).
            return .success(.direct([(.fail, ["dnslists = \(zone)"])]))
        case .spf, .spfPass:
            guard hasSPF else {
                return .failure(
                    EximUnsupported(
                        reason:
                            "check \(check.name) needs SPF, which the unpacked Exim (exim4-daemon-light) is built without"
                    ))
            }
            if check == .spfPass {
                return .success(.direct([(.temporary, ["spf = temperror"]), (.fail, ["!spf = pass"])]))
            }
            return .success(
                .direct([(.temporary, ["spf = temperror"]), (.permerror, ["spf = permerror"]), (.fail, ["spf = fail"])])
            )
        case .dkim, .dmarc, .spfOrDKIM:
            return .failure(
                EximUnsupported(
                    reason:
                        "check \(check.name) is not translated for Exim (its DKIM verification and a DMARC module are not in exim4-daemon-light's ACLs here)"
                ))
        }
    }

    static func clientPlaceholder(_ family: AddressFamily) -> IPAddress {
        family == .ipv4 ? IPAddress(literal: "192.0.2.255") : IPAddress(literal: "2001:db8::ffff")
    }
    static let heloPlaceholder = "mxh-helo-placeholder.test"

    /// The spec's reply for `check` coming out as `outcome`, with Exim variables in place of the
    /// client address and HELO name, and everything else escaped for Exim's string expansion.
    static func reply(_ policy: ReceiverPolicy, _ check: Check, _ outcome: CheckOutcome, family: AddressFamily)
        -> SMTPReply?
    {
        let client = clientPlaceholder(family)
        guard let reply = policy.reply(for: check, outcome: outcome, client: client, helo: heloPlaceholder) else {
            return nil
        }
        let escaped = reply.text.replacing("\\", with: "\\\\").replacing("$", with: "\\$").replacing("\n", with: " ")
        let text = escaped.replacing("[\(client)]", with: "[$sender_host_address]").replacing(
            heloPlaceholder, with: "$sender_helo_name")
        return SMTPReply(code: reply.code, enhanced: reply.enhanced, text)
    }
}
