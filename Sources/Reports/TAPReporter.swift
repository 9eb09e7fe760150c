import Runner
import Scenario

/// TAP 14 (testanything.org): `ok N - name`, a YAML diagnostic block for failures.
public enum TAPReporter {
    public static func line(_ result: CaseResult, number: Int) -> String {
        let name = result.name.replacingOccurrences(of: "#", with: "\\#")
        switch result.status {
        case .passed:
            return "ok \(number) - \(name)"
        case .skipped(let reason):
            return "ok \(number) - \(name) # SKIP \(reason)"
        case .failed, .error:
            var lines = ["not ok \(number) - \(name)", "  ---"]
            if case .error(let message) = result.status {
                lines.append("  message: \(yamlQuote(message))")
            }
            for mismatch in result.mismatches {
                lines.append(
                    "  \(mismatch.key): {expected: \(yamlQuote(mismatch.expected)), got: \(yamlQuote(mismatch.got))}")
            }
            lines.append("  at: \(yamlQuote(result.scenario.location.description))")
            lines.append("  ...")
            return lines.joined(separator: "\n")
        }
    }

    static func yamlQuote(_ text: String) -> String {
        "\""
            + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }
}
