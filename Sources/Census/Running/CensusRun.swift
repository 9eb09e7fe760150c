import DNSCore
import Foundation
import Logging
import Matrix
import Runner
import Scenario

/// What a census run is asked to do.
public struct CensusRequest: Sendable {
    public var logs: [String]
    public var columns: [PolicyColumn]
    /// Record each client's DNS from this resolver (`--resolver`); nil: worlds from the logs alone.
    public var resolver: LiveResolver?
    /// One run per client instead of one per distinct world.
    public var everyClient: Bool
    public var shard: CaseShard?
    public var top: Int
    public var jobs: Int

    public init(
        logs: [String], columns: [PolicyColumn], resolver: LiveResolver? = nil, everyClient: Bool = false,
        shard: CaseShard? = nil,
        top: Int = 10, jobs: Int = 1
    ) {
        self.logs = logs
        self.columns = columns
        self.resolver = resolver
        self.everyClient = everyClient
        self.shard = shard
        self.top = top
        self.jobs = jobs
    }
}

/// `mxharness census`: the logs read, the clients grouped, each client's world built, each world
/// run against every column as the matrix runs cases, and the outcomes weighed by the clients,
/// sessions and messages behind each world.
public struct CensusRun: Sendable {
    public var runner: CaseRunner
    public var logger: Logger

    public init(runner: CaseRunner, logger: Logger) {
        self.runner = runner
        self.logger = logger
    }

    /// The clients of the logs with their facts (read, or recorded live).
    public static func clients(_ log: SessionLog, resolver: LiveResolver?, logger: Logger) async throws -> [(
        CensusClient, ClientFacts, Set<Assumption>
    )] {
        let clients = ClientGrouping.group(log.addresses)
        guard let resolver else {
            return clients.map { client in
                let (facts, assumptions) = LogFacts.facts(for: client)
                return (client, facts, assumptions)
            }
        }
        return try await LiveFacts.facts(for: clients, resolver: resolver, logger: logger)
    }

    /// Runs the plan's groups (those of `shard`) against `columns` and weighs the outcomes.
    public func run(
        _ plan: CensusPlan, request: CensusRequest, reading: ReadingSummary,
        progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in }
    ) async -> CensusReport {
        var groups = plan.groups
        var placement: ShardPlacement?
        if let shard = request.shard {
            let total = groups.count
            groups = groups.filter { shard.contains($0.scenario.name) }
            placement = ShardPlacement(index: shard.index, count: shard.count, total: total)
        }
        let matrixRunner = MatrixRunner(runner: runner, jobs: request.jobs)
        let matrix = await matrixRunner.run(groups.map(\.scenario), columns: request.columns, progress: progress)
        let columnNames = request.columns.map(\.name)
        var results: [CensusGroup] = []
        for (index, group) in groups.enumerated() {
            let row = matrix.rows[index]
            var outcomes: [String: GroupOutcome] = [:]
            let firstFate = row.cells.first.map { Fate($0.outcome) }
            for (column, cell) in zip(request.columns, row.cells) {
                let fate = Fate(cell.outcome)
                var reason: String?
                if let firstFate, fate != firstFate {
                    let refused = cell.outcome.attempts.first { $0.result != .accepted }?.family ?? cell.outcome.family
                    reason =
                        fate == .error
                        ? "could not run: " + (cell.outcome.reason ?? "")
                        : ChangeReason.explain(
                            group.facts, policy: column.policy, family: refused, reply: cell.outcome.reply?.description)
                }
                outcomes[column.name] = GroupOutcome(
                    fate: fate, label: cell.outcome.label, reply: cell.outcome.replyLine, reason: reason)
            }
            results.append(Self.weigh(group, outcomes: outcomes))
        }
        let worlds = request.resolver.map { "resolver \($0.server)@\($0.port)" } ?? "log"
        return CensusReport(
            groups: results, columns: columnNames, worlds: worlds, target: matrixRunner.target.rawValue,
            assumptions: plan.assumptions,
            reading: reading, top: request.top, shard: placement)
    }

    static func weigh(_ group: CensusPlan.Group, outcomes: [String: GroupOutcome]) -> CensusGroup {
        var weight = Weight()
        var domains: [String: Weight] = [:]
        var dualStack = 0
        for client in group.clients {
            let own = Weight(clients: 1, sessions: client.sessions, messages: client.messages)
            weight += own
            if client.isDualStack { dualStack += 1 }
            let clientDomains = client.domains
            for (domain, messages) in clientDomains {
                domains[domain, default: Weight()] += Weight(clients: 1, sessions: client.sessions, messages: messages)
            }
        }
        let examples = group.clients
            .sorted { ($0.messages, $0.sessions, $1.key) > ($1.messages, $1.sessions, $0.key) }
            .prefix(3)
            .map { client in
                ClientExample(
                    addresses: client.addresses.map(\.address.description)
                        + (client.addedFromDNS.map { [$0.description] } ?? []),
                    helo: client.helo, sender: client.primarySender, sessions: client.sessions,
                    messages: client.messages)
            }
        return CensusGroup(
            name: group.scenario.name, description: group.facts.label, weight: weight, dualStack: dualStack,
            domains: domains,
            examples: Array(examples), outcomes: outcomes)
    }
}
