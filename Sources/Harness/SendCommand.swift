import Foundation
import Logging
import Reports
import Runner
import Scenario

extension Harness {
    /// `mxharness send FILE [--variant NAME]`: one scenario's delivery, printed the way swaks shows a
    /// session: every attempt's transcript, then the outcome and why the receiver decided.
    public static func send(
        file: String, variant: String?, configuration: RunConfiguration, parts: PartCatalog, logger: Logger
    ) async throws(HarnessError) -> Verdict {
        let out = Output()
        let scenario = try Preflight.oneCase(
            file: file, variant: variant, kinds: parts.scenarioKinds, configuration: configuration, logger: logger)
        let result = await CaseRunner(configuration: configuration, parts: parts, logger: logger).run(scenario)
        switch result.status {
        case .error(let message):
            throw .failed("\(scenario.name) could not run: \(message)")
        case .skipped(let reason):
            out.line("\(scenario.name): skipped: \(reason)")
            return .passed
        case .passed, .failed:
            break
        }
        if let delivery = result.delivery { out.line(delivery.renderTranscript()) }
        for decision in result.evidence?.decisions ?? [] {
            out.line("=== Why the MX decided:")
            out.line(decision.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
        }
        if !result.receiverLog.isEmpty {
            out.line("=== Receiver log:")
            out.line(result.receiverLog.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
        }
        let console = ConsoleReporter(terminal: Terminal.detect())
        out.line("")
        out.line(console.progressLine(result))
        for mismatch in result.mismatches { out.line("  " + mismatch.description) }
        return Verdict(passed: result.status == .passed)
    }
}
