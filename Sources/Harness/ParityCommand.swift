import Foundation
import Logging
import Parity
import Reports
import Runner
import Scenario

extension Harness {
    /// `mxharness parity PATHS`: every case on each side of `axis` (by default the built-in MX and
    /// Postfix, which is the reference: a difference is a bug in the built-in MX unless the format
    /// says otherwise); the table, differences marked; exit 1 when any case differs, 3 when no case
    /// ran on two sides.
    public static func parity(
        paths: [String], selection: CaseSelection = CaseSelection(), shard: CaseShard? = nil, jobs: Int,
        configuration: RunConfiguration, axis: ParityAxis = .builtinAgainstPostfix, parts: PartCatalog, logger: Logger
    ) async throws(HarnessError) -> Verdict {
        let out = Output()
        let chosen = try await Preflight.prepare(
            paths, selection, shard: shard, configurations: axis.configurations(configuration), parts: parts,
            logger: logger)
        if let note = chosen.shardNote { out.line(note) }
        let progress = ProgressDisplay.standardOutput(total: chosen.cases.count * axis.labels.count)
        progress.start()
        let rows = await ParityRun(axis: axis, configuration: configuration, parts: parts, jobs: jobs, logger: logger)
            .run(chosen.cases) { progress.advanced() }
        progress.stop()
        out.line(ParityTable.render(rows, axis: axis, parts: parts, terminal: Terminal.detect()))
        if !rows.isEmpty, rows.allSatisfy(\.isSkipped) {
            throw .nothingRan("nothing was compared: no case ran on two sides (the table says why)")
        }
        return Verdict(passed: !rows.contains { !$0.differences.isEmpty })
    }
}

extension ParityAxis {
    /// The built-in MX against Postfix, as `mxharness parity` compares by default.
    public static let builtinAgainstPostfix = ParityAxis.receivers([.builtin, .postfix])
}
