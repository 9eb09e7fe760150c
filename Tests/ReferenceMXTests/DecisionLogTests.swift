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
    var all: [String] { messages.withLock { $0 } }

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
            log.messages.withLock { $0.append("\(event.message)") }
        }
    }
}

@Suite("Built-in MX: decision log and command timer")
struct DecisionLogTests {
    /// `mx serve`'s set-up: no records kept, each session's decision logged at info.
    static func serving(log: CapturedLog, level: Logger.Level = .info, limits: SMTPServerLimits = .init()) -> ReferenceMX {
        var configuration = MXConfiguration(hostname: "mx.example.test", policy: .open, limits: limits)
        configuration.keepsRecords = false
        configuration.sessionLogLevel = .info
        return ReferenceMX(configuration: configuration, lookup: InMemoryDNS(), eventLoopGroup: MXTest.group, logger: log.logger(level: level))
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
            #expect(text.components(separatedBy: "HELO client\(index).sender.test").count == 2, "session \(index) logged once:\n\(text)")
        }
        #expect(log.all.allSatisfy { $0.hasPrefix("MX session decision") })
        #expect(mx.sessionCount == 5)
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
