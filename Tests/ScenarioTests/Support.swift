import Foundation
import Scenario
import Testing

/// A folder of scenario files written by a test, removed when the test ends.
final class ScenarioFolder {
    let path: String

    init(_ files: [String: String]) throws {
        path =
            FileManager.default.temporaryDirectory.appendingPathComponent("mxharness-scenario-\(UUID().uuidString)")
            .path
        for (name, text) in files {
            try write(name, text)
        }
    }

    func write(_ name: String, _ text: String) throws {
        let url = URL(fileURLWithPath: path).appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    func file(_ name: String) -> String { path + "/" + name }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// The diagnostics of a load that must fail, or an issue when it succeeds.
func loadErrors(
    _ load: () throws(ScenarioLoadError) -> [ScenarioCase], sourceLocation: Testing.SourceLocation = #_sourceLocation
) -> [ScenarioDiagnostic] {
    do {
        let cases = try load()
        Issue.record(
            "expected the load to fail, it gave \(cases.count) case(s): \(cases.map(\.name))",
            sourceLocation: sourceLocation)
        return []
    } catch {
        return error.diagnostics
    }
}

func loadErrors(
    yaml: String, file: String = "Scenarios/rdns.yaml", sourceLocation: Testing.SourceLocation = #_sourceLocation
) -> [String] {
    loadErrors(
        { () throws(ScenarioLoadError) in try ScenarioLoader().load(yaml: yaml, file: file) },
        sourceLocation: sourceLocation
    ).map(\.description)
}

/// The smallest valid scenario body (no name, no expect), to build documents from.
let minimalWorld = """
    dns:
      records:
        - example.test. MX 10 mx.example.test.
    receiver:
      addresses: [192.0.2.10]
    sender:
      addresses: {ipv4: 198.51.100.25}
      helo: mail.sender.test
      mail_from: alice@sender.test
      rcpt_to: bob@example.test
    """
