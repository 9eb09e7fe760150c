import Foundation
import Reports
import Runner
import Scenario
import Testing

/// `mxharness merge` of run reports: the shards' JSON reports make the report of one run.
struct ReportMergeTests {
    static func object(_ data: Data) throws -> Any { try JSONSerialization.jsonObject(with: data) }

    /// The results of one run, split into `count` shards the way `--shard K/N` splits, each shard's
    /// report written as `run --shard K/N --json` writes it.
    static func shardReports(_ results: [CaseResult], count: Int) throws -> [(path: String, object: Any)] {
        try (1...count).map { index in
            let shard = try #require(CaseShard(index: index, count: count))
            let part = shard.select(results.map(\.scenario))
            let shardResults = part.positions.map { results[$0] }
            let data = try JSONReporter.render(shardResults, shard: (part.placement, part.positions))
            return ("shard-\(index).json", try object(data))
        }
    }

    /// Many cases with every status, so each of 3 shards gets some.
    static func results() -> [CaseResult] {
        (0..<12).flatMap { round in
            Fixtures.results().map { result in
                var copy = result
                copy.scenario.name = "\(round)/" + result.scenario.name
                return copy
            }
        }
    }

    @Test func threeShardsMergedAreTheWholeRunsReport() throws {
        let results = Self.results()
        let whole = try Self.object(JSONReporter.render(results)) as? NSDictionary
        let shards = try Self.shardReports(results, count: 3)
        #expect(
            shards.allSatisfy { (($0.object as? [String: Any])?["cases"] as? [Any])?.isEmpty == false },
            "each shard has cases")
        let merged = try ReportMerge.merge(shards.reversed())
        #expect(try Self.object(merged.data) as? NSDictionary == whole)
        let summary = RunSummary(results)
        #expect(merged.line == summary.line)
        #expect(merged.allPassed == summary.allPassed)
        #expect(merged.problems.count == summary.failed + summary.errors)
        #expect(merged.problems.first == "failed 0/fails <&> \"quoted\" #1")
    }

    @Test func aMissingOrDoubledShardOrAWholeRunIsRefused() throws {
        let results = Self.results()
        let shards = try Self.shardReports(results, count: 3)
        #expect { try ReportMerge.merge(Array(shards.prefix(2))) } throws: { "\($0)".contains("shard 3/3 missing") }
        #expect { try ReportMerge.merge(shards + [shards[1]]) } throws: { "\($0)".contains("are both shard 2/3") }
        let whole = try Self.object(JSONReporter.render(results))
        #expect { try ReportMerge.merge(shards + [("whole.json", whole)]) } throws: {
            "\($0)".contains("whole.json is the report of a whole run")
        }
        let otherSplit = try Self.shardReports(results, count: 2)
        #expect { try ReportMerge.merge([shards[0], otherSplit[1]]) } throws: { "\($0)".contains("not the same split") }
    }
}
