import Foundation
import Scenario

/// A matrix's results as a file to keep in version control (`--save-baseline`) and compare later
/// runs with (`--baseline`). JSON with sorted keys: cases by name, cells by column name, one line
/// per reply and per attempt, and nothing that changes between two runs of the same worlds.
///
/// ```json
/// {
///   "cases" : {
///     "family-fallback/broken-ipv6-rdns/receiver-defers" : {
///       "fcrdns" : {
///         "attempts" : [ "ipv6 tempfailed at rcpt 450 4.7.25", "ipv4 accepted at data 250 2.0.0" ],
///         "family" : "ipv4", "outcome" : "delivered", "reply" : "250 2.0.0 Ok: queued as <id>", "stage" : "data"
///       }, ...
///     }
///   },
///   "columns" : { "fcrdns" : "preset fcrdns: IPv4 and IPv6: fcrdns; failures deferred (4xx) at RCPT" },
///   "format" : "mxharness-matrix-baseline 1",
///   "target" : "builtin"
/// }
/// ```
public struct Baseline: Sendable, Hashable, Codable {
    public static let formatName = "mxharness-matrix-baseline 1"

    public var format: String
    /// `builtin` or `postfix`.
    public var target: String
    /// Each column's name and what it was (a policy file's checks, so a policy change shows too).
    public var columns: [String: String]
    /// Case name → column name → what happened.
    public var cases: [String: [String: CellOutcome]]
    /// Set in a shard's baseline (`matrix --shard K/N --save-baseline`) only: what `mxharness merge`
    /// needs to make the whole matrix's baseline, summary and comparison from the shards'.
    public var shard: BaselineShard?

    public init(target: String, columns: [String: String], cases: [String: [String: CellOutcome]]) {
        self.format = Self.formatName
        self.target = target
        self.columns = columns
        self.cases = cases
    }

    public init(_ matrix: Matrix) {
        var cases: [String: [String: CellOutcome]] = [:]
        for row in matrix.rows {
            var cells: [String: CellOutcome] = [:]
            for (column, cell) in zip(matrix.columns, row.cells) { cells[column.name] = cell.outcome }
            cases[row.name] = cells
        }
        self.init(
            target: matrix.target.rawValue,
            columns: Dictionary(matrix.columns.map { ($0.name, $0.summary) }, uniquingKeysWith: { first, _ in first }),
            cases: cases)
    }

    /// The file's bytes: pretty-printed, keys sorted, ending in a newline.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0A)
        return data
    }

    public func write(to path: String) throws(MatrixError) {
        do { try encoded().write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw MatrixError("cannot write the baseline \(path): \(error.localizedDescription)")
        }
    }

    public static func read(from path: String) throws(MatrixError) -> Baseline {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw MatrixError(
                "cannot read the baseline \(path) (\(error.localizedDescription)): write one with --save-baseline \(path)"
            )
        }
        return try decode(data, path: path)
    }

    public static func decode(_ data: Data, path: String) throws(MatrixError) -> Baseline {
        let baseline: Baseline
        do { baseline = try JSONDecoder().decode(Baseline.self, from: data) } catch {
            throw MatrixError(
                "\(path) is not a matrix baseline: \(Self.describe(error)); write a new one with --save-baseline \(path)"
            )
        }
        guard baseline.format == formatName else {
            throw MatrixError(
                "\(path) is a baseline of format \"\(baseline.format)\", this mxharness reads \"\(formatName)\": write a new one with --save-baseline \(path)"
            )
        }
        return baseline
    }

    /// A decoding error with the key path where it happened.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined()
            return keys.isEmpty ? "" : " at \(keys.hasPrefix(".") ? String(keys.dropFirst()) : keys)"
        }
        switch error {
        case .dataCorrupted(let context): return context.debugDescription + path(context)
        case .keyNotFound(let key, let context): return "missing key \"\(key.stringValue)\"" + path(context)
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return context.debugDescription + path(context)
        @unknown default: return "\(error)"
        }
    }
}

/// What changed between a baseline and a new run.
public struct BaselineComparison: Sendable, Hashable {
    public struct Change: Sendable, Hashable {
        public enum Kind: String, Sendable, Hashable {
            /// The cell ended differently.
            case changed
            /// A cell the baseline does not have (a new case or a new column).
            case added
            /// A cell of the baseline this run does not have.
            case removed
        }

        public var kind: Kind
        public var caseName: String
        public var column: String
        public var before: CellOutcome?
        public var after: CellOutcome?
    }

    public var changes: [Change]
    /// Differences that are not cells: the target, a column whose policy is not the same.
    public var notes: [String]

    /// Whether anything a reviewer must look at changed (the notes alone do not count).
    public var isUnchanged: Bool { changes.isEmpty }

    /// The cells of `current` against `baseline`: changed and added cells in the current matrix's
    /// order (case by case, column by column), then removed ones sorted by case and column.
    /// With `includeRemoved` false (the run chose cases with --tag or --filter) the baseline's other
    /// cases are not reported as removed.
    public static func compare(_ baseline: Baseline, with current: Matrix, includeRemoved: Bool = true)
        -> BaselineComparison
    {
        compare(
            baseline, target: current.target.rawValue, columns: current.columns.map { ($0.name, $0.summary) },
            rows: current.rows.map { ($0.name, $0.cells.map(\.outcome)) }, includeRemoved: includeRemoved)
    }

    /// The same for results given as rows in run order (a merged baseline of shards, for one).
    public static func compare(
        _ baseline: Baseline, target: String, columns: [(name: String, summary: String)],
        rows: [(name: String, cells: [CellOutcome])], includeRemoved: Bool = true
    ) -> BaselineComparison {
        var changes: [Change] = []
        var notes: [String] = []
        if baseline.target != target {
            notes.append("the baseline was run on the \(baseline.target) receiver, this run on \(target)")
        }
        for column in columns {
            if let before = baseline.columns[column.name], before != column.summary {
                notes.append("column \(column.name): was \(before); now \(column.summary)")
            }
        }
        var seen = Set<String>()
        for row in rows {
            seen.insert(row.name)
            let old = baseline.cases[row.name]
            for (column, cell) in zip(columns, row.cells) {
                guard let before = old?[column.name] else {
                    changes.append(
                        Change(kind: .added, caseName: row.name, column: column.name, before: nil, after: cell))
                    continue
                }
                if before != cell {
                    changes.append(
                        Change(kind: .changed, caseName: row.name, column: column.name, before: before, after: cell))
                }
            }
        }
        let currentColumns = Set(columns.map(\.name))
        for name in baseline.cases.keys.sorted() where includeRemoved || seen.contains(name) {
            let cells = baseline.cases[name] ?? [:]
            for column in cells.keys.sorted() where !seen.contains(name) || !currentColumns.contains(column) {
                changes.append(
                    Change(kind: .removed, caseName: name, column: column, before: cells[column], after: nil))
            }
        }
        return BaselineComparison(changes: changes, notes: notes)
    }
}
