import DNSCore
import SMTPProtocol
import Scenario

/// What kind of text the evidence came from.
public enum EvidenceSource: String, Sendable, Hashable, CustomStringConvertible {
    /// A receiving Postfix's `smtpd` reject line (`NOQUEUE: reject: RCPT from ...`).
    case postfixReject = "Postfix smtpd reject log line"
    /// A sending Postfix's `smtp` delivery line (`to=<...>, relay=..., status=deferred (...)`).
    case postfixDelivery = "Postfix smtp delivery log line"
    /// A receiving Exim's reject line (`H=(helo) [addr] F=<...> rejected RCPT <...>: ...`).
    case eximReject = "Exim reject log line"
    /// A sending Exim's delivery line (`== u@example.test ... SMTP error from remote mail server after ...`).
    case eximDelivery = "Exim delivery log line"
    /// A receiving sendmail's reject (`ruleset=check_rcpt, ..., reject=550 ...`, `Milter: ..., reject=...`).
    case sendmailReject = "sendmail reject log line"
    /// A sending sendmail's delivery line (`to=<...>, ..., relay=..., stat=Deferred: 450 ...`).
    case sendmailDelivery = "sendmail delivery log line"
    /// A receiving qmail's rblsmtpd line (`rblsmtpd: ADDR pid N: 451 text`).
    case qmailReject = "qmail rblsmtpd log line"
    /// A receiving Courier's error line (`courieresmtpd: error,relay=ADDR,from=<s>,to=<r>: 550 text`).
    case courierReject = "Courier reject log line"
    /// A receiving server's `key=value` log line (mox: `cmd=ehlo code=501 ecode=5.5.2 err="..."`).
    case keyValueLog = "key=value log line"
    /// An RFC 3464 delivery status notification (`multipart/report; report-type=delivery-status`).
    case deliveryStatus = "RFC 3464 delivery status notification"
    /// A bounce message in plain text (Postfix's, Exim's, or a provider's).
    case bounceText = "bounce text"
    /// A desktop mail client's error dialog (Thunderbird's `The mail server responded: ...`,
    /// Outlook's `Server Response: '...'`).
    case mailClient = "mail client's error dialog"
    /// An SMTP dialogue (swaks, `mxharness send`, `S:`/`C:` or bare lines).
    case transcript = "SMTP transcript"

    public var description: String { rawValue }
}

/// The facts a piece of evidence can tell about one delivery.
public enum EvidenceField: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case clientAddress = "client address"
    case clientName = "client host name"
    case helo = "HELO"
    case mailFrom = "envelope sender"
    case rcptTo = "envelope recipient"
    case reply = "reply"
    case stage = "stage"
    case receiverName = "receiver host name"
    case receiverAddress = "receiver address"
    case outcome = "outcome the sender recorded"

    public var description: String { rawValue }
}

/// Where a fact came from: the field, its value, and the words of the input (or the rule) that gave it.
public struct Provenance: Sendable, Hashable, CustomStringConvertible {
    public var field: EvidenceField
    public var value: String
    /// The piece of the input, or the reasoning, behind the value.
    public var source: String
    /// True when the value was reasoned out rather than read as written.
    public var inferred: Bool

    public init(field: EvidenceField, value: String, source: String, inferred: Bool = false) {
        self.field = field
        self.value = value
        self.source = source
        self.inferred = inferred
    }

    public var description: String {
        "\(field) \(value): \(inferred ? "inferred from" : "read from") \(source)"
    }
}

/// What one complaint's evidence says about the delivery that failed. Every field is optional:
/// the parsers fill what their format carries and `provenance` says where each value came from.
public struct Evidence: Sendable, Hashable {
    public static func == (lhs: Evidence, rhs: Evidence) -> Bool {
        lhs.source == rhs.source && lhs.clientAddress == rhs.clientAddress && lhs.clientName == rhs.clientName
            && lhs.helo == rhs.helo
            && lhs.mailFrom == rhs.mailFrom && lhs.rcptTo == rhs.rcptTo && lhs.reply == rhs.reply
            && lhs.stage == rhs.stage
            && lhs.receiverName == rhs.receiverName && lhs.receiverAddress == rhs.receiverAddress
            && lhs.observedOutcome == rhs.observedOutcome
            && lhs.provenance == rhs.provenance
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(source)
        hasher.combine(reply)
        hasher.combine(stage)
        hasher.combine(provenance)
    }

    public var source: EvidenceSource
    public var clientAddress: IPAddress?
    /// The client's name as the receiver logged it; `unknown` means it had none it could confirm.
    public var clientName: String?
    public var helo: String?
    /// The envelope sender; `""` is the null sender.
    public var mailFrom: String?
    public var rcptTo: [String]
    public var reply: SMTPReply?
    public var stage: SMTPStage?
    public var receiverName: String?
    public var receiverAddress: IPAddress?
    /// How the sending MTA ended the delivery, when the input says (`status=bounced`, `Action:
    /// failed` with a 5.x.x `Status`, Exim's `**`): tells a 5xx greeting that bounced
    /// (`smtp_skip_5xx_greeting = no`) from one that was deferred.
    public var observedOutcome: DeliveryOutcome?
    public var provenance: [Provenance]
    /// A stage a reader suggests when nothing better is found (the words around the reply win).
    var fallbackStage: (stage: SMTPStage, why: String)?

    public init(source: EvidenceSource) {
        self.source = source
        self.rcptTo = []
        self.provenance = []
    }

    /// Records where a value came from (the first record of a field wins, as the first value set does).
    mutating func note(_ field: EvidenceField, _ value: String, from source: String, inferred: Bool = false) {
        guard !provenance.contains(where: { $0.field == field }) else { return }
        provenance.append(Provenance(field: field, value: value, source: source, inferred: inferred))
    }

    mutating func setClient(_ address: IPAddress, from source: String, inferred: Bool = false) {
        guard clientAddress == nil else { return }
        let (address, source) = Self.unmapped(address, source)
        clientAddress = address
        note(.clientAddress, address.description, from: source, inferred: inferred)
    }

    /// An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, RFC 4291 2.5.5.2: an IPv4 peer of a
    /// dual-stack socket) is the IPv4 address it holds.
    static func unmapped(_ address: IPAddress, _ source: String) -> (IPAddress, String) {
        guard address.family == .ipv6, address.bytes.prefix(12) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff],
            let v4 = IPAddress(bytes: Array(address.bytes.suffix(4)))
        else { return (address, source) }
        return (v4, source + " (\(address), an IPv4-mapped address: the IPv4 address \(v4), RFC 4291 2.5.5.2)")
    }

    mutating func setHelo(_ name: String, from source: String, inferred: Bool = false) {
        guard helo == nil, !name.isEmpty else { return }
        helo = name
        note(.helo, name, from: source, inferred: inferred)
    }

    mutating func setMailFrom(_ address: String, from source: String, inferred: Bool = false) {
        guard mailFrom == nil else { return }
        mailFrom = address
        note(.mailFrom, address.isEmpty ? "<>" : address, from: source, inferred: inferred)
    }

    mutating func addRecipient(_ address: String, from source: String) {
        guard !address.isEmpty, !rcptTo.contains(address) else { return }
        rcptTo.append(address)
        note(.rcptTo, address, from: source)
    }

    mutating func setReply(_ reply: SMTPReply, from source: String, inferred: Bool = false) {
        guard self.reply == nil else { return }
        // A gateway's reply that quotes the next server's (Exchange Online: `550 5.7.514 Decision
        // Engine classified ... -> 554 5.7.1 Service unavailable; ...`; Exchange 2003: `<mx #5.0.0
        // smtp; 554 text>`): the quoted reply is the refusal the receiver made.
        if let inner = ReplyText.forwarded(reply) {
            self.reply = inner
            note(
                .reply, inner.description,
                from: source + " (the reply the gateway's `\(reply.code) \(reply.enhanced ?? "")` quotes)",
                inferred: inferred)
            return
        }
        self.reply = reply
        note(.reply, reply.description, from: source, inferred: inferred)
    }

    mutating func setStage(_ stage: SMTPStage, from source: String, inferred: Bool = false) {
        guard self.stage == nil else { return }
        self.stage = stage
        note(.stage, stage.rawValue, from: source, inferred: inferred)
    }

    mutating func setReceiverName(_ name: String, from source: String, inferred: Bool = false) {
        let normal = DNSName.normalize(name)
        // An address where a name stands (OpenSMTPD's `relay=127.0.0.1 (localhost)`) is no host name.
        guard receiverName == nil, DNSName.isValidHostname(normal), normal.contains("."), IPAddress(normal) == nil
        else { return }
        receiverName = normal
        note(.receiverName, normal, from: source, inferred: inferred)
    }

    mutating func setOutcome(_ outcome: DeliveryOutcome, from source: String, inferred: Bool = false) {
        guard observedOutcome == nil else { return }
        observedOutcome = outcome
        note(.outcome, outcome.rawValue, from: source, inferred: inferred)
    }

    mutating func setReceiverAddress(_ address: IPAddress, from source: String) {
        guard receiverAddress == nil else { return }
        let (address, source) = Self.unmapped(address, source)
        receiverAddress = address
        note(.receiverAddress, address.description, from: source)
    }

    mutating func setClientName(_ name: String, from source: String) {
        guard clientName == nil, !name.isEmpty else { return }
        clientName = DNSName.normalize(name)
        note(.clientName, clientName!, from: source)
    }

    /// The fields this evidence does not tell.
    public var missing: [EvidenceField] {
        var out: [EvidenceField] = []
        if clientAddress == nil { out.append(.clientAddress) }
        if helo == nil { out.append(.helo) }
        if mailFrom == nil { out.append(.mailFrom) }
        if rcptTo.isEmpty { out.append(.rcptTo) }
        if reply == nil { out.append(.reply) }
        if stage == nil { out.append(.stage) }
        if receiverName == nil { out.append(.receiverName) }
        if receiverAddress == nil { out.append(.receiverAddress) }
        return out
    }
}

/// Input that none of the readers recognised, with what was looked for and what was found.
public struct UnrecognizedEvidence: Error, Sendable, Hashable, CustomStringConvertible {
    /// The formats tried, each with why it did not fit.
    public var attempts: [(format: String, reason: String)]
    /// Pieces that were found on the way (an address, a reply code), to help the user.
    public var found: [String]

    public init(attempts: [(format: String, reason: String)], found: [String]) {
        self.attempts = attempts
        self.found = found
    }

    public static func == (lhs: UnrecognizedEvidence, rhs: UnrecognizedEvidence) -> Bool {
        lhs.attempts.map { $0.format + $0.reason } == rhs.attempts.map { $0.format + $0.reason }
            && lhs.found == rhs.found
    }

    public func hash(into hasher: inout Hasher) {
        for attempt in attempts { hasher.combine(attempt.format + attempt.reason) }
        hasher.combine(found)
    }

    public var description: String {
        var lines = ["cannot tell what failed from this input: it is none of the formats mxharness repro reads."]
        lines.append("Looked for:")
        for attempt in attempts { lines.append("  - \(attempt.format): \(attempt.reason)") }
        lines.append(
            found.isEmpty
                ? "Found nothing usable (no SMTP reply code, no address)." : "Found: " + found.joined(separator: "; "))
        lines.append(
            "Give a bounce message (with its delivery-status part if there is one), one Postfix or Exim log line with the reply, or the SMTP dialogue."
        )
        return lines.joined(separator: "\n")
    }
}
