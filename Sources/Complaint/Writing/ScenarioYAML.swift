import DNSCore
import Policy
import Scenario

/// The parts of a scenario that both writers emit the same way.
enum ScenarioYAML {
    /// `receiver.policy` for a loaded policy: its preset's name, or the map form per family.
    static func policy(_ policy: ReceiverPolicy) -> String {
        if let preset = policy.preset, preset.policy == policy { return preset.rawValue }
        let v4 = policy.ipv4.map(\.name).joined(separator: ", ")
        let v6 = policy.ipv6.map(\.name).joined(separator: ", ")
        return
            "{ipv4: [\(v4)], ipv6: [\(v6)], reject_at: \(policy.rejectAt.rawValue), on_fail: \(policy.onFail.rawValue)}"
    }

    /// The lines of `expect:` (two-space indent), `expect: {}` when nothing is expected.
    static func expect(_ expect: Expectation) -> [String] {
        var lines: [String] = []
        if let outcome = expect.outcome { lines.append("  outcome: \(outcome.rawValue)") }
        if let family = expect.family { lines.append("  family: \(family.rawValue)") }
        if let stage = expect.stage { lines.append("  stage: \(stage.rawValue)") }
        if let code = expect.code { lines.append("  code: \(YAMLText.quoted(code.pattern))") }
        if let enhanced = expect.enhanced { lines.append("  enhanced: \(YAMLText.quoted(enhanced.description))") }
        if let text = expect.text { lines.append("  text: \(YAMLText.quoted(text.description))") }
        if let attempts = expect.attempts {
            lines.append("  attempts:")
            for attempt in attempts {
                var parts = ["family: \(attempt.family.rawValue)", "result: \(attempt.result.rawValue)"]
                if let code = attempt.code { parts.append("code: \(YAMLText.quoted(code.pattern))") }
                if let enhanced = attempt.enhanced {
                    parts.append("enhanced: \(YAMLText.quoted(enhanced.description))")
                }
                if let stage = attempt.stage { parts.append("stage: \(stage.rawValue)") }
                lines.append("    - {\(parts.joined(separator: ", "))}")
            }
        }
        return lines.isEmpty ? [] : ["expect:"] + lines
    }
}
