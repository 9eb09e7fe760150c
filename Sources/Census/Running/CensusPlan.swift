import DNSCore
import Runner
import Scenario

/// Clients grouped by the world they would run in: one case per group.
public struct CensusPlan: Sendable {
    public struct Group: Sendable {
        /// The facts the case runs (canonical when clients share it).
        public var facts: ClientFacts
        public var clients: [CensusClient]
        public var scenario: ScenarioCase
    }

    public var groups: [Group]
    /// Assumption → clients it was made for.
    public var assumptions: [String: Int]

    /// One group per distinct canonical world (`ClientFacts.canonical`), or one per client when
    /// `everyClient` (each in its own world, with its own names and addresses).
    public static func make(_ clients: [(CensusClient, ClientFacts, Set<Assumption>)], everyClient: Bool) -> CensusPlan
    {
        var assumptions: [String: Int] = [:]
        var order: [ClientFacts] = []
        var members: [ClientFacts: [CensusClient]] = [:]
        var groups: [Group] = []
        for (client, facts, assumed) in clients {
            for assumption in assumed { assumptions[assumption.rawValue, default: 0] += 1 }
            if everyClient {
                let name = "census/" + client.key
                groups.append(
                    Group(
                        facts: facts, clients: [client],
                        scenario: CensusWorld.scenario(facts, name: name, description: facts.label)))
                continue
            }
            let canonical = facts.canonical
            if members[canonical] == nil { order.append(canonical) }
            members[canonical, default: []].append(client)
        }
        if !everyClient {
            for facts in order {
                let name = "census/" + String(CaseShard.fnv1a(String(describing: facts)), radix: 16)
                groups.append(
                    Group(
                        facts: facts, clients: members[facts]!,
                        scenario: CensusWorld.scenario(facts, name: name, description: facts.label)))
            }
        }
        return CensusPlan(groups: groups, assumptions: assumptions)
    }
}
