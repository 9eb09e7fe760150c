import Foundation
import Testing

/// The openspf RFC 7208 suite (shared/conformance/rfc7208-tests.yml), served from memory.
@Suite struct ConformanceTests {
    /// `<package root>/../shared/conformance/rfc7208-tests.yml`, found from this file's path.
    static let suiteURL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()   // SPFTests
        .deletingLastPathComponent()   // Tests
        .deletingLastPathComponent()   // package root
        .deletingLastPathComponent()   // its parent, which holds shared/
        .appendingPathComponent("shared/conformance/rfc7208-tests.yml")

    static func loadScenarios() throws -> [ConformanceScenario] {
        let yaml = try String(contentsOf: suiteURL, encoding: .utf8)
        return try ConformanceSuite.scenarios(yaml: yaml)
    }

    @Test func suiteHas203TestsIn16Sections() throws {
        let scenarios = try Self.loadScenarios()
        #expect(scenarios.count == 16)
        #expect(scenarios.reduce(0) { $0 + $1.cases.count } == 203)
    }

    @Test func rfc7208SuiteInMemory() async throws {
        let scenarios = try Self.loadScenarios()
        let outcome = await ConformanceRunner.run(scenarios) { ConformanceDNS(zone: $0.zone) }
        print(outcome.summary)
        for failure in outcome.failures { print("  \(failure)") }
        #expect(outcome.total == 203)
        // At least 99% of the 203 tests, i.e. 201.
        #expect(outcome.passed * 100 >= 203 * 99, "\(outcome.summary)")
    }
}
