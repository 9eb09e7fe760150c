import DNSCore
import SMTPProtocol

/// One receiver check of the scenario format's policy table.
public enum Check: Sendable, Hashable, CustomStringConvertible {
    case ptr
    case fcrdns
    case heloValid
    case heloFQDN
    case heloResolves
    case heloMatches
    case spf
    case spfPass
    case dnsbl(zone: String)
    /// Some DKIM signature verifies (RFC 6376, RFC 8301, RFC 8463); alignment not needed.
    case dkim
    /// DMARC (RFC 7489) does not end in a failure whose policy is `reject`.
    case dmarc
    /// SPF passes, or a DKIM signature aligned (relaxed) with the From domain verifies.
    case spfOrDKIM

    /// Parses a check as written in a scenario (`ptr`, `helo-valid`, `dnsbl:bl.example.test`).
    public init?(name: String) {
        switch name {
        case "ptr": self = .ptr
        case "fcrdns": self = .fcrdns
        case "helo-valid": self = .heloValid
        case "helo-fqdn": self = .heloFQDN
        case "helo-resolves": self = .heloResolves
        case "helo-matches": self = .heloMatches
        case "spf": self = .spf
        case "spf-pass": self = .spfPass
        case "dkim": self = .dkim
        case "dmarc": self = .dmarc
        case "spf-or-dkim": self = .spfOrDKIM
        default:
            guard name.hasPrefix("dnsbl:") else { return nil }
            let zone = String(name.dropFirst("dnsbl:".count))
            guard DNSName.isValidHostname(zone) else { return nil }
            self = .dnsbl(zone: DNSName.normalize(zone))
        }
    }

    public var name: String {
        switch self {
        case .ptr: "ptr"
        case .fcrdns: "fcrdns"
        case .heloValid: "helo-valid"
        case .heloFQDN: "helo-fqdn"
        case .heloResolves: "helo-resolves"
        case .heloMatches: "helo-matches"
        case .spf: "spf"
        case .spfPass: "spf-pass"
        case .dnsbl(let zone): "dnsbl:\(zone)"
        case .dkim: "dkim"
        case .dmarc: "dmarc"
        case .spfOrDKIM: "spf-or-dkim"
        }
    }

    /// The check reads the message, so it is answered after the final dot whatever `reject_at` says.
    public var needsMessage: Bool {
        switch self {
        case .dkim, .dmarc, .spfOrDKIM: true
        default: false
        }
    }

    public var description: String { name }

    /// Whether the check needs nothing but the client address (it can answer the connection itself).
    public var isKnownAtConnect: Bool {
        switch self {
        case .ptr, .fcrdns, .dnsbl: true
        case .heloValid, .heloFQDN, .heloResolves, .heloMatches, .spf, .spfPass, .dkim, .dmarc, .spfOrDKIM: false
        }
    }

    public static let allNames = [
        "ptr", "fcrdns", "helo-valid", "helo-fqdn", "helo-resolves", "helo-matches", "spf", "spf-pass", "dnsbl:ZONE",
        "dkim", "dmarc", "spf-or-dkim",
    ]
}

/// When a failed check is answered (Postfix's `smtpd_delay_reject = yes` answers at RCPT).
/// Checks that read the message are answered after the final dot whatever the stage.
public enum RejectStage: String, Sendable, Hashable, Codable, CaseIterable {
    case rcpt
    case data
    /// Instead of the 220 greeting, then the connection closes (policy map 1.1): a provider's
    /// connection-time filter or a postscreen-style front end. Only checks of the client address
    /// can be made then (`Check.isKnownAtConnect`).
    case greeting
    /// The reply to EHLO and to HELO (format 1.2): Postfix's `smtpd_delay_reject = no` with the
    /// restrictions in `smtpd_helo_restrictions`, an Exim ACL at HELO. Checks of the client and of
    /// the HELO name can be made then, not those of MAIL FROM.
    case helo
    /// The reply to MAIL FROM (format 1.2): `smtpd_delay_reject = no` with the restrictions in
    /// `smtpd_sender_restrictions`, an Exim ACL at MAIL.
    case mail
}

extension RejectStage {
    /// The SMTP stage a failed check's reply comes at.
    public var smtpStage: SMTPStage {
        switch self {
        case .greeting: .greeting
        case .helo: .helo
        case .mail: .mail
        case .rcpt: .rcpt
        case .data: .data
        }
    }

    /// Whether what `check` needs is known when this stage is answered. Checks that read the
    /// message are answered after the final dot at every stage.
    public func canAnswer(_ check: Check) -> Bool {
        switch self {
        case .greeting: check.isKnownAtConnect
        // Before MAIL FROM there is no envelope sender for SPF to check.
        case .helo: check != .spf && check != .spfPass
        case .mail, .rcpt, .data: true
        }
    }
}

/// Whether a failed check rejects (5xx) or defers (4xx).
public enum FailureMode: String, Sendable, Hashable, Codable {
    case reject
    case `defer`
}

/// How a failed check is worded, when a preset or a site (`reply:`) words it its own way.
public struct CustomReply: Sendable, Hashable {
    public var code: Int
    /// The enhanced status code; nil for a receiver that sends none (freenet's `550 inconsistent ...`).
    public var enhanced: String?
    /// The text; `[ADDR]` in it is replaced by the client address in brackets.
    public var text: String

    public init(code: Int, enhanced: String?, text: String) {
        self.code = code
        self.enhanced = enhanced
        self.text = text
    }
}

/// Whose reply codes the `spf` and `spf-pass` checks give on an SPF error.
public enum SPFReplies: String, Sendable, Hashable {
    /// The scenario format's policy table: temperror 451 4.4.3, permerror 550 5.5.2.
    case format
    /// postfix-policyd-spf-python's: temperror 450 4.7.24, permerror 550 5.7.24.
    case policydSPF
}

/// What a receiver checks, per family, and how it answers a failure.
public struct ReceiverPolicy: Sendable, Hashable {
    public var ipv4: [Check]
    public var ipv6: [Check]
    public var rejectAt: RejectStage
    public var onFail: FailureMode
    /// The preset this policy came from, if any.
    public var preset: Preset?
    /// Replies that replace the standard ones on failure (not on DNS error), per family.
    public var customReplies: [AddressFamily: [Check: CustomReply]]
    /// Replies for a message check that failed on a message with no DKIM-Signature field, where
    /// they differ from `customReplies` (gmail-like keeps its IPv6 text for unsigned mail).
    public var unsignedReplies: [AddressFamily: [Check: CustomReply]]
    /// The policy map's `reply:` (format 1.1): replaces the reply of whichever check fails (not on
    /// DNS error), as a site's `unknown_client_reject_code` or custom text does. Its code agrees
    /// with `onFail` (the loader refuses one that does not).
    public var siteReply: CustomReply?
    /// Whose codes an SPF error gets: the format's (451 4.4.3, 550 5.5.2), or policyd-spf's when
    /// the receiver runs it (`receiver.engines: [policyd-spf]`).
    public var spfReplies: SPFReplies = .format

    public init(
        ipv4: [Check] = [], ipv6: [Check] = [], rejectAt: RejectStage = .rcpt, onFail: FailureMode = .reject,
        preset: Preset? = nil, customReplies: [AddressFamily: [Check: CustomReply]] = [:],
        siteReply: CustomReply? = nil,
        unsignedReplies: [AddressFamily: [Check: CustomReply]] = [:]
    ) {
        self.ipv4 = ipv4
        self.ipv6 = ipv6
        self.rejectAt = rejectAt
        self.onFail = onFail
        self.preset = preset
        self.customReplies = customReplies
        self.siteReply = siteReply
        self.unsignedReplies = unsignedReplies
    }

    public func checks(for family: AddressFamily) -> [Check] {
        family == .ipv4 ? ipv4 : ipv6
    }

    /// Some check for `family` reads the message.
    public func checksMessage(for family: AddressFamily) -> Bool {
        checks(for: family).contains(where: \.needsMessage)
    }

    public static let open = ReceiverPolicy(preset: .open)
}
