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

/// The scenario format's checks as Exim ACL statements (Exim specification, chapter 42 "Access
/// control lists"). Each check becomes statements whose conditions are true when the check
/// fails, answered with the spec's reply: Exim takes a code and text from `message` when it
/// starts with a code of the verb's class (`deny` 5xx, `defer` 4xx), so the codes are the spec's.
/// A DNS error inside a condition makes Exim defer with its own 451 "Temporary local problem"
/// instead of the spec's 450 text: the same class, a different code, shown by `parity`.
public enum EximACL {
    /// Macros the statements use (Exim macros are replaced in the text before it is parsed).
    public static let macros = [
        // The HELO is an address literal ([192.0.2.1], [IPv6:2001:db8::1]) or a bare address.
        #"MXH_HELO_LITERAL = ${if or{ {isip{$sender_helo_name}} {and{ {match{$sender_helo_name}{\N^\[(.*)\]$\N}} {isip4{$1}} }} {and{ {match{$sender_helo_name}{\N^\[[iI][pP][vV]6:(.*)\]$\N}} {isip6{$1}} }} }{yes}{no}}"#,
        #"MXH_HELO_LITERAL_ADDRESS = ${sg{$sender_helo_name}{\N^\[([iI][pP][vV]6:)?(.*)\]$\N}{\$2}}"#,
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
    public static func statements(for policy: ReceiverPolicy, hasSPF: Bool) -> Result<String, EximUnsupported> {
        var out: [String] = []
        let sameLists = policy.ipv4 == policy.ipv6
        for family in sameLists ? [AddressFamily.ipv4] : AddressFamily.allCases {
            let gate = sameLists ? nil : family == .ipv4 ? "${if isip4{$sender_host_address}}" : "${if isip6{$sender_host_address}}"
            for check in policy.checks(for: family) {
                switch conditions(for: check, hasSPF: hasSPF) {
                case .failure(let unsupported):
                    return .failure(unsupported)
                case .success(let alternatives):
                    for (outcome, lines) in alternatives {
                        guard let reply = reply(policy, check, outcome, family: family) else { continue }
                        let verb = reply.code >= 500 ? "deny" : "defer"
                        var statement = ["\(verb)  message = " + ([String(reply.code)] + (reply.enhanced.map { [$0] } ?? []) + [reply.text]).joined(separator: " ")]
                        statement.append("      # check \(check.name) of \(sameLists ? "both families" : family.rawValue)")
                        if let gate { statement.append("      condition = \(gate)") }
                        statement += lines.map { "      " + $0 }
                        out.append(statement.joined(separator: "\n"))
                    }
                }
            }
        }
        return .success(out.joined(separator: "\n"))
    }

    /// Sets of conditions, each true when the check comes out as its outcome.
    static func conditions(for check: Check, hasSPF: Bool) -> Result<[(CheckOutcome, [String])], EximUnsupported> {
        let notLiteral = "condition = ${if eq{MXH_HELO_LITERAL}{no}}"
        switch check {
        case .ptr:
            // dnsdb finds no PTR: fail; the lookup defers on a DNS error: the ACL defers.
            return .success([(.fail, ["condition = ${lookup dnsdb{ptr=$sender_host_address}{no}{yes}}"])])
        case .fcrdns:
            // A PTR name whose addresses include the client's (verify = reverse_host_lookup).
            return .success([(.fail, ["!verify = reverse_host_lookup"])])
        case .heloValid:
            return .success([(.fail, [notLiteral, "condition = ${if eq{MXH_HELO_HOSTNAME}{no}}"])])
        case .heloFQDN:
            return .success([(.fail, [notLiteral, #"condition = ${if match{$sender_helo_name}{\N[^.]\.[^.]\N}{no}{yes}}"#])])
        case .heloResolves:
            return .success([(.fail, [
                notLiteral,
                "condition = ${lookup dnsdb{a=$sender_helo_name}{no}{${lookup dnsdb{aaaa=$sender_helo_name}{no}{${lookup dnsdb{mx=$sender_helo_name}{no}{yes}}}}}}",
            ])])
        case .heloMatches:
            return .success([
                (.fail, ["condition = ${if eq{MXH_HELO_LITERAL}{yes}}", "condition = ${if match_ip{$sender_host_address}{<; MXH_HELO_LITERAL_ADDRESS}{no}{yes}}"]),
                (.fail, [
                    notLiteral,
                    "condition = ${if match_ip{$sender_host_address}{<; ${lookup dnsdb{>; ${if isip4{$sender_host_address}{a}{aaaa}}=$sender_helo_name}{$value}{}}}{no}{yes}}",
                ]),
            ])
        case .dnsbl(let zone):
            // A DNS error counts as not listed (Exim's dnslists, like Postfix's reject_rbl_client).
            return .success([(.fail, ["dnslists = \(zone)"])])
        case .spf, .spfPass:
            guard hasSPF else {
                return .failure(EximUnsupported(
                    reason: "check \(check.name) needs SPF, which the unpacked Exim (exim4-daemon-light) is built without"))
            }
            if check == .spfPass {
                return .success([(.temporary, ["spf = temperror"]), (.fail, ["!spf = pass"])])
            }
            return .success([(.temporary, ["spf = temperror"]), (.permerror, ["spf = permerror"]), (.fail, ["spf = fail"])])
        }
    }

    static let clientPlaceholder: [AddressFamily: IPAddress] = [.ipv4: IPAddress("192.0.2.255")!, .ipv6: IPAddress("2001:db8::ffff")!]
    static let heloPlaceholder = "mxh-helo-placeholder.test"

    /// The spec's reply for `check` coming out as `outcome`, with Exim variables in place of the
    /// client address and HELO name, and everything else escaped for Exim's string expansion.
    static func reply(_ policy: ReceiverPolicy, _ check: Check, _ outcome: CheckOutcome, family: AddressFamily) -> SMTPReply? {
        let client = clientPlaceholder[family]!
        guard let reply = policy.reply(for: check, outcome: outcome, client: client, helo: heloPlaceholder) else { return nil }
        let escaped = reply.text.replacing("\\", with: "\\\\").replacing("$", with: "\\$").replacing("\n", with: " ")
        let text = escaped.replacing("[\(client)]", with: "[$sender_host_address]").replacing(heloPlaceholder, with: "$sender_helo_name")
        return SMTPReply(code: reply.code, enhanced: reply.enhanced, text)
    }
}
