import DNSCore

/// The presets of the scenario format (section "Presets").
public enum Preset: String, Sendable, Hashable, CaseIterable, Codable {
    case open
    case reverse
    case fcrdns
    case fcrdnsStrict = "fcrdns-strict"
    case heloStrict = "helo-strict"
    case ipv6Strict = "ipv6-strict"
    case gmailLike = "gmail-like"
    case microsoftLike = "microsoft-like"
    /// An extension of the format: microsoft-like with "SPF or DKIM" (format-extensions.md).
    case microsoftLikeDKIM = "microsoft-like-dkim"
    /// GMX, WEB.DE and 1&1's front end (an extension of the format's presets).
    case gmxLike = "gmx-like"

    public var policy: ReceiverPolicy {
        switch self {
        case .open:
            return ReceiverPolicy(preset: self)
        case .reverse:
            return ReceiverPolicy(ipv4: [.ptr], ipv6: [.ptr], onFail: .defer, preset: self)
        case .fcrdns:
            return ReceiverPolicy(ipv4: [.fcrdns], ipv6: [.fcrdns], onFail: .defer, preset: self)
        case .fcrdnsStrict:
            return ReceiverPolicy(ipv4: [.fcrdns], ipv6: [.fcrdns], preset: self)
        case .heloStrict:
            let checks: [Check] = [.heloValid, .heloFQDN, .heloResolves]
            return ReceiverPolicy(ipv4: checks, ipv6: checks, preset: self)
        case .ipv6Strict:
            return ReceiverPolicy(ipv6: [.fcrdns, .spf], preset: self)
        case .gmailLike:
            let v4 = CustomReply(
                code: 550, enhanced: "5.7.25",
                text:
                    "The IP address sending this message does not have a PTR record setup, or the corresponding forward DNS entry does not point to the sending IP."
            )
            let v6 = CustomReply(
                code: 550, enhanced: "5.7.1",
                text:
                    "Our system has detected that this message does not meet IPv6 sending guidelines regarding PTR records and authentication."
            )
            // Gmail's reply for mail that passes neither SPF nor DKIM (its bounce-message
            // documentation, "550-5.7.26 This mail is unauthenticated ..."). Unsigned mail keeps the
            // IPv6 text the format gives this preset.
            let unauthenticated = CustomReply(
                code: 550, enhanced: "5.7.26",
                text:
                    "This mail is unauthenticated, which poses a security risk to the sender and Gmail users, and has been blocked. The sender must authenticate with at least one of SPF or DKIM."
            )
            return ReceiverPolicy(
                ipv4: [.fcrdns], ipv6: [.fcrdns, .spfOrDKIM], rejectAt: .data, preset: self,
                customReplies: [.ipv4: [.fcrdns: v4], .ipv6: [.fcrdns: v6, .spfOrDKIM: unauthenticated]],
                unsignedReplies: [.ipv6: [.spfOrDKIM: v6]])
        case .microsoftLike, .microsoftLikeDKIM:
            let ptr = CustomReply(
                code: 450, enhanced: "4.7.25",
                text: "Service unavailable, sending IPv6 address [ADDR] must have reverse DNS record.")
            let spf = CustomReply(
                code: 450, enhanced: "4.7.26",
                text: "Service unavailable, message sent over IPv6 [ADDR] must pass either SPF or DKIM validation.")
            if self == .microsoftLike {
                // The format's preset: SPF alone, answered at RCPT.
                return ReceiverPolicy(
                    ipv6: [.ptr, .spfPass], preset: self, customReplies: [.ipv6: [.ptr: ptr, .spfPass: spf]])
            }
            // microsoft-like-dkim: "SPF or DKIM", as Microsoft words the rule; DKIM needs the
            // message, so that check is answered after the final dot (ptr still at RCPT).
            return ReceiverPolicy(
                ipv6: [.ptr, .spfOrDKIM], preset: self, customReplies: [.ipv6: [.ptr: ptr, .spfOrDKIM: spf]])
        case .gmxLike:
            // GMX's postmaster pages (postmaster.gmx.com/en/error-messages, email-policy#PTR): the
            // sending server needs a PTR record; the connection is refused with a multi-line 554
            // and no enhanced status codes ("we do not use any additional Enhanced Status Codes").
            let rdns = CustomReply(
                code: 554, enhanced: nil,
                text:
                    "gmx.net (mxgmx) Nemesis ESMTP Service not available\nNo SMTP service\nBad DNS PTR resource record.\nFor explanation visit https://postmaster.gmx.net/en/error-messages?c=rdns"
            )
            return ReceiverPolicy(
                ipv4: [.fcrdns], ipv6: [.fcrdns], rejectAt: .greeting, preset: self,
                customReplies: [.ipv4: [.fcrdns: rdns], .ipv6: [.fcrdns: rdns]])
        }
    }

    /// The Postfix `main.cf` settings equivalent to this preset, or nil when it has none (the case
    /// is then skipped on `--target postfix`, with `postfixUnsupportedReason`, unless the preset
    /// has DKIM checks, which the Postfix target plays with milters).
    public var postfixSettings: [String: String]? {
        switch self {
        case .open:
            return [:]
        case .reverse:
            // reject_unknown_reverse_client_hostname answers unknown_client_reject_code's sibling,
            // which defaults to 450 (postconf(5)).
            return ["smtpd_client_restrictions": "reject_unknown_reverse_client_hostname"]
        case .fcrdns:
            return ["smtpd_client_restrictions": "reject_unknown_client_hostname"]
        case .fcrdnsStrict:
            return ["smtpd_client_restrictions": "reject_unknown_client_hostname", "unknown_client_reject_code": "550"]
        case .heloStrict:
            return [
                "smtpd_helo_required": "yes",
                "smtpd_helo_restrictions":
                    "reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname, reject_unknown_helo_hostname",
                "unknown_hostname_reject_code": "550",
            ]
        case .ipv6Strict, .gmailLike, .microsoftLike, .microsoftLikeDKIM, .gmxLike:
            return nil
        }
    }

    public var postfixUnsupportedReason: String? {
        switch self {
        // gmail-like and microsoft-like-dkim run on Postfix through its milters (the Postfix
        // target translates policies with DKIM checks itself); ipv6-strict is translated check by
        // check (IPv6's own restriction class, its spf check asked of policyd-spf).
        case .microsoftLike: "preset microsoft-like is builtin only (no Postfix equivalent)"
        case .gmxLike:
            "preset gmx-like answers at the greeting, which needs postscreen(8) with texts of its own: builtin only"
        default: nil
        }
    }
}
