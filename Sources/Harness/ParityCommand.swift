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
        paths: [String], jobs: Int, configuration: RunConfiguration, axis: ParityAxis = .builtinAgainstPostfix, logger: Logger
    ) async -> Int32 {
        let out = Output()
        guard let cases = Preflight.cases(paths, logger: logger) else { return HarnessExit.usage }
        let rows = await ParityRun(axis: axis, configuration: configuration, jobs: jobs, logger: logger).run(cases)
        out.line(ParityTable.render(rows, labels: axis.labels, terminal: Terminal.detect()))
        return rows.contains { !$0.differences.isEmpty } ? HarnessExit.failures : HarnessExit.success
    }
}
