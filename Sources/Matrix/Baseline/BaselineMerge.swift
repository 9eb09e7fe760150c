import Foundation
import Reports
import Runner

/// What a shard's baseline carries besides its cells, so the shards' baselines merge into the
/// baseline, summary and comparison of one run of the whole matrix.
public struct BaselineShard: Sendable, Hashable, Codable {
    public var placement: ShardPlacement
    /// Each case's place in the whole selection (rows keep the order one run has).
    public var positions: [String: Int]
    /// The columns in their order (the baseline's `columns` is keyed by name).
    public var columns: [String]
    /// This shard's part of the closing counts; a merge adds the shards' up.
    public var summary: Matrix.Summary

    public init(placement: ShardPlacement, positions: [String: Int], columns: [String], summary: Matrix.Summary) {
        self.placement = placement
        self.positions = positions
        self.columns = columns
        self.summary = summary
    }
}

extension Baseline {
    /// A shard's baseline: the shard's cells, and where its rows stand in the whole selection
    /// (`positions`, one per row of `matrix`).
    public init(_ matrix: Matrix, shard placement: ShardPlacement, positions: [Int]) {
        self.init(matrix)
        self.shard = BaselineShard(
            placement: placement,
            positions: Dictionary(zip(matrix.rows.map(\.name), positions), uniquingKeysWith: { first, _ in first }),
            columns: matrix.columns.map(\.name), summary: matrix.summary)
    }
}

/// Shards' baselines as one.
public struct MergedBaseline: Sendable {
    /// The baseline one run of the whole matrix writes (no shard record).
    public var baseline: Baseline
    /// Case names in run order.
    public var order: [String]
    /// Column names in their order.
    public var columns: [String]
    /// The counts one run would end with.
    public var summary: Matrix.Summary

    /// Shards' baselines (`matrix --shard K/N --save-baseline F`) merged; every shard exactly once.
    public static func merge(_ shards: [(path: String, baseline: Baseline)]) throws(MergeError) -> MergedBaseline {
        var records: [(path: String, record: BaselineShard)] = []
        for (path, baseline) in shards {
            guard let record = baseline.shard else {
                throw MergeError(
                    "\(path) is the baseline of a whole matrix, not of a shard: write shard baselines with mxharness matrix --shard K/N --save-baseline FILE"
                )
            }
            records.append((path, record))
        }
        try ShardSet.check(records.map { ($0.path, $0.record.placement) })
        guard let (firstPath, first) = shards.first, let firstRecord = first.shard else {
            throw MergeError("nothing to merge")
        }
        var cases: [String: [String: CellOutcome]] = [:]
        var positioned: [Int: String] = [:]
        var summary = Matrix.Summary()
        summary.columns = firstRecord.columns.count
        for ((path, baseline), (_, record)) in zip(shards, records) {
            guard baseline.target == first.target, baseline.columns == first.columns,
                record.columns == firstRecord.columns
            else {
                throw MergeError("\(path) and \(firstPath) are not the same matrix (target or columns differ)")
            }
            for (name, cells) in baseline.cases {
                guard let position = record.positions[name], (0..<record.placement.total).contains(position) else {
                    throw MergeError("\(path): case \(name) has no position in the selection")
                }
                if let other = positioned[position] {
                    throw MergeError(
                        "\(path): case \(name) and \(other) are both case \(position) of the selection: were the shards run with the same scenarios and options?"
                    )
                }
                guard cases[name] == nil else { throw MergeError("\(path): case \(name) is in two shards") }
                positioned[position] = name
                cases[name] = cells
            }
            summary.cases += record.summary.cases
            summary.differingRows += record.summary.differingRows
            summary.holds += record.summary.holds
            summary.fails += record.summary.fails
            summary.withoutOwnColumn += record.summary.withoutOwnColumn
            summary.skipped += record.summary.skipped
            summary.errors += record.summary.errors
        }
        let total = firstRecord.placement.total
        guard positioned.count == total else {
            throw MergeError(
                "the shards hold \(positioned.count) of the \(total) selected cases: were they run with the same scenarios and options?"
            )
        }
        return MergedBaseline(
            baseline: Baseline(target: first.target, columns: first.columns, cases: cases),
            order: (0..<total).compactMap { positioned[$0] }, columns: firstRecord.columns, summary: summary)
    }

    /// The merged matrix against `baseline`, as `BaselineComparison.compare` on one run's matrix.
    public func compared(with baseline: Baseline) -> BaselineComparison {
        BaselineComparison.compare(
            baseline, target: self.baseline.target,
            columns: columns.map { ($0, self.baseline.columns[$0] ?? "") },
            rows: order.map { name in (name, columns.compactMap { self.baseline.cases[name]?[$0] }) })
    }
}
