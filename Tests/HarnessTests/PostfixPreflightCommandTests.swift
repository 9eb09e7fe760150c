import Foundation
import MXHarnessTestKit
import Testing

/// `mxharness run --postfix-config-dir` (and `parity`): the preflight report comes once, before
/// any case, and a configuration that cannot serve mail stops the run with exit 2.
@Suite(
    .serialized,
    .enabled(
        if: IntegrationEnvironment.canRunWorlds && IntegrationEnvironment.hasPostfix,
        "needs root, unbound and postfix (apt-get install unbound postfix); run as root"))
struct PostfixPreflightCommandTests {
    static let binary = CleanupTests.binary

    static let scenario = """
        name: preflight
        dns:
          records:
            - example.test. MX 10 mx.example.test.
            - mx.example.test. A 192.0.2.10
        receiver: {addresses: [192.0.2.10], target: postfix}
        sender: {addresses: {ipv4: 203.0.113.25}, helo: mail.sender.test, mail_from: a@sender.test, rcpt_to: [b@example.test]}
        expect: {outcome: delivered}
        variants:
          - name: one
          - name: two
        """

    /// Runs `mxharness COMMAND` (run) on the scenario with the site folder holding `files`.
    func run(_ command: String = "run", site files: [String: String]) throws -> (
        status: Int32, stdout: String, stderr: String, site: String
    ) {
        let root = NSTemporaryDirectory() + "/mxh-test-preflight-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/site", withIntermediateDirectories: true)
        for (name, contents) in files {
            try contents.write(toFile: root + "/site/" + name, atomically: true, encoding: .utf8)
        }
        try Self.scenario.write(toFile: root + "/preflight.yaml", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = [command, root + "/preflight.yaml", "--postfix-config-dir", root + "/site", "--jobs", "1"]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, stdout, stderr, (root + "/site" as NSString).standardizingPath)
    }

    @Test func aConfigurationThatCannotServeMailStopsTheRunBeforeAnyCaseWithExit2() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build first: swift build")
        let result = try run(site: [
            "main.cf": "biff = no\nvirtual_alias_maps = hash:/etc/postfix/virtual\nrelayhost = [relay.example.net]\n"
        ])
        #expect(result.status == 2, "\(result.stdout)\(result.stderr)")
        let reports = result.stderr.components(separatedBy: "Postfix preflight of ").count - 1
        #expect(reports == 1, "one report for the folder, not one per case: \(result.stderr)")
        #expect(
            result.stderr.contains(
                "\(result.site)/main.cf:2: error: virtual_alias_maps names hash:/etc/postfix/virtual"),
            "\(result.stderr)")
        #expect(
            result.stderr.contains("\(result.site)/main.cf:3: warning: relayhost = [relay.example.net]"),
            "\(result.stderr)")
        #expect(result.stderr.contains("no case runs"))
        #expect(!result.stdout.contains("PASS") && !result.stdout.contains("FAIL"), "no case ran: \(result.stdout)")
    }

    @Test func parityChecksThePostfixSideFirstAndStopsWithExit2() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build first: swift build")
        let result = try run("parity", site: ["main.cf": "biff = no\nvirtual_alias_maps = hash:/etc/postfix/virtual\n"])
        #expect(result.status == 2, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.components(separatedBy: "Postfix preflight of ").count - 1 == 1, "\(result.stderr)")
        #expect(
            result.stderr.contains(
                "\(result.site)/main.cf:2: error: virtual_alias_maps names hash:/etc/postfix/virtual"),
            "\(result.stderr)")
        #expect(!result.stdout.contains("same") && !result.stdout.contains("differ"), "no case ran: \(result.stdout)")
        let good = try run("parity", site: ["main.cf": "biff = no\n"])
        #expect(good.status == 0, "\(good.stdout)\(good.stderr)")
        #expect(good.stdout.contains("parity: 3 same, 0 different"), "\(good.stdout)")
    }

    @Test func warningsAloneAreReportedOnceAndTheCasesRun() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build first: swift build")
        let result = try run(site: ["main.cf": "biff = no\nmxh_never_used = 1\n"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(
            result.stderr.contains("\(result.site)/main.cf:2: warning:")
                && result.stderr.contains("unused parameter: mxh_never_used=1"), "\(result.stderr)")
        #expect(result.stderr.components(separatedBy: "Postfix preflight of ").count - 1 == 1)
        #expect(result.stdout.contains("3 passed, 0 failed"), "\(result.stdout)")
    }
}
