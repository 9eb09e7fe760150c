import Foundation
import Runner

/// Why shard reports cannot be merged, naming the file.
public struct MergeError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// The JSON reports of `mxharness run --shard K/N --json F`, one per shard, merged into the report
/// one run of the whole selection writes: the cases in their order, the summary counted again, no
/// shard fields. Every shard of the split must be there exactly once.
public enum ReportMerge {
    public struct Merged: Sendable {
        /// The merged report's bytes (the JSON reporter's layout).
        public var data: Data
        public var passed: Int
        public var failed: Int
        public var skipped: Int
        public var errors: Int
        /// `status name` of every case that failed or could not run, in run order.
        public var problems: [String]

        /// `N passed, M failed, K skipped` (errors count as failed), as `RunSummary.line`.
        public var line: String { "\(passed) passed, \(failed + errors) failed, \(skipped) skipped" }
        public var allPassed: Bool { failed == 0 && errors == 0 }
    }

    /// A shard's report read for merging.
    struct ShardReport {
        var path: String
        var placement: ShardPlacement
        var cases: [[String: Any]]
    }

    /// Whether `object` (a decoded JSON document) is a run report.
    public static func isRunReport(_ object: Any) -> Bool {
        guard let document = object as? [String: Any] else { return false }
        return document["cases"] is [Any] && document["summary"] is [String: Any]
    }

    public static func merge(_ inputs: [(path: String, object: Any)]) throws(MergeError) -> Merged {
        var shards: [ShardReport] = []
        for input in inputs { shards.append(try read(input.path, input.object)) }
        try ShardSet.check(shards.map { ($0.path, $0.placement) })
        var byPosition: [Int: (path: String, entry: [String: Any])] = [:]
        let total = shards.first?.placement.total ?? 0
        for shard in shards {
            for var entry in shard.cases {
                guard let position = entry["position"] as? Int, (0..<total).contains(position) else {
                    throw MergeError(
                        "\(shard.path): case \(entry["name"] as? String ?? "?") has no position in 0..<\(total) (not written by mxharness run --shard)"
                    )
                }
                if let other = byPosition[position] {
                    throw MergeError(
                        "\(shard.path) and \(other.path) both have case \(position) of the selection (\(entry["name"] as? String ?? "?")): were they run with the same scenarios and options?"
                    )
                }
                entry["position"] = nil
                byPosition[position] = (shard.path, entry)
            }
        }
        let missing = (0..<total).filter { byPosition[$0] == nil }
        guard missing.isEmpty else {
            throw MergeError(
                "the shards hold \(byPosition.count) of the \(total) selected cases: were they run with the same scenarios and options?"
            )
        }
        let cases = (0..<total).compactMap { byPosition[$0]?.entry }
        var merged = Merged(data: Data(), passed: 0, failed: 0, skipped: 0, errors: 0, problems: [])
        for entry in cases {
            let status = entry["status"] as? String ?? "error"
            switch status {
            case "passed": merged.passed += 1
            case "failed": merged.failed += 1
            case "skipped": merged.skipped += 1
            default: merged.errors += 1
            }
            if status == "failed" || status == "error" {
                merged.problems.append("\(status) \(entry["name"] as? String ?? "?")")
            }
        }
        let document: [String: Any] = [
            "summary": [
                "passed": merged.passed, "failed": merged.failed, "skipped": merged.skipped, "errors": merged.errors,
            ],
            "cases": cases,
        ]
        do {
            merged.data = try JSONSerialization.data(
                withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        } catch {
            throw MergeError("cannot write the merged report: \(error.localizedDescription)")
        }
        return merged
    }

    static func read(_ path: String, _ object: Any) throws(MergeError) -> ShardReport {
        guard let document = object as? [String: Any], let cases = document["cases"] as? [[String: Any]] else {
            throw MergeError("\(path) is not a run report (mxharness run --json)")
        }
        guard let shard = document["shard"] as? [String: Any],
            let index = shard["index"] as? Int, let count = shard["count"] as? Int, let total = shard["total"] as? Int
        else {
            throw MergeError(
                "\(path) is the report of a whole run, not of a shard: write shard reports with mxharness run --shard K/N --json FILE"
            )
        }
        return ShardReport(
            path: path, placement: ShardPlacement(index: index, count: count, total: total), cases: cases)
    }
}

/// The shards of one split: the same N and selection size everywhere, each of 1...N exactly once.
public enum ShardSet {
    public static func check(_ shards: [(path: String, placement: ShardPlacement)]) throws(MergeError) {
        guard let first = shards.first else { throw MergeError("nothing to merge: give the shards' files") }
        var seen: [Int: String] = [:]
        for (path, placement) in shards {
            guard placement.count == first.placement.count, placement.total == first.placement.total else {
                throw MergeError(
                    "\(path) is shard \(placement.index)/\(placement.count) of \(placement.total) cases, \(first.path) shard \(first.placement.index)/\(first.placement.count) of \(first.placement.total): not the same split"
                )
            }
            if let other = seen[placement.index] {
                throw MergeError("\(path) and \(other) are both shard \(placement.index)/\(placement.count)")
            }
            seen[placement.index] = path
        }
        let missing = (1...max(1, first.placement.count)).filter { seen[$0] == nil }
        guard missing.isEmpty else {
            throw MergeError(
                "shard\(missing.count == 1 ? "" : "s") \(missing.map { "\($0)/\(first.placement.count)" }.joined(separator: ", ")) missing: give every shard's file"
            )
        }
    }
}
