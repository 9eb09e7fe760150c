/// One engine of `receiver.engines`: a real policy engine that runs beside the receiver in the
/// case's namespace (scenario format 1.2, "Receivers with real policy engines"). A name, like
/// `ReceiverTarget`: the receiver kind that runs a case says which engines it can run, and skips
/// the case with the reason when it cannot run one.
public struct ReceiverEngine: RawRepresentable, Sendable, Hashable, CaseIterable, Comparable, CustomStringConvertible {
    public let rawValue: String

    /// postfix-policyd-spf-python as a Postfix policy service: it answers the policy's `spf` and
    /// `spf-pass` checks.
    public static let policydSPF = ReceiverEngine(named: "policyd-spf")
    /// rspamd (a milter of Postfix, asked over HTTP by the built-in MX): its own scores and actions
    /// decide, after the policy's checks.
    public static let rspamd = ReceiverEngine(named: "rspamd")

    /// The engines the scenario format names.
    public static let allCases: [ReceiverEngine] = [.policydSPF, .rspamd]

    public init?(rawValue: String) {
        guard Self.allCases.contains(where: { $0.rawValue == rawValue }) else { return nil }
        self.rawValue = rawValue
    }

    public init(named name: String) { rawValue = name }

    public var description: String { rawValue }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// `receiver.rspamd`: the score thresholds of rspamd's actions (rspamd's `actions` section,
/// `local.d/actions.conf`); an action not given keeps rspamd's own default.
public struct RspamdThresholds: Sendable, Hashable {
    /// The actions rspamd scores against, in the order its milter applies them (the highest
    /// threshold reached decides): the format's keys.
    public enum Action: String, Sendable, Hashable, CaseIterable, Comparable {
        /// 5xx after DATA (`554 5.7.1 Spam message rejected` from the proxy's `reject_message`).
        case reject
        /// 4xx after DATA (`451 4.7.1 Try again later`).
        case softReject = "soft_reject"
        /// The subject is rewritten; the message is accepted.
        case rewriteSubject = "rewrite_subject"
        /// `X-Spam: Yes` is added; the message is accepted.
        case addHeader = "add_header"
        /// 4xx when a greylisting store is configured (the harness configures none: accepted).
        case greylist

        public static func < (lhs: Self, rhs: Self) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }
    }

    public var scores: [Action: Double]

    public init(_ scores: [Action: Double] = [:]) {
        self.scores = scores
    }

    public subscript(action: Action) -> Double? {
        get { scores[action] }
        set { scores[action] = newValue }
    }

    public var isEmpty: Bool { scores.isEmpty }

    /// rspamd 3.4's own thresholds (`/etc/rspamd/actions.conf`), which stand for the actions not given.
    public static let rspamdDefaults: [Action: Double] = [.reject: 15, .addHeader: 6, .greylist: 4]

    /// The actions whose thresholds rspamd 3.4 wants strictly increasing, in that order
    /// (`invalid actions thresholds order: action add_header (6) must have lower score than
    /// action reject (4)`, after which it does not reject at the given score).
    public static let ordered: [Action] = [.addHeader, .rewriteSubject, .reject]

    /// The first pair out of rspamd's order, counting its defaults for the actions not given:
    /// `lower` should score below `higher` and does not; nil when the thresholds are in order.
    public var orderViolation: (lower: Action, higher: Action)? {
        let effective = Self.rspamdDefaults.merging(scores) { $1 }
        for (index, lower) in Self.ordered.enumerated() {
            guard let low = effective[lower] else { continue }
            for higher in Self.ordered[(index + 1)...] {
                if let high = effective[higher], low >= high { return (lower, higher) }
            }
        }
        return nil
    }

    /// A score as written in a configuration: `15`, `6.5`.
    public static func text(_ score: Double) -> String {
        score == score.rounded() && abs(score) < 1e9 ? String(Int(score)) : String(score)
    }
}

/// `sender.proxy`: what stands between the sender and the receiver when `sender.identity` names
/// a proxy (scenario format 1.2, "A real proxy in front of the receiver"). A name, like
/// `SenderMTA`: the runner finds the proxy part for it in its `PartCatalog`.
public struct SenderProxy: RawRepresentable, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    public let rawValue: String

    /// The built-in sender writes the PROXY header or XCLIENT itself, from `sender.proxy_address`
    /// (format 1.1's behaviour).
    public static let model = SenderProxy(named: "model")
    /// A real HAProxy at `sender.proxy_address`, between any sender and the receiver.
    public static let haproxy = SenderProxy(named: "haproxy")

    /// The proxies the scenario format names.
    public static let allCases: [SenderProxy] = [.model, .haproxy]

    public init?(rawValue: String) {
        guard Self.allCases.contains(where: { $0.rawValue == rawValue }) else { return nil }
        self.rawValue = rawValue
    }

    public init(named name: String) { rawValue = name }

    public var description: String { rawValue }
}

extension SenderSpec {
    /// A real proxy (any `sender.proxy` but `model`) carries the sender's connections.
    public var throughRealProxy: Bool { proxy != .model }

    /// The connection reaches the receiver from `sender.proxy_address`: a modelled proxy path
    /// (`identity` other than `socket`), or a real proxy, which connects from there whatever
    /// header it sends.
    public var connectsFromProxy: Bool { identity.usesProxy || throughRealProxy }

    /// The header the built-in sender writes itself: `identity`, unless a real proxy writes it.
    public var modelledIdentity: IdentityPath { throughRealProxy ? .socket : identity }
}
