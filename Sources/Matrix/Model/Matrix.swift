import Runner
import Scenario

/// Whether a cell's `expect` holds. A case's `expect` is written for its own receiver, so it is
/// judged only in the column whose policy is exactly the case's own; elsewhere the cell shows what
/// would happen, without a verdict.
public enum CellVerdict: String, Sendable, Hashable {
    /// The case's own policy, and its `expect` holds.
    case holds
    /// The case's own policy, and its `expect` does not hold.
    case fails
    /// Another policy: `expect` is not judged.
    case notJudged = "not-judged"
}

/// One case against one column.
public struct MatrixCell: Sendable {
    public var outcome: CellOutcome
    /// Whether the column's policy is the case's own.
    public var isOwnPolicy: Bool
    /// Where `expect` did not hold; only filled in the own-policy column.
    public var mismatches: [Mismatch]
    /// The whole result (transcripts, the MX's decision record), for the HTML page.
    public var result: CaseResult?
    /// Why this cell's verdict differs from the reference column's (`IdentityAxis`); nil when
    /// it does not, or the matrix has no such reference.
    public var note: String?

    public init(outcome: CellOutcome, isOwnPolicy: Bool, mismatches: [Mismatch] = [], result: CaseResult? = nil) {
        self.outcome = outcome
        self.isOwnPolicy = isOwnPolicy
        self.mismatches = mismatches
        self.result = result
    }

    /// A cell of a finished case; `expect` is judged only when the column is the case's own policy.
    public init(_ result: CaseResult, isOwnPolicy: Bool) {
        self.init(
            outcome: CellOutcome(result), isOwnPolicy: isOwnPolicy,
            mismatches: isOwnPolicy && result.status == .failed ? result.mismatches : [], result: result)
    }

    public var verdict: CellVerdict {
        guard isOwnPolicy, outcome.status == .ran else { return .notJudged }
        return mismatches.isEmpty ? .holds : .fails
    }
}

/// One case: a cell per column, in the columns' order.
public struct MatrixRow: Sendable {
    public var name: String
    public var location: SourceLocation?
    public var description: String?
    public var cells: [MatrixCell]

    public init(name: String, location: SourceLocation? = nil, description: String? = nil, cells: [MatrixCell]) {
        self.name = name
        self.location = location
        self.description = description
        self.cells = cells
    }

    /// Whether the cells that ran ended differently (outcome, family, stage, reply or attempts).
    /// Skipped and failed-to-run cells are not compared.
    public var differs: Bool {
        let ran = cells.map(\.outcome).filter { $0.status == .ran }
        guard let first = ran.first else { return false }
        return ran.contains { $0 != first }
    }

    /// Index of each cell that ends differently from the row's most common outcome (the cells to
    /// mark in a differing row).
    public var differingCells: Set<Int> {
        guard differs else { return [] }
        var counts: [CellOutcome: Int] = [:]
        for cell in cells where cell.outcome.status == .ran { counts[cell.outcome, default: 0] += 1 }
        // The most common outcome; on a tie the first column's wins, so the first column reads as the reference.
        var reference: CellOutcome?
        for cell in cells where cell.outcome.status == .ran {
            if counts[cell.outcome, default: 0] > reference.map({ counts[$0, default: 0] }) ?? 0 {
                reference = cell.outcome
            }
        }
        return Set(cells.indices.filter { cells[$0].outcome.status == .ran && cells[$0].outcome != reference })
    }
}

/// The table: a row per case, a column per policy.
public struct Matrix: Sendable {
    public var target: ReceiverTarget
    /// The receiver as headings name it (its kind's `displayName`).
    public var receiverName: String
    public var columns: [PolicyColumn]
    public var rows: [MatrixRow]

    public init(target: ReceiverTarget, receiverName: String? = nil, columns: [PolicyColumn], rows: [MatrixRow]) {
        self.target = target
        self.receiverName = receiverName ?? target.rawValue
        self.columns = columns
        self.rows = rows
    }

    /// The columns are identity paths (`--identities`), not policies.
    public var isIdentityMatrix: Bool {
        columns.contains { if case .identity = $0.source { true } else { false } }
    }

    /// The columns are the sender's TLS levels (`--tls`), not policies.
    public var isTLSMatrix: Bool {
        columns.contains { if case .tls = $0.source { true } else { false } }
    }

    /// Counts for the closing line.
    public struct Summary: Sendable, Hashable, Codable {
        public var cases = 0
        public var columns = 0
        public var differingRows = 0
        /// Own-policy cells whose `expect` holds / fails.
        public var holds = 0
        public var fails = 0
        /// Cases none of whose columns is their own policy.
        public var withoutOwnColumn = 0
        public var skipped = 0
        public var errors = 0
        /// The columns are identity paths (`--identities`); nil or false: policies.
        public var columnsArePaths: Bool?
        /// The columns are TLS levels (`--tls`); nil or false: policies.
        public var columnsAreTLSLevels: Bool?
    }

    public var summary: Summary {
        var summary = Summary()
        summary.cases = rows.count
        summary.columns = columns.count
        if isIdentityMatrix { summary.columnsArePaths = true }
        if isTLSMatrix { summary.columnsAreTLSLevels = true }
        for row in rows {
            if row.differs { summary.differingRows += 1 }
            if !row.cells.contains(where: \.isOwnPolicy) { summary.withoutOwnColumn += 1 }
            for cell in row.cells {
                switch cell.verdict {
                case .holds: summary.holds += 1
                case .fails: summary.fails += 1
                case .notJudged: break
                }
                switch cell.outcome.status {
                case .skipped: summary.skipped += 1
                case .error: summary.errors += 1
                case .ran: break
                }
            }
        }
        return summary
    }

    /// Every cell whose `expect` failed, with its row and column.
    public var expectationFailures: [(row: MatrixRow, column: PolicyColumn, cell: MatrixCell)] {
        rows.flatMap { row in
            zip(columns, row.cells).filter { $0.1.verdict == .fails }.map { (row, $0.0, $0.1) }
        }
    }
}
