import DNSCore
import SMTPProtocol

/// Where a delivery goes (the scenario's `sender.relay`).
public enum Relay: Sendable, Hashable {
    /// The MX records of the first recipient's domain.
    case mx
    /// One named host's A/AAAA records, no MX lookup (Postfix's `relayhost = [NAME]`).
    /// An IP address (bare or in brackets) is used as is.
    case host(String)
}

/// Postfix's `smtp_address_preference`: which family goes first among addresses of equal MX
/// preference.
public enum AddressPreference: String, Sendable, Hashable, CaseIterable, Codable {
    case ipv6
    case ipv4
    /// Postfix orders at random (`smtp_randomize_addresses = yes`). The harness pins the order so
    /// runs repeat: MX order, and within one host IPv4 before IPv6, the order Postfix looks them
    /// up in with `inet_protocols = all` (inet_proto.c: T_A, T_AAAA) when it does not shuffle.
    case any

    public init(_ family: AddressFamily) {
        self = family == .ipv4 ? .ipv4 : .ipv6
    }

    /// The family tried first, nil for `any`.
    public var family: AddressFamily? {
        switch self {
        case .ipv6: .ipv6
        case .ipv4: .ipv4
        case .any: nil
        }
    }
}

/// The Postfix SMTP-client limits the delivery model honours (main.cf names in the comments).
public struct ClientLimits: Sendable, Hashable {
    /// `smtp_mx_session_limit` (default 2): at most this many destinations that got past the
    /// greeting and EHLO/HELO are tried in one delivery; 0 means no limit.
    public var sessionLimit: Int
    /// `smtp_mx_address_limit` (default 5): at most this many addresses are tried; 0 means no limit.
    public var addressLimit: Int
    /// `smtp_skip_5xx_greeting` (default yes): a 5xx greeting counts as 4xx (next address); with
    /// `no` it bounces.
    public var skip5xxGreeting: Bool

    public init(sessionLimit: Int = 2, addressLimit: Int = 5, skip5xxGreeting: Bool = true) {
        self.sessionLimit = sessionLimit
        self.addressLimit = addressLimit
        self.skip5xxGreeting = skip5xxGreeting
    }
}

/// One message to deliver, as the sending MTA sees it.
public struct DeliveryRequest: Sendable {
    /// The source address per family; a family without one is unreachable for this sender.
    public var sources: [AddressFamily: IPAddress]
    /// Tried first among addresses of equal MX preference (Postfix's `smtp_address_preference`).
    public var prefer: AddressPreference
    /// The session and address limits and the 5xx-greeting rule.
    public var limits: ClientLimits
    public var helo: String
    /// Envelope sender; empty for the null sender `<>`.
    public var mailFrom: String
    public var recipients: [String]
    public var relay: Relay
    /// The full RFC 5322 message, CRLF or LF line endings.
    public var message: [UInt8]
    /// Sent after the 354 reply instead of `message`, byte for byte, with its own end of data
    /// (`SMTPClientConfiguration.rawData`; a scenario's `sender.message.raw`).
    public var rawData: [UInt8]?
    public var port: UInt16 = 25
    /// A proxy connects for the sender and names it to the receiver; nil: the sender connects itself.
    public var proxy: ProxiedSending?
    /// STARTTLS (`sender.tls`); nil: never, as `none`.
    public var tls: SenderTLS?
    public var connectTimeout: Duration
    public var replyTimeout: Duration

    public init(
        sources: [AddressFamily: IPAddress], prefer: AddressPreference = .ipv6, limits: ClientLimits = ClientLimits(),
        helo: String, mailFrom: String, recipients: [String], relay: Relay = .mx, message: [UInt8], port: UInt16 = 25,
        connectTimeout: Duration = .seconds(10), replyTimeout: Duration = .seconds(30)
    ) {
        self.sources = sources
        self.prefer = prefer
        self.limits = limits
        self.helo = helo
        self.mailFrom = mailFrom
        self.recipients = recipients
        self.relay = relay
        self.message = message
        self.port = port
        self.connectTimeout = connectTimeout
        self.replyTimeout = replyTimeout
    }
}

/// One line of an attempt's transcript: seconds since the delivery started, direction, text.
public typealias TranscriptLine = SMTPClientTranscriptLine

/// One connection to one address.
public struct DeliveryAttempt: Sendable, Codable {
    public var family: AddressFamily
    /// The sender's source address the connection was made from.
    public var localAddress: IPAddress?
    public var remoteAddress: IPAddress
    /// The MX (or relay) host name the address belongs to.
    public var remoteHost: String
    public var port: UInt16
    /// The MX preference, nil for a relay host or the implicit MX.
    public var preference: UInt16?
    /// Where the deciding reply came, `connect` when there was no connection.
    public var stage: SMTPStage
    /// The deciding reply (see `SMTPClientResult.reply`), nil when none came.
    public var reply: SMTPReply?
    public var result: AttemptResult
    /// Connection failure, timeout, lost connection or malformed reply, in words.
    public var error: String?
    public var transcript: [TranscriptLine]
    /// Per recipient tried in this attempt: its RCPT reply and what became of it here.
    public var recipients: [SMTPClientRecipientStatus]
    /// EHLO keywords the server announced.
    public var extensions: [String]
    public var usedHELO: Bool
    /// The session's TLS (version, cipher, Postfix's verdict on the certificate); nil: plaintext.
    public var tls: TLSSessionFacts?

    public init(
        family: AddressFamily, localAddress: IPAddress?, remoteAddress: IPAddress, remoteHost: String,
        port: UInt16 = 25,
        preference: UInt16? = nil, stage: SMTPStage, reply: SMTPReply?, result: AttemptResult, error: String? = nil,
        transcript: [TranscriptLine] = [], recipients: [SMTPClientRecipientStatus], extensions: [String] = [],
        usedHELO: Bool = false
    ) {
        self.family = family
        self.localAddress = localAddress
        self.remoteAddress = remoteAddress
        self.remoteHost = remoteHost
        self.port = port
        self.preference = preference
        self.stage = stage
        self.reply = reply
        self.result = result
        self.error = error
        self.transcript = transcript
        self.recipients = recipients
        self.extensions = extensions
        self.usedHELO = usedHELO
    }
}

/// What became of one recipient.
public struct RecipientResult: Sendable, Codable {
    public var address: String
    public var outcome: DeliveryOutcome
    /// Where its fate was decided (the last attempt that concerned it), nil when no attempt was made.
    public var stage: SMTPStage?
    /// The reply that decided it. When no server was asked (null MX, NXDOMAIN, failed MX lookup,
    /// nothing reachable) this is a reply the sender made up, and `diagnostic` says so.
    public var reply: SMTPReply?
    /// Index into `DeliveryReport.attempts` of the attempt that decided it.
    public var attemptIndex: Int?
    /// The error of the deciding attempt (timeout, refused connection), or why no attempt was made.
    public var diagnostic: String?

    public init(
        address: String, outcome: DeliveryOutcome, stage: SMTPStage? = nil, reply: SMTPReply? = nil,
        attemptIndex: Int? = nil, diagnostic: String? = nil
    ) {
        self.address = address
        self.outcome = outcome
        self.stage = stage
        self.reply = reply
        self.attemptIndex = attemptIndex
        self.diagnostic = diagnostic
    }
}

/// One address that MX resolution produced.
public struct Destination: Sendable, Hashable, Codable {
    public enum Status: String, Sendable, Hashable, Codable {
        /// In the list of addresses to try, in this order.
        case candidate
        /// The sender has no source address of this family.
        case skippedNoSourceAddress = "skipped-no-source-address"
        /// Cut by `smtp_mx_address_limit` (5) after `smtp_balance_inet_protocols`.
        case beyondAddressLimit = "beyond-address-limit"
        /// Not tried: `smtp_mx_session_limit` sessions had been made before its turn.
        case beyondSessionLimit = "beyond-session-limit"
    }

    /// The MX host name (or the relay host, or the domain itself as implicit MX).
    public var host: String
    /// MX preference; nil for a relay host, 0 for the implicit MX (as Postfix uses).
    public var preference: UInt16?
    public var address: IPAddress
    public var status: Status

    public var family: AddressFamily { address.family }

    public init(host: String, preference: UInt16?, address: IPAddress, status: Status = .candidate) {
        self.host = host
        self.preference = preference
        self.address = address
        self.status = status
    }
}

/// Where the destinations came from.
public enum DestinationSource: String, Sendable, Hashable, Codable {
    /// The domain's MX records.
    case mx
    /// No MX records: the domain's own A/AAAA (RFC 5321 5.1).
    case implicitMX = "implicit-mx"
    /// `relay: {host: NAME}`.
    case relay
}

/// The whole story of one delivery.
public struct DeliveryReport: Sendable, Codable {
    /// The first recipient's outcome.
    public var outcome: DeliveryOutcome
    public var recipients: [RecipientResult]
    public var attempts: [DeliveryAttempt]
    /// Index into `attempts` of the attempt that decided the first recipient.
    public var decidingAttempt: Int?
    /// What resolution produced, in order of trial, with skipped addresses marked.
    public var destinations: [Destination]
    public var destinationSource: DestinationSource?
    /// e.g. "null MX", "MX lookup: SERVFAIL"; notes are joined with "; ".
    public var note: String?

    public init(
        outcome: DeliveryOutcome, recipients: [RecipientResult], attempts: [DeliveryAttempt], decidingAttempt: Int?,
        destinations: [Destination], destinationSource: DestinationSource?, note: String?
    ) {
        self.outcome = outcome
        self.recipients = recipients
        self.attempts = attempts
        self.decidingAttempt = decidingAttempt
        self.destinations = destinations
        self.destinationSource = destinationSource
        self.note = note
    }

    /// The family of the attempt that decided the first recipient.
    public var decidingFamily: AddressFamily? {
        guard let index = decidingAttempt, attempts.indices.contains(index) else { return nil }
        return attempts[index].family
    }

    /// Where the first recipient's fate was decided.
    public var decidingStage: SMTPStage? { recipients.first?.stage }

    /// The reply that decided the first recipient.
    public var decidingReply: SMTPReply? { recipients.first?.reply }
}
