import Foundation
import Runner
import Scenario

/// Runs every case against every column: each cell is the case with the column's receiver
/// (`PolicyColumn.applied(to:)`), run by `CaseRunner` in a world of its own, `jobs` cells at a time.
public struct MatrixRunner: Sendable {
    public var runner: CaseRunner
    public var jobs: Int

    public init(runner: CaseRunner, jobs: Int) {
        self.runner = runner
        self.jobs = max(1, jobs)
    }

    /// The receiver every cell runs on: the runner's `target`, builtin when it has none.
    public var target: ReceiverTarget { runner.configuration.target ?? .builtin }

    /// The matrix of `cases` × `columns`; `progress` gets (cells done, cells in all) as cells finish.
    public func run(
        _ cases: [ScenarioCase], columns: [PolicyColumn], progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in }
    ) async -> Matrix {
        var configuration = runner.configuration
        configuration.target = target
        var cellRunner = runner
        cellRunner.configuration = configuration
        let cells = cases.flatMap { scenario in columns.map { $0.applied(to: scenario) } }
        let total = cells.count
        let results = await ScenarioRun(runner: cellRunner, jobs: jobs).run(cells) { _, finished in
            progress(finished, total)
        }
        var matrix = Self.assemble(
            cases, columns: columns, results: results, target: target,
            receiverName: runner.parts.receivers[target]?.displayName)
        IdentityAxis.annotate(&matrix, cases: cases)
        TLSAxis.annotate(&matrix, cases: cases)
        return matrix
    }

    /// The matrix from results in row-major order (case by case, each with a result per column);
    /// `receiverName` is how headings name the receiver (nil: the target's name).
    public static func assemble(
        _ cases: [ScenarioCase], columns: [PolicyColumn], results: [CaseResult], target: ReceiverTarget,
        receiverName: String? = nil
    ) -> Matrix {
        var rows: [MatrixRow] = []
        for (index, scenario) in cases.enumerated() {
            var cells: [MatrixCell] = []
            for (offset, column) in columns.enumerated() {
                let position = index * columns.count + offset
                let own = column.isOwnPolicy(of: scenario)
                if results.indices.contains(position) {
                    cells.append(MatrixCell(results[position], isOwnPolicy: own))
                } else {
                    cells.append(
                        MatrixCell(
                            outcome: CellOutcome(status: .error, reason: "no result (the run was cut short)"),
                            isOwnPolicy: own))
                }
            }
            rows.append(
                MatrixRow(
                    name: scenario.name, location: scenario.location, description: scenario.description, cells: cells))
        }
        return Matrix(target: target, receiverName: receiverName, columns: columns, rows: rows)
    }
}
