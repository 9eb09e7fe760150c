import DNSCore
import Delivery
import Foundation
import Logging
import MXHarnessTestKit
import NIOPosix
import Sandbox
import SMTPProtocol
import Testing
@testable import Sender

/// A private Postfix instance listening on 127.0.0.1 at a high port: own config, queue and data
/// directories under one temporary folder, mail for example.test discarded after acceptance.
struct PrivatePostfix {
    static let executable = "/usr/sbin/postfix"

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let directory: String
    let port: Int
    var configDirectory: String { directory + "/etc" }

    /// Sets up and starts the instance; on failure, removes what it made and throws.
    static func start(port: Int, recipientRejects: [String: String]) throws -> PrivatePostfix {
        // /tmp/mxh-PID-N-senderpostfix, mode 0755 (user postfix must traverse it), registered so that
        // a run killed midway leaves it to ResourceJanitor.
        let directory = try ResourceRegistry.shared.makeTemporaryDirectory("senderpostfix")
        let postfix = PrivatePostfix(directory: directory, port: port)
        do {
            try postfix.setUp(recipientRejects: recipientRejects)
            let output = try run(
                "/usr/bin/script", ["-qc", "\(executable) -c \(postfix.configDirectory) start", "/dev/null"])
            guard postfix.masterPID != nil else {
                throw Failure(
                    description:
                        "postfix -c \(postfix.configDirectory) start did not start a master: \(output) \(postfix.log)")
            }
            return postfix
        } catch {
            postfix.stop()
            throw error
        }
    }

    private func setUp(recipientRejects: [String: String]) throws {
        let files = FileManager.default
        for folder in [configDirectory, directory + "/queue", directory + "/data"] {
            try files.createDirectory(
                atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        }
        _ = try Self.run("/bin/chown", ["postfix", directory + "/data"])
        for name in [
            "master.cf", "dynamicmaps.cf", "dynamicmaps.cf.d", "postfix-files", "postfix-files.d", "post-install",
            "postfix-script",
        ] {
            let source = "/etc/postfix/" + name
            if files.fileExists(atPath: source) {
                try files.copyItem(atPath: source, toPath: configDirectory + "/" + name)
            }
        }
        let rejects = recipientRejects.map { "{\($0.key) = \($0.value)}" }.joined(separator: ", ")
        let main = """
            compatibility_level = 3.6
            queue_directory = \(directory)/queue
            data_directory = \(directory)/data
            myhostname = mx.example.test
            mydestination = example.test
            inet_interfaces = 127.0.0.1
            inet_protocols = ipv4
            mynetworks = 127.0.0.0/8
            local_recipient_maps =
            local_transport = discard:
            alias_maps =
            alias_database =
            maillog_file = \(directory)/maillog
            maillog_file_prefixes = \(directory)
            smtpd_recipient_restrictions = check_recipient_access inline:{ \(rejects) }, permit_mynetworks, reject_unauth_destination

            """
        try main.write(toFile: configDirectory + "/main.cf", atomically: true, encoding: .utf8)
        // The SMTP service on 127.0.0.1:PORT, nothing chrooted (the queue folder has no chroot files).
        let masterPath = configDirectory + "/master.cf"
        var master = try String(contentsOfFile: masterPath, encoding: .utf8)
        master = master.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasPrefix("smtp ") && line.contains(" inet ") ? "127.0.0.1:\(port) inet n - n - - smtpd" : String(line)
        }.joined(separator: "\n")
        try master.write(toFile: masterPath, atomically: true, encoding: .utf8)
        _ = try Self.run("/usr/sbin/postconf", ["-c", configDirectory, "-F", "*/*/chroot = n"])
        _ = try Self.run(Self.executable, ["-c", configDirectory, "set-permissions"])
    }

    var masterPID: pid_t? {
        guard let text = try? String(contentsOfFile: directory + "/queue/pid/master.pid", encoding: .utf8),
            let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0, kill(pid, 0) == 0
        else { return nil }
        return pid
    }

    var log: String { (try? String(contentsOfFile: directory + "/maillog", encoding: .utf8)) ?? "" }

    /// Stops the instance (its own master only, by pid) and removes its folder. Safe to call twice.
    func stop() {
        let pid = masterPID
        _ = try? Self.run(Self.executable, ["-c", configDirectory, "stop"])
        if let pid {
            for _ in 0..<50 where kill(pid, 0) == 0 && !Self.isZombie(pid) { usleep(100_000) }
            if kill(pid, 0) == 0 && !Self.isZombie(pid) { kill(pid, SIGKILL) }
        }
        ResourceRegistry.shared.removeDirectory(directory)
    }

    private static func isZombie(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return true }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    @discardableResult
    static func run(_ path: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let output = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw Failure(
                description:
                    "\(path) \(arguments.joined(separator: " ")) exited with \(process.terminationStatus): \(output)")
        }
        return output
    }
}

@Suite("Real Postfix receiver", .serialized)
struct PostfixReceiverTests {
    @Test(
        .enabled(
            if: IntegrationEnvironment.hasPostfix,
            "postfix is not installed (/usr/sbin/postfix missing): apt-get install postfix"),
        .enabled(if: IntegrationEnvironment.isRoot, "starting a private Postfix instance needs root")
    )
    func deliversToPostfixAndBouncesTheRejectedRecipient() async throws {
        // A port that was free a moment ago.
        let probe = try await ScriptedSMTPServer.start(on: "127.0.0.1", script: .accepting)
        let port = probe.port
        await probe.stop()

        let postfix = try PrivatePostfix.start(
            port: port, recipientRejects: ["reject@example.test": "550 5.1.1 User unknown"])
        defer { postfix.stop() }

        let loopback = IPAddress("127.0.0.1")!
        let dns = InMemoryDNS([
            ("example.test", .mx(preference: 10, exchange: "mx.example.test")),
            ("mx.example.test", .a(loopback)),
        ])
        let agent = DeliveryAgent(
            lookup: dns, eventLoopGroup: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "test.sender"))
        let request = DeliveryRequest(
            sources: [.ipv4: loopback], helo: "mail.sender.test", mailFrom: "alice@sender.test",
            recipients: ["bob@example.test", "reject@example.test"],
            message: Array("From: alice@sender.test\nTo: bob@example.test\nSubject: hello\n\n.dot line\nbody\n".utf8),
            port: UInt16(port), connectTimeout: .seconds(5), replyTimeout: .seconds(30))
        let report = await agent.deliver(request, in: nil)

        let transcript = report.renderTranscript()
        #expect(report.recipients.map(\.outcome) == [.delivered, .bounced], "\(transcript)\n\(postfix.log)")
        #expect(report.outcome == .delivered)
        #expect(report.attempts.count == 1)
        let attempt = try #require(report.attempts.first)
        #expect(
            attempt.transcript.first { $0.direction == .server }?.text.hasPrefix("220 mx.example.test ESMTP") == true)
        #expect(attempt.extensions.contains("ENHANCEDSTATUSCODES"))
        #expect(attempt.extensions.contains("SIZE"))
        #expect(report.recipients.last?.stage == .rcpt)
        #expect(report.recipients.last?.reply?.code == 550)
        #expect(report.recipients.last?.reply?.enhanced == "5.1.1")
        #expect(report.decidingReply?.text.hasPrefix("Ok: queued as") == true)
    }
}
