import Foundation
import Logging
import Parity
import Reports
import Runner
import Scenario

extension Harness {
    /// `mxharness parity PATHS`: every case on each side of `axis` (by default the built-in MX and
    /// Postfix, which is the reference: a difference is a bug in the built-in MX unless the format
    /// says otherwise); the table, differences marked; exit 1 when any case differs.
    public static func parity(
        paths: [String], selection: CaseSelection = CaseSelection(), shard: CaseShard? = nil, jobs: Int,
        configuration: RunConfiguration, axis: ParityAxis = .builtinAgainstPostfix, logger: Logger
    ) async throws(HarnessError) -> Verdict {
        let out = Output()
        let chosen = try Selection.make(paths, selection, shard: shard)
        try Preflight.ready(needs: .root(because: "parity (it runs every case on real MTAs as well)"), logger: logger)
        if let note = chosen.shardNote { out.line(note) }
        let rows = await ParityRun(axis: axis, configuration: configuration, jobs: jobs, logger: logger).run(chosen.cases)
        out.line(ParityTable.render(rows, labels: axis.labels, terminal: Terminal.detect()))
        return Verdict(passed: !rows.contains { !$0.differences.isEmpty })
    }
}
