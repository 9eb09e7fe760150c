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
        let chosen = try Selection.make(paths, selection, shard: shard, kinds: parts.scenarioKinds)
        try Preflight.available(chosen.cases, axis.configurations(configuration), parts: parts)
        try Preflight.ready(needs: .root(because: "parity (it runs every case on real MTAs as well)"), logger: logger)
        // Each side's receiver configuration is checked once before any case, as `run` does (a
        // site's Postfix folder, a --postfix-config file).
        var said: Set<String> = []
        for side in axis.configurations(configuration) {
            let reports = await CaseRunner(configuration: side, parts: parts, logger: logger).preflight(chosen.cases)
            for report in reports where said.insert(report.text).inserted { out.error(report.text) }
            guard reports.allSatisfy(\.canServeMail) else {
                throw .usage(
                    "the receiver's configuration cannot serve mail (the preflight above says why); no case was run")
            }
        }
        if let note = chosen.shardNote { out.line(note) }
        let rows = await ParityRun(axis: axis, configuration: configuration, parts: parts, jobs: jobs, logger: logger)
            .run(chosen.cases)
        out.line(ParityTable.render(rows, axis: axis, parts: parts, terminal: Terminal.detect()))
        if !rows.isEmpty, rows.allSatisfy(\.isSkipped) {
            throw .nothingRan("nothing was compared: no case ran on two sides (the table says why)")
        }
        return Verdict(passed: !rows.contains { !$0.differences.isEmpty })
    }
}
