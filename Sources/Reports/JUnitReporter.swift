import Foundation
import Runner
import Scenario

/// JUnit XML as GitHub's and GitLab's test report readers take it: one `<testsuite>` per scenario
/// file, one `<testcase>` per case with `<failure>`, `<error>` or `<skipped>`, and the transcript
/// and the MX's decision record in `<system-out>`.
public enum JUnitReporter {
    public static func render(_ results: [CaseResult], timestamp: Date = Date()) -> String {
        let summary = RunSummary(results)
        let total = results.reduce(Duration.zero) { $0 + $1.timings.total }
        var xml = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
        xml +=
            "<testsuites name=\"mxharness\" tests=\"\(results.count)\" failures=\"\(summary.failed)\" errors=\"\(summary.errors)\" skipped=\"\(summary.skipped)\" time=\"\(seconds(total))\">\n"
        let groups = Dictionary(grouping: results, by: { $0.scenario.location.file })
        let iso = ISO8601DateFormatter()
        for (file, cases) in groups.sorted(by: { $0.key < $1.key }) {
            let s = RunSummary(cases)
            let time = cases.reduce(Duration.zero) { $0 + $1.timings.total }
            xml +=
                "  <testsuite name=\"\(escape(file))\" tests=\"\(cases.count)\" failures=\"\(s.failed)\" errors=\"\(s.errors)\" skipped=\"\(s.skipped)\" time=\"\(seconds(time))\" timestamp=\"\(iso.string(from: timestamp))\">\n"
            for result in cases {
                xml +=
                    "    <testcase name=\"\(escape(result.name))\" classname=\"\(escape(className(file)))\" file=\"\(escape(file))\" line=\"\(result.scenario.location.line)\" time=\"\(seconds(result.timings.total))\">\n"
                switch result.status {
                case .passed:
                    break
                case .skipped(let reason):
                    xml += "      <skipped message=\"\(escape(reason))\"/>\n"
                case .failed:
                    let message = result.mismatches.map(\.description).joined(separator: "; ")
                    xml +=
                        "      <failure message=\"\(escape(message))\" type=\"ExpectationMismatch\">\(escape(message))</failure>\n"
                case .error(let message):
                    xml +=
                        "      <error message=\"\(escape(message))\" type=\"HarnessError\">\(escape(message))</error>\n"
                }
                let out = systemOut(result)
                if !out.isEmpty {
                    xml += "      <system-out>\(escape(out))</system-out>\n"
                }
                xml += "    </testcase>\n"
            }
            xml += "  </testsuite>\n"
        }
        xml += "</testsuites>\n"
        return xml
    }

    static func systemOut(_ result: CaseResult) -> String {
        var parts: [String] = []
        if let delivery = result.delivery { parts.append(delivery.renderTranscript()) }
        for decision in result.evidence?.decisions ?? [] { parts.append("MX decision:\n" + decision) }
        if !result.receiverLog.isEmpty { parts.append("receiver log:\n" + result.receiverLog) }
        return parts.joined(separator: "\n\n")
    }

    /// `Scenarios/rdns/no-ptr.yaml` → `Scenarios.rdns.no-ptr`.
    static func className(_ file: String) -> String {
        var path = file
        for suffix in [".yaml", ".yml"] where path.hasSuffix(suffix) { path.removeLast(suffix.count) }
        return path.split(separator: "/").filter { $0 != "." }.joined(separator: ".")
    }

    static func seconds(_ duration: Duration) -> String {
        let value = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return String(format: "%.3f", value)
    }

    /// XML 1.0 escaping; characters XML 1.0 forbids (most C0 controls) become U+FFFD.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || (0xD800...0xDFFF).contains(scalar.value) || scalar.value == 0xFFFE
                    || scalar.value == 0xFFFF
                {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
