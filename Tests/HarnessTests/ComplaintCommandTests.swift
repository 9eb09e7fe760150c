import DNSCore
import Foundation
@testable import Harness
import Logging
import MXHarnessTestKit
import RunnerTestKit
import Testing

@Suite struct ReproCommandTests {
    func temporary(_ name: String) -> String {
        NSTemporaryDirectory() + "/repro-\(getpid())-\(UUID().uuidString.prefix(8))-\(name)"
    }

    @Test func writesTheScenarioForALogLine() async throws {
        let input = temporary("line.log"), output = temporary("complaint.yaml")
        defer {
            try? FileManager.default.removeItem(atPath: input); try? FileManager.default.removeItem(atPath: output)
        }
        try
            "May  1 12:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[2001:db8::66]: 450 4.7.25 Client host rejected: cannot find your hostname, [2001:db8::66]; from=<a@sender.test> to=<u@example.test> proto=ESMTP helo=<bad.sender.test>\n"
            .write(toFile: input, atomically: true, encoding: .utf8)
        #expect(
            try await Harness.repro(
                input: input, output: output, verification: .skipped, parts: builtinParts, logger: Logger(label: "test")
            ) == .passed)
        let yaml = try String(contentsOfFile: output, encoding: .utf8)
        #expect(yaml.contains("policy: fcrdns\n"))
        try Harness.validate(paths: [output], kinds: .core)
    }

    /// An mbox of two bounces and a message that is none: one scenario file per bounce with `-o DIR`,
    /// one with `--message N`, and `-o FILE` refused with the way out.
    @Test func anMboxGivesOneScenarioPerBounce() async throws {
        let mbox = temporary("bounces.mbox"), directory = temporary("out") + "/", single = temporary("one.yaml")
        defer {
            for path in [mbox, directory, single] { try? FileManager.default.removeItem(atPath: path) }
        }
        let postfix =
            "From MAILER-DAEMON Mon Jan  1 00:00:00 2024\nFrom: MAILER-DAEMON@mail.sender.test\nTo: a@sender.test\nSubject: Undelivered Mail Returned to Sender\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n\n<b@example.test>: host mx.example.test[2001:db8::10] said: 550 5.7.25 Client host rejected: cannot find your hostname,\n    [2001:db8:5::25] (in reply to RCPT TO command)\n\n"
        let note =
            "From alice Mon Jan  1 00:01:00 2024\nFrom: alice@sender.test\nTo: bob@example.test\nSubject: lunch?\nDate: Mon, 1 Jan 2024 00:01:00 +0000\n\nshall we?\n\n"
        let qmail =
            "From MAILER-DAEMON Mon Jan  1 00:02:00 2024\nFrom: MAILER-DAEMON@sender.test\nTo: a@sender.test\nSubject: failure notice\nDate: Mon, 1 Jan 2024 00:02:00 +0000\n\n<c@example.test>:\nConnected to 192.0.2.10 but sender was rejected.\nRemote host said: 553 5.7.1 sorry\n"
        try (postfix + note + qmail).write(toFile: mbox, atomically: true, encoding: .utf8)
        let logger = Logger(label: "test")
        #expect(
            try await Harness.repro(
                input: mbox, output: directory, verification: .skipped, parts: builtinParts, logger: logger) == .passed)
        // Each file is named after the mbox: NAME-N.yaml.
        let stem = directory + URL(fileURLWithPath: mbox).deletingPathExtension().lastPathComponent
        let first = try String(contentsOfFile: stem + "-1.yaml", encoding: .utf8)
        #expect(first.contains("stage: rcpt") && first.contains("family: ipv6"))
        #expect(!FileManager.default.fileExists(atPath: stem + "-2.yaml"), "the note is no bounce")
        let third = try String(contentsOfFile: stem + "-3.yaml", encoding: .utf8)
        #expect(third.contains("stage: mail") && third.contains("reject_at: mail"))
        try Harness.validate(paths: [directory], kinds: .core)
        #expect(
            try await Harness.repro(
                input: mbox, output: single, message: 3, verification: .skipped, parts: builtinParts, logger: logger)
                == .passed)
        #expect(try String(contentsOfFile: single, encoding: .utf8).contains("code: 553"))
        await #expect {
            try await Harness.repro(
                input: mbox, output: single + ".yaml", verification: .skipped, parts: builtinParts, logger: logger)
        } throws: {
            ($0 as? HarnessError)?.exitCode == 2 && "\($0)".contains("--message N")
        }
        await #expect {
            try await Harness.repro(
                input: mbox, output: nil, message: 4, verification: .skipped, parts: builtinParts, logger: logger)
        } throws: {
            ($0 as? HarnessError)?.exitCode == 2
        }
    }

    @Test func unknownOrMissingInputIsAUsageError() async throws {
        let input = temporary("note.txt")
        defer { try? FileManager.default.removeItem(atPath: input) }
        try "my mail does not arrive\n".write(toFile: input, atomically: true, encoding: .utf8)
        await #expect {
            try await Harness.repro(
                input: input, output: nil, verification: .skipped, parts: builtinParts, logger: Logger(label: "test"))
        } throws: {
            ($0 as? HarnessError)?.exitCode == 2
        }
        await #expect {
            try await Harness.repro(
                input: temporary("absent"), output: nil, verification: .skipped, parts: builtinParts,
                logger: Logger(label: "test"))
        } throws: {
            ($0 as? HarnessError)?.exitCode == 2
        }
    }

    @Test func captureArgumentsAreCheckedBeforeAnyQuery() async {
        let logger = Logger(label: "test")
        for options in [
            CaptureOptions(
                resolver: "resolver.test", client: "2001:db8::66", helo: "h.sender.test", from: "a@sender.test",
                to: ["u@example.test"]),
            CaptureOptions(
                resolver: "127.0.0.1@99999", client: "2001:db8::66", helo: "h.sender.test", from: "a@sender.test",
                to: ["u@example.test"]),
            CaptureOptions(
                resolver: "127.0.0.1", client: "not-an-address", helo: "h.sender.test", from: "a@sender.test",
                to: ["u@example.test"]),
            CaptureOptions(
                resolver: "127.0.0.1", client: "2001:db8::66", helo: "h.sender.test", from: "a@sender.test",
                to: ["nobody"]),
        ] {
            await #expect { try await Harness.capture(options, logger: logger) } throws: {
                ($0 as? HarnessError)?.exitCode == 2
            }
        }
    }
}

/// The CLI's capture path, pointed at 127.0.0.1@53 inside a world's namespace through the internal entry.
@Suite(.serialized, .enabled(if: IntegrationEnvironment.canRunWorlds, IntegrationEnvironment.worldSkipReason))
struct CaptureCommandTests {
    @Test func capturesInsideANamespace() async throws {
        let spec = WorldSpec(
            records: try WorldFixture.records([
                "example.test. MX 10 mx.example.test.",
                "mx.example.test. AAAA 2001:db8::10",
                "sender.test. TXT \"v=spf1 include:_spf.slow.test -all\"",
            ]), faults: [DNSFault(name: "slow.test", kind: .timeout)])
        let options = CaptureOptions(
            resolver: "127.0.0.1@53", client: "2001:db8::66", helo: "bad.sender.test", from: "a@sender.test",
            to: ["u@example.test"], timeout: 0.5)
        let (yaml, world) = try await WorldFixture.withWorld(spec) { fixture in
            try await Harness.captureScenario(options, namespace: fixture.namespace, logger: Logger(label: "test"))
        }
        #expect(world.faults == [DNSFault(name: "_spf.slow.test", kind: .timeout)])
        #expect(yaml.contains("    - {name: _spf.slow.test, fault: timeout}"))
        #expect(yaml.contains("    - example.test. MX 10 mx.example.test."))
        #expect(yaml.contains("# bad.sender.test: NXDOMAIN"))
    }
}
