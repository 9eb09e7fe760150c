import Foundation
import DNSCore
import Logging
import MXHarnessTestKit
import NIOCore
import SMTPProtocol
import Synchronization
import Testing
@testable import ReferenceMX

/// Collects what is logged, for reading back.
final class CapturedLog: Sendable {
    private let messages = Mutex<[String]>([])
    /// How long each log event takes to write (a slow terminal).
    let delay: Duration
    var all: [String] { messages.withLock { $0 } }

    init(delay: Duration = .zero) {
        self.delay = delay
    }

    func logger(level: Logger.Level) -> Logger {
        var logger = Logger(label: "mxharness.test.decisions") { _ in Handler(log: self) }
        logger.logLevel = level
        return logger
    }

    struct Handler: LogHandler {
        let log: CapturedLog
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            if log.delay > .zero { Thread.sleep(forTimeInterval: Double(log.delay.components.attoseconds) / 1e18) }
            log.messages.withLock { $0.append("\(event.message)") }
        }
    }
}

@Suite("Built-in MX: decision log and command timer")
struct DecisionLogTests {
    /// `mx serve`'s set-up: no records kept, each session's decision logged at info.
    static func serving(
        log: CapturedLog, level: Logger.Level = .info, limits: SMTPServerLimits = .init(), transcripts: Bool = false
    ) -> ReferenceMX {
        var configuration = MXConfiguration(hostname: "mx.example.test", policy: .open, limits: limits)
        configuration.keepsRecords = false
        configuration.logsTranscripts = transcripts
        configuration.sessionLogLevel = .info
        return ReferenceMX(
            configuration: configuration, lookup: InMemoryDNS(), eventLoopGroup: MXTest.group,
            logger: log.logger(level: level))
    }

    static func session(_ mx: ReferenceMX, helo: String) async throws {
        try await MXTest.withClient(mx) { client in
            _ = try await client.readReply()
            try await client.send("EHLO \(helo)\r\nQUIT\r\n")
            _ = try await client.readAll()
        }
    }

    @Test func everySessionsDecisionIsLoggedOnceAndStopWritesWhatIsLeft() async throws {
        let log = CapturedLog()
        let mx = Self.serving(log: log)
        try await mx.start(listeningOn: [IPAddress("127.0.0.1")!], port: 0, in: nil)
        for index in 1...5 {
            try await Self.session(mx, helo: "client\(index).sender.test")
        }
        // The fifth may still wait for the next tick; stop writes it.
        await mx.stop()
        let text = log.all.joined(separator: "\n")
        for index in 1...5 {
            #expect(
                text.components(separatedBy: "HELO client\(index).sender.test").count == 2,
                "session \(index) logged once:\n\(text)")
        }
        #expect(log.all.allSatisfy { $0.hasPrefix("MX session decision") })
        #expect(mx.sessionCount == 5)
    }

    /// `mx serve --verbose`: each decision comes with every command and reply of its session,
    /// and nothing of the session is kept once it is logged.
    @Test func verboseDecisionsCarryTheTranscript() async throws {
        for transcripts in [false, true] {
            let log = CapturedLog()
            let mx = Self.serving(log: log, transcripts: transcripts)
            try await mx.start(listeningOn: [IPAddress("127.0.0.1")!], port: 0, in: nil)
            try await Self.session(mx, helo: "client1.sender.test")
            try await Self.session(mx, helo: "client2.sender.test")
            await mx.stop()
            let text = log.all.joined(separator: "\n")
            for line in [
                "C: EHLO client1.sender.test", "S: 250-mx.example.test", "S: 250 ENHANCEDSTATUSCODES", "C: QUIT",
                "S: 221 2.0.0 Bye", "C: EHLO client2.sender.test",
            ] {
                #expect(text.contains(line) == transcripts, "\(line) with transcripts \(transcripts):\n\(text)")
            }
            #expect(
                text.components(separatedBy: ", HELO client1.sender.test\n").count == 2,
                "the decision of session 1, once:\n\(text)")
            #expect(mx.sessions.isEmpty && mx.messages.isEmpty)
        }
    }

    /// A log slower than the sessions: no more than `queueLimit` batches wait for it (the caller
    /// writes the rest itself), and every decision is logged once, in order.
    @Test func aSlowLogHoldsBackTheCallerNotMemory() async throws {
        let log = CapturedLog(delay: .milliseconds(20))
        let decisions = DecisionLog(logger: log.logger(level: .info), level: .info, queueLimit: 2)
        var most = 0
        for id in 1...12 {
            decisions.add(
                SessionRecorder(
                    record: SessionRecord(
                        id: id, client: IPAddress("192.0.2.\(id)"), clientPort: nil, server: nil, serverPort: nil)))
            decisions.flush()
            most = max(most, decisions.queuedBatches)
        }
        await decisions.drain()
        #expect(most <= 2)
        #expect(log.all.count == 12)
        #expect(
            log.all.map { $0.split(separator: "\n")[1].split(separator: " ")[1] }
                == (1...12).map { "\($0)" }[...].map { Substring($0) })
        #expect(decisions.queuedBatches == 0)
    }

    @Test func decisionsBelowTheLoggersLevelAreNotMade() async throws {
        let log = CapturedLog()
        let mx = Self.serving(log: log, level: .warning)
        try await mx.start(listeningOn: [IPAddress("127.0.0.1")!], port: 0, in: nil)
        try await Self.session(mx, helo: "client.sender.test")
        await mx.stop()
        #expect(log.all.isEmpty)
    }

    /// One timer for the MX: every silent client is timed out by it, and a session that ends
    /// leaves nothing behind for it. (That input restarts the command timer is the state
    /// machine's, tested there with a manual clock; real sleeps here would make a test that a
    /// busy machine can fail.)
    @Test(.timeLimit(.minutes(1))) func theTickTimesOutSilentClientsAndForgetsEndedSessions() async throws {
        let log = CapturedLog()
        let mx = Self.serving(log: log, limits: SMTPServerLimits(commandTimeout: .milliseconds(300)))
        try await mx.start(listeningOn: [IPAddress("127.0.0.1")!], port: 0, in: nil)
        async let first: [String] = MXTest.withClient(mx) { try await $0.readAll().map(\.description) }
        async let second: [String] = MXTest.withClient(mx) { try await $0.readAll().map(\.description) }
        let timedOut = "421 4.4.2 mx.example.test Error: timeout exceeded"
        #expect(try await first == ["220 mx.example.test ESMTP", timedOut])
        #expect(try await second == ["220 mx.example.test ESMTP", timedOut])
        #expect(mx.core.openSessionCount == 0)
        await mx.stop()
        #expect(log.all.joined().components(separatedBy: "closed: 421 timeout").count == 3)
    }
}
