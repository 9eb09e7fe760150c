import DNSCore
import SPF

extension SPFResult {
    /// From the word as policyd-spf and others write it (`Pass`, `Softfail`, `SoftFail`, `TempError`).
    init?(word: some StringProtocol) {
        self.init(rawValue: word.lowercased())
    }

    /// Of two results logged for one domain, the one that tells more against it.
    static func worse(_ a: SPFResult, _ b: SPFResult) -> SPFResult {
        let order: [SPFResult] = [.pass, .none, .neutral, .softfail, .fail, .temperror, .permerror]
        return order.firstIndex(of: a)! >= order.firstIndex(of: b)! ? a : b
    }
}

/// What the log says about one client address over all its sessions.
public struct AddressEvidence: Sendable {
    public var address: IPAddress
    /// Sessions (counted once each) and messages (distinct queue ids / Exim message ids).
    public var sessions = 0
    public var messages = 0
    /// Forward-confirmed names the MTA logged for the address (`name[addr]`, Exim's `H=name`), with
    /// how often.
    public var confirmedNames: [String: Int] = [:]
    /// Sessions in which the MTA logged the name `unknown` (Postfix) or none (Exim).
    public var unknownSessions = 0
    /// A PTR name that did not resolve back to the address (Postfix `warning: hostname N does not
    /// resolve to address A`, Exim `no IP address found for host N`); `resolvesElsewhere` when the
    /// name had addresses, only not this one.
    public var unconfirmedName: (name: String, resolvesElsewhere: Bool)?
    /// The PTR lookup found nothing (Postfix's reverse-hostname reject, Exim `no host name found`).
    public var ptrMissing = false
    /// HELO names as logged, with how many sessions or lines gave each.
    public var helos: [String: Int] = [:]
    /// HELO names a reject (or warn_if_reject) line said do not resolve (`Helo command rejected: Host not found`).
    public var helosNotFound: Set<String> = []
    /// Envelope senders with their messages (`""` is the null sender).
    public var senders: [String: Int] = [:]
    /// SPF results a policy service logged, per identity domain.
    public var spf: [String: SPFResult] = [:]
    /// DNSBL zones a reject (or warning) said the address is listed in.
    public var dnsbl: Set<String> = []
    /// The replies of reject and reject_warning lines, with how often (for the report).
    public var rejections: [String: Int] = [:]
    /// Where the address was first seen.
    public var firstSeen: LogPosition?

    public init(address: IPAddress) {
        self.address = address
    }

    /// The confirmed name seen most often (ties: alphabetical).
    public var confirmedName: String? {
        confirmedNames.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key
    }

    /// The HELO seen most often (ties: alphabetical); nil when none was logged.
    public var helo: String? {
        helos.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key
    }

    mutating func merge(_ other: AddressEvidence) {
        sessions += other.sessions
        messages += other.messages
        confirmedNames.merge(other.confirmedNames, uniquingKeysWith: +)
        unknownSessions += other.unknownSessions
        unconfirmedName = unconfirmedName ?? other.unconfirmedName
        ptrMissing = ptrMissing || other.ptrMissing
        helos.merge(other.helos, uniquingKeysWith: +)
        helosNotFound.formUnion(other.helosNotFound)
        senders.merge(other.senders, uniquingKeysWith: +)
        spf.merge(other.spf, uniquingKeysWith: SPFResult.worse)
        dnsbl.formUnion(other.dnsbl)
        rejections.merge(other.rejections, uniquingKeysWith: +)
        if firstSeen == nil { firstSeen = other.firstSeen }
    }
}

/// Counts of what was read, for the report's first lines.
public struct ReadingSummary: Sendable, Hashable, Codable {
    public var files = 0
    public var lines = 0
    /// Entries per framing (`syslog`, `journal-export`, ...).
    public var framings: [String: Int] = [:]
    /// Records of Postfix smtpd and of Exim.
    public var postfixRecords = 0
    public var eximRecords = 0
    /// Sessions left out: authenticated (SASL) submissions and loopback clients (content filters).
    public var authenticatedSessions = 0
    public var loopbackSessions = 0
    /// The first and last timestamp as written.
    public var first: String?
    public var last: String?
    /// Things the reader could not tell from these logs, said once each.
    public var notes: [String] = []

    public init() {}
}
