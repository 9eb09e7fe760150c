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
    /// The tables the filters name (HELO regexes), as smtpd.conf lines.
    public static let tables = [
        // A dot between two other characters, or an address literal.
        #"table mxh_helo_fqdn { "[^.][.][^.]", "^[[]" }"#
    ]

    /// The name of the chain the listeners of `family` use, when its list has checks.
    public static func chain(_ family: AddressFamily) -> String { "mxh_policy_\(family.rawValue)" }

    public static func unsupportedReason(_ policy: ReceiverPolicy, world: WorldFacts) -> String? {
        if case .failure(let unsupported) = filters(for: policy, world: world) { return unsupported.reason }
        return nil
    }

    /// What the scenario's DNS holds that OpenSMTPD answers differently from the spec.
    public struct WorldFacts: Sendable, Hashable {
        /// Some queries fail (`dns.faults`, or zones a validating receiver resolver finds bogus).
        public var faults: Bool
        /// Some PTR record names a numeric address.
        public var numericPTR: Bool

        public init(faults: Bool = false, numericPTR: Bool = false) {
            self.faults = faults
            self.numericPTR = numericPTR
        }
    }

    /// The filter lines per family, each family's chain last; a family without checks has none.
    /// A filter in OpenSMTPD matches one condition, so the families' lists are told apart by
    /// listener: a client reaches an address of its own family.
    public static func filters(for policy: ReceiverPolicy, world: WorldFacts) -> Result<
        [AddressFamily: [String]], OpenSMTPDUnsupported
    > {
        if policy.rejectAt == .helo || policy.rejectAt == .mail, !(policy.ipv4 + policy.ipv6).isEmpty {
            // OpenSMTPD has `helo`, `ehlo` and `mail-from` phases, but the filters are not written for them.
            return .failure(
                OpenSMTPDUnsupported(reason: "reject_at: \(policy.rejectAt.rawValue) is not translated for OpenSMTPD"))
        }
        // The reply phase: RCPT, or the end of DATA (`commit`) for reject_at: data.
        let phase = policy.rejectAt == .data ? "commit" : "rcpt-to"
        var out: [AddressFamily: [String]] = [:]
        for family in AddressFamily.allCases {
            var lines: [String] = []
            var names: [String] = []
            for check in policy.checks(for: family) {
                let condition: String
                switch check {
                case .ptr, .fcrdns:
                    // smtp_session.c keeps "<unknown>" as the name when the lookup fails for any
                    // reason, so a DNS error is answered as a missing name, never deferred.
                    if world.faults {
                        return .failure(
                            OpenSMTPDUnsupported(
                                reason:
                                    "check \(check.name) with DNS faults: OpenSMTPD answers a failed reverse lookup as a missing name (no temporary answer)"
                            ))
                    }
                    if check == .fcrdns, world.numericPTR {
                        return .failure(
                            OpenSMTPDUnsupported(
                                reason:
                                    "check fcrdns with a numeric PTR name: OpenSMTPD confirms it (the name resolves to itself), Postfix and the spec count it as no name"
                            ))
                    }
                    condition = check == .ptr ? "!rdns" : "!fcrdns"
                case .heloFQDN:
                    condition = "!helo regex <mxh_helo_fqdn>"
                case .heloValid:
                    return .failure(
                        OpenSMTPDUnsupported(
                            reason:
                                "check helo-valid: OpenSMTPD answers an invalid HELO name itself with 501 at HELO (smtp_session.c), before any filter"
                        ))
                case .heloResolves, .heloMatches:
                    return .failure(
                        OpenSMTPDUnsupported(
                            reason: "check \(check.name): no built-in OpenSMTPD filter looks the HELO name up"))
                case .dnsbl:
                    return .failure(
                        OpenSMTPDUnsupported(
                            reason:
                                "check \(check.name): OpenSMTPD has no built-in DNSBL filter (filter-dnsbl is a separate program)"
                        ))
                case .spf, .spfPass:
                    return .failure(
                        OpenSMTPDUnsupported(reason: "check \(check.name): OpenSMTPD has no built-in SPF filter"))
                case .dkim, .dmarc, .spfOrDKIM:
                    return .failure(
                        OpenSMTPDUnsupported(
                            reason: "check \(check.name): OpenSMTPD has no built-in DKIM or DMARC filter"))
                }
                guard let reply = reply(policy, check, family: family) else { continue }
                let name = "mxh_\(family.rawValue)_\(names.count + 1)"
                names.append(name)
                lines.append("filter \"\(name)\" phase \(phase) match \(condition) reject \"\(reply)\"")
            }
            guard !names.isEmpty else { continue }
            lines.append("filter \"\(chain(family))\" chain { \(names.map { "\"\($0)\"" }.joined(separator: ", ")) }")
            out[family] = lines
        }
        return .success(out)
    }

    /// The spec's failure reply, as one quoted-safe line. OpenSMTPD cannot put the client
    /// address or HELO name into a filter's reply, so `[ADDR]` and `<HELO>` are left out of the text.
    static func reply(_ policy: ReceiverPolicy, _ check: Check, family: AddressFamily) -> String? {
        let client = family == .ipv4 ? IPAddress(literal: "192.0.2.255") : IPAddress(literal: "2001:db8::ffff")
        let helo = "mxh-helo-placeholder.test"
        guard let reply = policy.reply(for: check, outcome: .fail, client: client, helo: helo) else { return nil }
        let text = reply.text.replacing(", [\(client)]", with: "").replacing(" [\(client)]", with: "").replacing(
            "[\(client)]", with: ""
        )
        .replacing("<\(helo)>: ", with: "").replacing("\"", with: "'").replacing("\n", with: " ")
        return ([String(reply.code)] + (reply.enhanced.map { [$0] } ?? []) + [text]).joined(separator: " ")
    }
}
