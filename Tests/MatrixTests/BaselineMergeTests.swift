import Foundation
import Matrix
import Policy
import Runner
import Scenario
import Testing

/// `mxharness merge` of matrix baselines: the shards' baselines make the baseline, the summary and
/// the comparison of one run of the whole matrix.
struct BaselineMergeTests {
    static let columns = [PolicyColumn.preset(.fcrdns), PolicyColumn.preset(.fcrdnsStrict)]

    /// 20 cases, half of them the dual-stack fallback (differs between the columns), half a good sender.
    static func cases() -> [ScenarioCase] {
        (0..<20).map { index in
            index.isMultiple(of: 2)
                ? Fixtures.scenario("dual-\(index)")
                : Fixtures.scenario("good-\(index)", policy: Preset.fcrdnsStrict.policy)
        }
    }

    static func results(_ cases: [ScenarioCase]) -> [CaseResult] {
        cases.flatMap { scenario in
            scenario.name.hasPrefix("dual")
                ? [Fixtures.fallback(scenario), Fixtures.bounce(scenario)]
                : [Fixtures.delivered6(scenario), Fixtures.delivered6(scenario)]
        }
    }

    static func matrix(_ cases: [ScenarioCase]) -> Matrix {
        MatrixRunner.assemble(cases, columns: columns, results: results(cases), target: .builtin)
    }

    /// Each shard's baseline, as `matrix --shard K/3 --save-baseline` writes it (and reads it back).
    static func shardBaselines(_ cases: [ScenarioCase], count: Int = 3) throws -> [(path: String, baseline: Baseline)] {
        try (1...count).map { index in
            let part = try #require(CaseShard(index: index, count: count)).select(cases)
            let baseline = Baseline(matrix(part.cases), shard: part.placement, positions: part.positions)
            return ("shard-\(index).json", try Baseline.decode(try baseline.encoded(), path: "shard-\(index).json"))
        }
    }

    @Test func threeShardsMergedAreTheWholeMatrix() throws {
        let cases = Self.cases()
        let whole = Self.matrix(cases)
        let shards = try Self.shardBaselines(cases)
        #expect(shards.allSatisfy { !$0.baseline.cases.isEmpty }, "each shard has cases")
        let merged = try MergedBaseline.merge(shards.reversed())
        #expect(try merged.baseline.encoded() == Baseline(whole).encoded(), "the same file byte for byte")
        #expect(merged.summary == whole.summary)
        #expect(merged.order == whole.rows.map(\.name))

        // Against an older baseline in which every dual-stack case was delivered under both
        // policies, one case is gone, and a case was never there: the same changes, in the same order.
        var old = Baseline(whole)
        for name in Array(old.cases.keys) where name.hasPrefix("dual") {
            let lenient = old.cases[name]?["fcrdns"]
            old.cases[name]?["fcrdns-strict"] = lenient
        }
        old.cases["good-3"] = nil
        old.cases["removed-case"] = ["fcrdns": old.cases["good-1"]!["fcrdns"]!]
        let expected = BaselineComparison.compare(old, with: whole)
        #expect(!expected.isUnchanged)
        #expect(merged.compared(with: old) == expected)
    }

    @Test func aMissingShardOrAWholeBaselineIsRefused() throws {
        let cases = Self.cases()
        let shards = try Self.shardBaselines(cases)
        #expect { try MergedBaseline.merge(Array(shards.dropFirst())) } throws: {
            "\($0)".contains("shard 1/3 missing")
        }
        #expect { try MergedBaseline.merge(shards + [("whole.json", Baseline(Self.matrix(cases)))]) } throws: {
            "\($0)".contains("whole.json is the baseline of a whole matrix")
        }
        var otherColumns = shards
        otherColumns[1].baseline.columns["fcrdns"] = "something else"
        #expect { try MergedBaseline.merge(otherColumns) } throws: { "\($0)".contains("not the same matrix") }
    }
}
