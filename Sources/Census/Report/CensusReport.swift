import Runner

/// Clients, sessions and messages: how much mail a group of clients stands for.
public struct Weight: Sendable, Hashable, Codable {
    public var clients = 0
    public var sessions = 0
    public var messages = 0

    public init(clients: Int = 0, sessions: Int = 0, messages: Int = 0) {
        self.clients = clients
        self.sessions = sessions
        self.messages = messages
    }

    static func += (lhs: inout Weight, rhs: Weight) {
        lhs.clients += rhs.clients
        lhs.sessions += rhs.sessions
        lhs.messages += rhs.messages
    }
}

/// One client shown as an example (the biggest of a group).
public struct ClientExample: Sendable, Hashable, Codable {
    public var addresses: [String]
    public var helo: String?
    public var sender: String?
    public var sessions: Int
    public var messages: Int
}

/// How one run (a group of clients with the same world) ended against one column.
public struct GroupOutcome: Sendable, Hashable, Codable {
    public var fate: Fate
    /// The cell in a few words (`delivered/v4 after 450`).
    public var label: String
    /// The deciding reply.
    public var reply: String
    /// Why it differs from the first column; nil when it does not.
    public var reason: String?
}

/// Clients whose worlds are the same up to names and addresses, run once (or one client, with
/// `--every-client`), with their weight and what happened in each column.
public struct CensusGroup: Sendable, Hashable, Codable {
    /// The case's name.
    public var name: String
    /// The facts in words.
    public var description: String
    public var weight: Weight
    public var dualStack: Int
    /// Envelope domains (`<>` for the null sender) with the weight of the group's clients using each.
    public var domains: [String: Weight]
    /// The biggest clients, by messages.
    public var examples: [ClientExample]
    /// Column name → outcome.
    public var outcomes: [String: GroupOutcome]
}

/// One row of a ranking: a reason or a domain with the weight of the changed clients under it.
public struct RankedWeight: Sendable, Hashable, Codable {
    public var name: String
    public var clients: Int
    public var sessions: Int
    public var messages: Int
    /// The biggest clients under it.
    public var examples: [ClientExample]?
    /// Its clients by fate under the policy (`fell_back`, `deferred`, `bounced`, ...).
    public var fates: [String: Int]?
}

/// What one column does to the clients.
public struct PolicyResult: Sendable, Hashable, Codable {
    public var name: String
    /// Counts in clients.
    public var delivered = 0
    public var fellBack = 0
    public var deferred = 0
    public var bounced = 0
    public var errors = 0
    /// The same in sessions and in messages.
    public var sessions: [String: Int] = [:]
    public var messages: [String: Int] = [:]
    /// Clients whose fate differs from the first column's, by reason and by envelope domain (top N).
    public var changed: Weight?
    public var byReason: [RankedWeight]?
    public var byDomain: [RankedWeight]?

    enum CodingKeys: String, CodingKey {
        case name, delivered, fellBack = "fell_back", deferred, bounced, errors, sessions, messages, changed
        case byReason = "by_reason", byDomain = "by_domain"
    }

    public func clients(_ fate: Fate) -> Int {
        switch fate {
        case .delivered: delivered
        case .fellBack: fellBack
        case .deferred: deferred
        case .bounced: bounced
        case .error: errors
        }
    }
}

/// The census: every column's totals and changes, computed from the groups (so that shards'
/// reports merge into the report one machine would have written).
public struct CensusReport: Sendable, Codable {
    public var clients = 0
    public var sessions = 0
    public var messages = 0
    public var dualStack = 0
    /// `log` (worlds from the logs alone) or `resolver ADDR` (recorded live).
    public var worlds: String
    public var target: String
    /// Distinct runs (worlds) behind the clients.
    public var runs = 0
    public var policies: [PolicyResult] = []
    /// What had to be assumed, with how many clients.
    public var assumptions: [String: Int]
    public var reading: ReadingSummary
    public var top: Int
    public var shard: ShardPlacement?
    public var groups: [CensusGroup]

    enum CodingKeys: String, CodingKey {
        case clients, sessions, messages, dualStack = "dual_stack", worlds, target, runs, policies, assumptions,
            reading, top, shard, groups
    }

    public init(
        groups: [CensusGroup], columns: [String], worlds: String, target: String, assumptions: [String: Int],
        reading: ReadingSummary,
        top: Int, shard: ShardPlacement? = nil
    ) {
        self.groups = groups
        self.worlds = worlds
        self.target = target
        self.assumptions = assumptions
        self.reading = reading
        self.top = top
        self.shard = shard
        compute(columns: columns)
    }

    /// The totals and rankings from `groups`.
    public mutating func compute(columns: [String]) {
        clients = groups.reduce(0) { $0 + $1.weight.clients }
        sessions = groups.reduce(0) { $0 + $1.weight.sessions }
        messages = groups.reduce(0) { $0 + $1.weight.messages }
        dualStack = groups.reduce(0) { $0 + $1.dualStack }
        runs = groups.count
        policies = columns.enumerated().map { index, column in
            var result = PolicyResult(name: column)
            var reasons: [String: (Weight, [ClientExample], [String: Int])] = [:]
            var domains: [String: Weight] = [:]
            var changed = Weight()
            for group in groups {
                guard let outcome = group.outcomes[column] else { continue }
                switch outcome.fate {
                case .delivered: result.delivered += group.weight.clients
                case .fellBack: result.fellBack += group.weight.clients
                case .deferred: result.deferred += group.weight.clients
                case .bounced: result.bounced += group.weight.clients
                case .error: result.errors += group.weight.clients
                }
                result.sessions[outcome.fate.rawValue, default: 0] += group.weight.sessions
                result.messages[outcome.fate.rawValue, default: 0] += group.weight.messages
                guard index > 0, let reason = outcome.reason else { continue }
                changed += group.weight
                var entry = reasons[reason] ?? (Weight(), [], [:])
                entry.0 += group.weight
                entry.1 += group.examples
                entry.2[outcome.fate.rawValue, default: 0] += group.weight.clients
                reasons[reason] = entry
                for (domain, weight) in group.domains { domains[domain, default: Weight()] += weight }
            }
            for fate in Fate.allCases {
                result.sessions[fate.rawValue] = result.sessions[fate.rawValue] ?? 0
                result.messages[fate.rawValue] = result.messages[fate.rawValue] ?? 0
            }
            if index > 0 {
                result.changed = changed
                result.byReason = Self.rank(
                    reasons.map { ($0.key, $0.value.0, Self.biggest($0.value.1), $0.value.2) }, top: top)
                result.byDomain = Self.rank(domains.map { ($0.key, $0.value, nil, nil) }, top: top)
            }
            return result
        }
    }

    static func biggest(_ examples: [ClientExample]) -> [ClientExample] {
        Array(
            examples.sorted {
                ($0.messages, $0.sessions, $1.addresses.joined()) > ($1.messages, $1.sessions, $0.addresses.joined())
            }.prefix(3))
    }

    /// By clients, then messages, then name; the first `top`.
    static func rank(_ rows: [(String, Weight, [ClientExample]?, [String: Int]?)], top: Int) -> [RankedWeight] {
        rows.sorted { ($0.1.clients, $0.1.messages, $1.0) > ($1.1.clients, $1.1.messages, $0.0) }
            .prefix(top)
            .map {
                RankedWeight(
                    name: $0.0, clients: $0.1.clients, sessions: $0.1.sessions, messages: $0.1.messages, examples: $0.2,
                    fates: $0.3)
            }
    }
}
