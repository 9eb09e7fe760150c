#if canImport(Glibc)
import ExecMX
import Glibc
#endif
import Foundation
import MXHarnessTestKit
import Runner
import RunnerTestKit
import Scenario
import Testing

/// Bring your own MX (`target: exec`).
@Suite(.serialized, .enabled(if: IntegrationEnvironment.canRunWorlds, IntegrationEnvironment.worldSkipReason))
struct ExecReceiverTests {
    /// The built-in parts with the exec receiver.
    static let parts = builtinParts.adding(ExecReceivers())

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// A tiny SMTP server in Python that also leaves a `sleep` child in its process group, which
    /// must be gone once the case is over.
    static func pythonMX(marker: String) -> String {
        let server = """
            import socket, subprocess, sys
            subprocess.Popen(["sleep", "\(marker)"])
            s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("192.0.2.10", 25)); s.listen(8)
            print("python mx listening", flush=True)
            while True:
                c, _ = s.accept(); f = c.makefile("rb"); c.sendall(b"220 py.example.test ESMTP\\r\\n")
                for line in f:
                    verb = line[:4].upper()
                    if verb == b"DATA":
                        c.sendall(b"354 go on\\r\\n")
                        for body in f:
                            if body in (b".\\r\\n", b".\\n"): break
                        c.sendall(b"250 2.0.0 Ok: queued as PY1\\r\\n"); continue
                    if verb == b"QUIT": c.sendall(b"221 bye\\r\\n"); break
                    if verb == b"RCPT": c.sendall(b"550 5.7.1 python says no\\r\\n"); continue
                    c.sendall(b"250 ok\\r\\n")
                c.close()
            """
        return "python3 -c '\(server.replacing("'", with: "'\\''"))'"
    }

    static func scenario(start: String) throws -> ScenarioCase {
        let yaml = """
            name: exec-python
            dns:
              records: ["example.test. MX 10 mx.example.test.", "mx.example.test. A 192.0.2.10"]
            receiver:
              addresses: [192.0.2.10]
              target: exec
              exec: {start: \(try String(data: JSONEncoder().encode(start), encoding: .utf8)!)}
            sender:
              addresses: {ipv4: 203.0.113.25}
              helo: mail.sender.test
              mail_from: a@sender.test
              rcpt_to: [b@example.test]
            expect: {outcome: bounced, stage: rcpt, code: 550, text: python says no}
            """
        return try #require(
            try ScenarioLoader(kinds: Self.parts.scenarioKinds).load(yaml: yaml, file: "/tmp/exec-python.yaml").first)
    }

    @Test func aCommandThatGreetsRunsTheCaseAndItsProcessGroupIsStoppedAfter() async throws {
        let marker = "10\(getpid() % 1000).5"  // sleep's argument, unique to this run
        let result = await CaseRunner(configuration: RunConfiguration(), parts: Self.parts).run(
            try Self.scenario(start: Self.pythonMX(marker: marker)))
        #expect(result.status == .passed, "\(result.status) \(result.mismatches)")
        #expect(result.receiverLog.contains("python mx listening"))
        #expect(LiveProcess.mentioning("sleep \(marker)").isEmpty, "the command's process group is stopped")
    }

    @Test func aCommandThatExitsFailsTheCaseWithItsOwnWords() async throws {
        let result = await CaseRunner(configuration: RunConfiguration(), parts: Self.parts).run(
            try Self.scenario(start: "echo 'my-mta: cannot read my.conf' >&2; exit 3"))
        guard case .error(let message) = result.status else {
            Issue.record("expected an error, got \(result.status)")
            return
        }
        #expect(message.contains("the receiver command exited before every address greeted"), "\(message)")
        #expect(message.contains("my-mta: cannot read my.conf"), "\(message)")
        // What the command said reaches the report as the receiver's log (`ReceiverStartFailure`).
        #expect(result.receiverLog.contains("my-mta: cannot read my.conf"), "\(result.receiverLog)")
    }

    /// The worked example of docs/: Postfix with postscreen, configured by hand.
    @Test(.enabled(if: IntegrationEnvironment.hasPostfix, "needs postfix (apt-get install postfix)"))
    func theDocumentedPostfixWithPostscreenExamplePasses() async throws {
        let folder = Self.repository.appendingPathComponent("docs/examples/byo-postfix-postscreen").path
        let cases = try ScenarioLoader(kinds: Self.parts.scenarioKinds).load(paths: [folder])
        #expect(cases.count == 4)
        let results = await ScenarioRun(
            runner: CaseRunner(configuration: RunConfiguration(), parts: Self.parts), jobs: 2
        ).run(cases)
        for result in results {
            #expect(
                result.status == .passed, "\(result.name): \(result.status) \(result.mismatches) \(result.receiverLog)")
        }
        #expect(results.first { $0.name == "postscreen/listed-client" }?.receiverLog.contains("postscreen") == true)
    }
}
