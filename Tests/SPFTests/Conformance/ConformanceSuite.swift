import DNSCore
import SPF
import Yams

/// One test of the openspf suite.
public struct ConformanceCase: Sendable, Hashable {
    /// The scenario's `description`, e.g. "Record lookup".
    public var section: String
    public var name: String
    public var spec: String?
    public var helo: String
    /// The client address, as written (`host`).
    public var host: String
    public var mailFrom: String
    /// Any of these passes.
    public var results: [SPFResult]
    /// The expected `exp=` text; `DEFAULT` means none.
    public var explanation: String?
}

/// One YAML document of the suite: its tests and its DNS data.
public struct ConformanceScenario: Sendable, Hashable {
    public var section: String
    public var cases: [ConformanceCase]
    public var zone: ConformanceZone
}

public enum ConformanceSuite {
    /// Parses every document of the suite file's text.
    public static func scenarios(yaml: String) throws -> [ConformanceScenario] {
        var scenarios: [ConformanceScenario] = []
        for document in try Yams.compose_all(yaml: yaml) {
            let section = document["description"]?.scalar?.string ?? "section \(scenarios.count + 1)"
            guard let tests = document["tests"]?.mapping, let zonedata = document["zonedata"] else {
                throw ConformanceDataError("\(section): a document needs tests and zonedata")
            }
            var cases: [ConformanceCase] = []
            for (nameNode, test) in tests {
                let name = nameNode.scalar?.string ?? "?"
                func field(_ key: String) throws -> String {
                    guard let value = test[key]?.scalar?.string else {
                        throw ConformanceDataError("\(section)/\(name): no \(key)")
                    }
                    return value
                }
                let resultNode = test["result"]
                let resultTexts =
                    resultNode?.sequence.map { $0.compactMap(\.scalar?.string) } ?? resultNode?.scalar.map {
                        [$0.string]
                    } ?? []
                let results = try resultTexts.map { text in
                    guard let result = SPFResult(rawValue: text) else {
                        throw ConformanceDataError("\(section)/\(name): unknown result \(text)")
                    }
                    return result
                }
                guard !results.isEmpty else { throw ConformanceDataError("\(section)/\(name): no result") }
                cases.append(
                    ConformanceCase(
                        section: section, name: name, spec: test["spec"]?.scalar?.string,
                        helo: try field("helo"), host: try field("host"), mailFrom: try field("mailfrom"),
                        results: results, explanation: test["explanation"]?.scalar?.string))
            }
            scenarios.append(
                ConformanceScenario(section: section, cases: cases, zone: try ConformanceZone(zonedata: zonedata)))
        }
        return scenarios
    }
}
