import Foundation
import MXHarnessTestKit
import Testing

/// The executable as a user meets it: argument-parser parses every value, exit codes are 0 all
/// passed, 1 some failed, 2 usage or load errors, 3 nothing ran (`NothingRanExitTests`), and errors
/// carry their message.
@Suite struct CommandLineTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let binary = root.appendingPathComponent(".build/debug/mxharness").path

    struct Finished {
        var status: Int32
        var output: String
        var error: String
    }

    /// Runs the executable (or `executable`, a wrapper that starts it: setpriv, unshare) with
    /// `arguments`, `environment` added to this process's own.
    static func run(
        _ arguments: [String], environment: [String: String] = [:], executable: String = binary
    ) throws -> Finished {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Both pipes drained at once: a child blocked writing to a full stderr pipe (64 KiB on
        // Linux) would never close stdout, and reading stdout to its end first would wait forever.
        let error = Drained(err.fileHandleForReading)
        let output = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Finished(
            status: process.terminationStatus, output: String(decoding: output, as: UTF8.self),
            error: String(decoding: error.data(), as: UTF8.self))
    }

    /// A pipe read to its end on a thread of its own.
    final class Drained: @unchecked Sendable {
        private let done = DispatchSemaphore(value: 0)
        // Written once by the reading thread before `done` is signalled, read after the wait.
        private var bytes = Data()

        init(_ handle: FileHandle) {
            Thread { [self] in
                bytes = handle.readDataToEndOfFile()
                done.signal()
            }.start()
        }

        /// Everything the pipe carried, once its writers closed it.
        func data() -> Data {
            done.wait()
            return bytes
        }
    }

    /// A child that fills stderr before writing to stdout ends, and both outputs arrive whole.
    @Test(.timeLimit(.minutes(1))) func aChildFillingStderrFirstDoesNotBlockTheRun() throws {
        let finished = try Self.run(
            ["-c", "head -c 200000 /dev/zero | tr '\\0' e >&2; echo out"], executable: "/bin/sh")
        #expect(finished.status == 0)
        #expect(finished.output == "out\n")
        #expect(finished.error.count == 200_000 && finished.error.allSatisfy { $0 == "e" })
    }

    static func temporary(_ name: String, _ text: String) throws -> String {
        let directory = NSTemporaryDirectory() + "/cli-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        return directory
    }

    static let passing = """
        name: good
        dns:
          records:
            - example.test. MX 10 mx.example.test.
            - mx.example.test. AAAA 2001:db8::10
        receiver: {addresses: ["2001:db8::10"], policy: open}
        sender: {addresses: {ipv6: "2001:db8:5::25"}, helo: mail.sender.test, mail_from: a@sender.test, rcpt_to: [b@example.test]}
        expect: {outcome: delivered, family: ipv6}
        """

    @Test func valuesArgumentParserCannotParseAreUsageErrors() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build mxharness first (swift build)")
        for (arguments, says) in [
            (["run", "--shard", "4/3"], "'4/3' is invalid for '--shard <K/N>'"),
            (["run", "--shard", "0/3"], "is invalid for '--shard <K/N>'"),
            (["run", "--target", "qmail"], "'qmail' is invalid for '--target <target>'"),
            (["matrix", "--policies", "open", "--target", "sendmail"], "is invalid for '--target <target>'"),
            (["mx", "serve", "--policy", "nope"], "is invalid for '--policy <policy>'"),
            (["mx", "serve", "--listen", "here"], "is invalid for '--listen <ADDR:PORT>'"),
            (["mx", "serve", "--resolver", "127.0.0.1@0"], "is invalid for '--resolver <ADDR[@PORT]>'"),
            (["run", "--jobs", "0"], "--jobs must be at least 1"),
            (["run", "--dns-timeout", "0"], "--dns-timeout must be a positive number"),
            (["matrix"], "give the columns"),
        ] {
            let finished = try Self.run(arguments)
            #expect(finished.status == 2, "\(arguments)")
            #expect(finished.error.contains(says), "\(arguments): \(finished.error)")
        }
    }

    @Test func commandErrorsCarryTheirMessage() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build mxharness first (swift build)")
        let validate = try Self.run(["validate", "/nonexistent/scenarios"])
        #expect(validate.status == 2)
        #expect(
            validate.error.contains("/nonexistent/scenarios") && validate.error.contains("no such file or folder"),
            "\(validate.error)")
        let directory = try Self.temporary("good.yaml", Self.passing)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let none = try Self.run(["run", directory, "--filter", "nothing-*"])
        #expect(none.status == 3, "nothing ran")
        #expect(none.error.contains("no case matches (1 loaded from \(directory))"), "\(none.error)")
        let merge = try Self.run(["merge", directory + "/good.yaml"])
        #expect(merge.status == 2)
        #expect(merge.error.contains("good.yaml is not JSON"), "\(merge.error)")
    }

    /// A shard run through real worlds: the shard's note, plain lines (standard output is a pipe,
    /// not a terminal: no status line), the slowest cases, exit 0; an expectation that fails, exit 1.
    @Test(.enabled(if: IntegrationEnvironment.canRunWorlds, IntegrationEnvironment.worldSkipReason))
    func aShardRunsAndExitsWithItsVerdict() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build mxharness first (swift build)")
        let directory = try Self.temporary("good.yaml", Self.passing)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let finished = try Self.run([
            "run", directory, "--shard", "1/1", "--durations", "1", "--json", directory + "/shard.json",
        ])
        #expect(finished.status == 0, "\(finished.output)\(finished.error)")
        #expect(finished.output.hasPrefix("shard 1/1: 1 of 1 cases\nPASS good"), "\(finished.output)")
        #expect(!finished.output.contains("\r") && !finished.output.contains("\u{1B}"))
        #expect(
            finished.output.contains("Slowest 1 of 1 cases:\n") && finished.output.contains("(setup "),
            "\(finished.output)")
        let merged = try Self.run(["merge", directory + "/shard.json"])
        #expect(merged.status == 0)
        #expect(merged.output == "1 shard report: 1 passed, 0 failed, 0 skipped\n", "\(merged.output)")

        try Self.passing.replacingOccurrences(of: "outcome: delivered", with: "outcome: bounced")
            .write(toFile: directory + "/good.yaml", atomically: true, encoding: .utf8)
        let failing = try Self.run(["run", directory])
        #expect(failing.status == 1)
        #expect(failing.output.contains("0 passed, 1 failed, 0 skipped"))
    }
}
