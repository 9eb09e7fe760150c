import Foundation
import Harness
import Logging
import MXHarnessTestKit
import Runner
import RunnerTestKit
import Testing

/// `--shard K/3` through real worlds, then `mxharness merge`: the same report and baseline as one run.
@Suite(.serialized, .enabled(if: IntegrationEnvironment.canRunWorlds, IntegrationEnvironment.worldSkipReason))
struct ShardIntegrationTests {
    /// What must not differ between two runs of the same worlds (timings and queue ids may).
    static func essentials(_ path: String) throws -> [[String]] {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
        let cases = try #require((object as? [String: Any])?["cases"] as? [[String: Any]])
        return cases.map { entry in
            ["name", "status", "outcome", "family", "stage"].map { "\(entry[$0] ?? "-")" }
                + ["\((entry["reply"] as? [String: Any])?["code"] ?? "-")"]
        }
    }

    @Test func threeShardsMergedEqualOneRun() async throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let scenarios = directory + "/scenarios"
        try FileManager.default.createDirectory(atPath: scenarios, withIntermediateDirectories: true)
        try Fixtures.writeFixtureScenarios(into: scenarios)
        // The same senders under other names, so that each of the three shards gets cases.
        for (name, text) in Fixtures.fixtureScenarios {
            try text.write(toFile: scenarios + "/second-" + name, atomically: true, encoding: .utf8)
        }
        let logger = Logger(label: "shard-test")
        func run(_ shard: CaseShard?, json: String) async throws -> Verdict {
            try await Harness.run(
                RunOptions(
                    paths: [scenarios], jobs: 2, selection: CaseSelection(), shard: shard,
                    configuration: RunConfiguration(target: .builtin), jsonPath: json, parts: builtinParts),
                logger: logger)
        }
        let whole = try await run(nil, json: directory + "/whole.json")
        var parts: [String] = []
        for index in 1...3 {
            parts.append(directory + "/shard-\(index).json")
            _ = try await run(CaseShard(index: index, count: 3), json: parts.last!)
        }
        for part in parts { #expect(try !Self.essentials(part).isEmpty, "\(part) has cases") }
        let merged = try Harness.merge(MergeOptions(inputs: parts, outputPath: directory + "/merged.json"))
        #expect(merged == whole)
        #expect(try Self.essentials(directory + "/merged.json") == Self.essentials(directory + "/whole.json"))
        #expect(try Self.essentials(directory + "/whole.json").count == 2 * Fixtures.fixtureScenarios.count)

        // The matrix: the shards' baselines merge into the whole run's baseline, byte for byte.
        func matrix(_ shard: CaseShard?, save: String) async throws -> Verdict {
            try await Harness.matrix(
                MatrixOptions(
                    paths: [scenarios], policies: ["fcrdns", "fcrdns-strict"], jobs: 2, shard: shard,
                    configuration: RunConfiguration(), saveBaselinePath: save, parts: builtinParts), logger: logger)
        }
        _ = try await matrix(nil, save: directory + "/whole-baseline.json")
        var baselines: [String] = []
        for index in 1...3 {
            baselines.append(directory + "/baseline-\(index).json")
            _ = try await matrix(CaseShard(index: index, count: 3), save: baselines.last!)
        }
        let verdict = try Harness.merge(
            MergeOptions(
                inputs: baselines, outputPath: directory + "/merged-baseline.json",
                baselinePath: directory + "/whole-baseline.json"))
        #expect(verdict == .passed, "nothing changed against the whole run's baseline")
        #expect(
            try Data(contentsOf: URL(fileURLWithPath: directory + "/merged-baseline.json"))
                == Data(contentsOf: URL(fileURLWithPath: directory + "/whole-baseline.json")))
    }
}
