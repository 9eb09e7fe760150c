import Foundation
import Harness
import Logging
import Runner
import Scenario

extension Benchmarks {
    /// Runs the cases `rounds` times with each sender in `senders` (on the scenarios' receivers) and
    /// prints each sender's median per-case time; with `builtin` among them, every real sender's
    /// per-case overhead over the built-in model (the median of the per-case differences).
    public static func senders(
        paths: [String], senders: [SenderMTA], rounds: Int, jobs: Int, parts: PartCatalog, logger: Logger
    ) async throws(HarnessError) {
        let out = Output()
        let cases = try Preflight.cases(paths, kinds: parts.scenarioKinds, logger: logger)
        try Preflight.ready(needs: .root(because: "bench run --senders (real senders need root)"), logger: logger)
        var perCase: [SenderMTA: [String: [Duration]]] = [:]
        var skipped: [SenderMTA: Int] = [:]
        for sender in senders {
            var configuration = RunConfiguration()
            configuration.sender = sender
            let run = ScenarioRun(
                runner: CaseRunner(configuration: configuration, parts: parts, logger: logger), jobs: jobs)
            for _ in 1...max(1, rounds) {
                for result in await run.run(cases) {
                    if case .skipped = result.status {
                        skipped[sender, default: 0] += 1
                        continue
                    }
                    perCase[sender, default: [:]][result.name, default: []].append(result.timings.total)
                }
            }
        }
        out.line("\(cases.count) cases x \(rounds) rounds per sender, --jobs \(jobs)")
        var medians: [SenderMTA: [String: Duration]] = [:]
        for sender in senders {
            let byCase = (perCase[sender] ?? [:]).mapValues(median)
            medians[sender] = byCase
            let runs = skipped[sender].map { ", \($0) case runs skipped" } ?? ""
            out.line("  \(sender): median per-case time \(milliseconds(median(Array(byCase.values))))\(runs)")
        }
        if let model = medians[.builtin] {
            for sender in senders where sender != .builtin {
                let differences = (medians[sender] ?? [:]).compactMap { name, time in model[name].map { time - $0 } }
                guard !differences.isEmpty else { continue }
                out.line(
                    "  \(sender) sender overhead per case (median of per-case differences): \(milliseconds(median(differences)))"
                )
            }
        }
    }
}
