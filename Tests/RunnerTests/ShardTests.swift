import DNSCore
import Foundation
import Runner
import Scenario
import Testing

struct ShardTests {
    static func names(_ count: Int, prefix: String = "case") -> [String] {
        (0..<count).map { "\(prefix)-\($0)/variant-\($0 % 7)" }
    }

    static func scenario(_ name: String) -> ScenarioCase {
        ScenarioCase(
            name: name, description: nil, tags: [], location: SourceLocation(file: "s.yaml", line: 1, column: 1),
            dns: WorldSpec(), receiver: ReceiverSpec(addresses: [IPAddress("2001:db8::10")!]),
            sender: SenderSpec(
                addresses: [.ipv6: IPAddress("2001:db8:5::25")!], helo: "h.test", mailFrom: "a@s.test",
                rcptTo: ["b@e.test"]),
            expect: Expectation())
    }

    /// The published FNV-1a 64 test vectors, so another tool can compute the same split.
    @Test func hashIsFNV1a64() {
        #expect(CaseShard.fnv1a("") == 0xcbf2_9ce4_8422_2325)
        #expect(CaseShard.fnv1a("a") == 0xaf63_dc4c_8601_ec8c)
        #expect(CaseShard.fnv1a("foobar") == 0x8594_4171_f739_67e8)
    }

    @Test func parsesKOfN() {
        #expect(CaseShard("2/3") == CaseShard(index: 2, count: 3))
        #expect(CaseShard("1/1")?.description == "1/1")
        for bad in ["0/3", "4/3", "1/0", "-1/2", "a/b", "1/3/4", "13", "", "/3", "2/"] {
            #expect(CaseShard(bad) == nil, "\(bad)")
        }
    }

    /// For every N, each case is in exactly one of the N shards, and the shards together are the
    /// selection, in its order.
    @Test(arguments: [1, 2, 3, 4, 7, 16])
    func everyCaseIsInExactlyOneShard(count: Int) throws {
        let cases = Self.names(300).map(Self.scenario)
        var seen: [String: Int] = [:]
        var positions: [Int] = []
        for index in 1...count {
            let shard = try #require(CaseShard(index: index, count: count))
            let part = shard.select(cases)
            #expect(part.placement == ShardPlacement(index: index, count: count, total: cases.count))
            #expect(part.cases.map(\.name) == part.positions.map { cases[$0].name })
            for scenario in part.cases { seen[scenario.name, default: 0] += 1 }
            positions += part.positions
        }
        #expect(seen.count == cases.count)
        #expect(seen.values.allSatisfy { $0 == 1 })
        #expect(positions.sorted() == Array(cases.indices))
        if count > 1 {
            // Not a split that puts everything in one shard.
            #expect(
                (1...count).allSatisfy { index in
                    cases.contains { CaseShard(index: index, count: count)!.contains($0.name) }
                })
        }
    }

    /// A case's shard depends on its name and N only: adding cases elsewhere moves no case.
    @Test func addingCasesMovesNoOther() throws {
        let before = Self.names(120)
        let after = Self.names(40, prefix: "new") + before + Self.names(40, prefix: "later")
        for count in [2, 3, 5] {
            for index in 1...count {
                let shard = try #require(CaseShard(index: index, count: count))
                let old = shard.apply(before.map(Self.scenario)).map(\.name)
                let new = shard.apply(after.map(Self.scenario)).map(\.name).filter { before.contains($0) }
                #expect(old == new)
            }
        }
    }
}
