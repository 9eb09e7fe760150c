import DNSCore
import Delivery
import Logging
import MXHarnessTestKit
import NIOCore
import NIOPosix
import SMTPProtocol
import Testing
@testable import Sender

/// The NIO client over real TCP on 127.0.0.1 and ::1 (`in: nil`), against scripted servers.
@Suite("Loopback delivery")
struct LoopbackDeliveryTests {
    static let loopback4 = IPAddress("127.0.0.1")!
    static let loopback6 = IPAddress("::1")!

    /// example.test's MX has both loopback addresses; the sender connects from the same ones.
    static let dns = InMemoryDNS([
        ("example.test", .mx(preference: 10, exchange: "mx.example.test")),
        ("mx.example.test", .a(loopback4)),
        ("mx.example.test", .aaaa(loopback6)),
    ])

    private func deliver(
        port: Int, recipients: [String] = ["bob@example.test"], prefer: AddressFamily = .ipv6,
        message: String = "Subject: test\n\nHello\n", replyTimeout: Duration = .seconds(10)
    ) async -> DeliveryReport {
        let agent = DeliveryAgent(
            lookup: Self.dns, eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            logger: Logger(label: "test.sender"))
        let request = DeliveryRequest(
            sources: [.ipv4: Self.loopback4, .ipv6: Self.loopback6], prefer: AddressPreference(prefer),
            helo: "mail.sender.test",
            mailFrom: "alice@sender.test", recipients: recipients, message: Array(message.utf8), port: UInt16(port),
            connectTimeout: .seconds(5), replyTimeout: replyTimeout)
        return await agent.deliver(request, in: nil)
    }

    @Test(arguments: [AddressFamily.ipv4, .ipv6])
    func deliversWithDotStuffingOnTheWire(family: AddressFamily) async throws {
        let host = family == .ipv4 ? "127.0.0.1" : "::1"
        let server = try await ScriptedSMTPServer.start(on: host, script: .accepting)
        defer { Task { await server.stop() } }
        let report = await deliver(port: server.port, prefer: family, message: "Subject: dots\n\n.one\n..two\nend")
        #expect(report.outcome == .delivered)
        #expect(report.decidingFamily == family)
        #expect(report.attempts.count == 1)
        let attempt = try #require(report.attempts.first)
        #expect(attempt.localAddress == (family == .ipv4 ? Self.loopback4 : Self.loopback6))
        #expect(attempt.reply?.text == "Ok: queued as 4TEST")
        #expect(
            server.recorder.commands.prefix(4) == [
                "EHLO mail.sender.test", "MAIL FROM:<alice@sender.test> SIZE=35", "RCPT TO:<bob@example.test>", "DATA",
            ])
        #expect(server.recorder.dataLines == ["Subject: dots", "", "..one", "...two", "end"])
        #expect(attempt.transcript.contains { $0.direction == .server && $0.text == "221 2.0.0 Bye" })
    }

    @Test func refusedConnectionTriesTheNextAddress() async throws {
        // Only 127.0.0.1 listens on this port; [::1] refuses.
        let server = try await ScriptedSMTPServer.start(on: "127.0.0.1", script: .accepting)
        defer { Task { await server.stop() } }
        let report = await deliver(port: server.port)
        #expect(report.attempts.map(\.result) == [.unreachable, .accepted])
        #expect(report.attempts.map(\.family) == [.ipv6, .ipv4])
        #expect(report.attempts.first?.error?.contains("connection refused") == true)
        #expect(report.outcome == .delivered)
    }

    @Test func noListenerAnywhereDefers() async throws {
        // A port that was free a moment ago: bind, read the port, close.
        let probe = try await ScriptedSMTPServer.start(on: "127.0.0.1", script: .accepting)
        let port = probe.port
        await probe.stop()
        let report = await deliver(port: port)
        #expect(report.outcome == .deferred)
        #expect(report.attempts.map(\.result) == [.unreachable, .unreachable])
    }

    @Test func greeting4xxAnd5xxDefer() async throws {
        for greeting in ["421 4.3.2 Service not available", "554 5.7.1 No SMTP service here"] {
            let script = ServerScript.accepting.with { $0.greeting = [greeting] }
            let server6 = try await ScriptedSMTPServer.start(on: "::1", script: script)
            let server4 = try await ScriptedSMTPServer.start(on: "127.0.0.1", port: server6.port, script: script)
            let report = await deliver(port: server6.port)
            await server6.stop()
            await server4.stop()
            #expect(report.outcome == .deferred, "greeting \(greeting)")
            #expect(report.attempts.count == 2)
            #expect(report.decidingStage == .greeting)
            #expect(report.decidingReply?.description == greeting)
        }
    }

    @Test func rcpt450DefersAtRcpt() async throws {
        let script = ServerScript.accepting.with {
            $0.rcptDefault = ["450 4.7.25 Client host rejected: cannot find your hostname, [::1]"]
        }
        let server = try await ScriptedSMTPServer.start(on: "::1", script: script)
        defer { Task { await server.stop() } }
        let report = await deliver(port: server.port)
        // [::1] defers at RCPT, 127.0.0.1 on the same port refuses.
        #expect(report.attempts.map(\.result) == [.tempfailed, .unreachable])
        #expect(report.outcome == .deferred)
        #expect(report.attempts.first?.stage == .rcpt)
        #expect(report.attempts.first?.reply?.enhanced == "4.7.25")
        #expect(!server.recorder.commands.contains("DATA"))
    }

    @Test func endOfData550Bounces() async throws {
        let script = ServerScript.accepting.with { $0.endOfData = ["550 5.7.1 message refused"] }
        let server = try await ScriptedSMTPServer.start(on: "::1", script: script)
        defer { Task { await server.stop() } }
        let report = await deliver(port: server.port)
        #expect(report.outcome == .bounced)
        #expect(report.attempts.count == 1)
        #expect(report.decidingStage == .data)
        #expect(report.decidingReply?.code == 550)
    }

    @Test func silentServerTimesOutAtGreeting() async throws {
        let script = ServerScript.accepting.with { $0.silent = true }
        let server = try await ScriptedSMTPServer.start(on: "127.0.0.1", script: script)
        defer { Task { await server.stop() } }
        let report = await deliver(port: server.port, prefer: .ipv4, replyTimeout: .milliseconds(200))
        let attempt = try #require(report.attempts.first)
        #expect(attempt.result == .tempfailed)
        #expect(attempt.stage == .greeting)
        #expect(attempt.error?.contains("timed out while receiving the initial server greeting") == true)
        #expect(report.outcome == .deferred)
    }

    @Test func partialBounceOverTCP() async throws {
        let script = ServerScript.accepting.with {
            $0.rcpt = ["bob@example.test": ["550 5.1.1 <bob@example.test>: Recipient address rejected: User unknown"]]
        }
        let server = try await ScriptedSMTPServer.start(on: "::1", script: script)
        defer { Task { await server.stop() } }
        let report = await deliver(port: server.port, recipients: ["bob@example.test", "carol@example.test"])
        #expect(report.recipients.map(\.outcome) == [.bounced, .delivered])
        #expect(report.outcome == .bounced)
        let rendered = report.renderTranscript()
        #expect(rendered.contains("=== Trying [::1]:\(server.port) from [::1]"))
        #expect(rendered.contains("<- 550 5.1.1 <bob@example.test>: Recipient address rejected: User unknown"))
    }
}

/// STARTTLS through the NIO client against scripted servers that say 220 to STARTTLS and then
/// speak no TLS: the handshake fails or never ends, and the model moves on as Postfix does.
@Suite("Loopback STARTTLS")
struct LoopbackSTARTTLSTests {
    static let offering = ServerScript.accepting.with {
        $0.ehlo = ["250-mx.example.test", "250-PIPELINING", "250-STARTTLS", "250 ENHANCEDSTATUSCODES"]
        $0.starttls = ["220 2.0.0 Ready to start TLS"]
    }

    private func deliver(port: Int, level: TLSSecurityLevel, replyTimeout: Duration) async -> DeliveryReport {
        let agent = DeliveryAgent(
            lookup: LoopbackDeliveryTests.dns, eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            logger: Logger(label: "test.sender"))
        var request = DeliveryRequest(
            sources: [.ipv4: LoopbackDeliveryTests.loopback4, .ipv6: LoopbackDeliveryTests.loopback6],
            helo: "mail.sender.test",
            mailFrom: "alice@sender.test", recipients: ["bob@example.test"], message: Array("Subject: t\n\nHi\n".utf8),
            port: UInt16(port), connectTimeout: .seconds(5), replyTimeout: replyTimeout)
        request.tls = SenderTLS(level: level, trustAnchors: [], handshakeTimeout: .seconds(1))
        return await agent.deliver(request, in: nil)
    }

    @Test(arguments: [nil, "554 5.7.0 this is no TLS\r\n"])
    func aHandshakeThatFailsOrNeverEndsDefersEachAddressWithoutQUIT(after: String?) async throws {
        let script = Self.offering.with { $0.afterSTARTTLS = after }
        let server4 = try await ScriptedSMTPServer.start(on: "127.0.0.1", script: script)
        defer { Task { await server4.stop() } }
        let server6 = try await ScriptedSMTPServer.start(on: "::1", port: server4.port, script: script)
        defer { Task { await server6.stop() } }
        // At may too: a message's first attempt is never retried in plaintext.
        let report = await deliver(port: server4.port, level: .may, replyTimeout: .seconds(10))
        #expect(report.outcome == .deferred)
        #expect(report.attempts.map(\.family) == [.ipv6, .ipv4])
        for attempt in report.attempts {
            #expect(attempt.result == .tempfailed)
            #expect(attempt.stage == .helo)
            #expect(attempt.reply == SMTPReply(code: 451, enhanced: "4.7.5", "Cannot start TLS: handshake failure"))
            #expect(attempt.tls == nil)
            #expect(attempt.transcript.contains { $0.text.hasPrefix("SSL_connect error to mx.example.test[") })
        }
        // After the 220 the client sent nothing in plaintext: no QUIT.
        #expect(server4.recorder.commands == ["EHLO mail.sender.test", "STARTTLS"])
        if after == nil {
            #expect(report.attempts.allSatisfy { $0.transcript.contains { $0.text.hasSuffix(": timeout") } })
        }
    }

    @Test func encryptDefersWhenTheServerDoesNotOfferIt() async throws {
        let server = try await ScriptedSMTPServer.start(on: "127.0.0.1", script: .accepting)
        defer { Task { await server.stop() } }
        let report = await deliver(port: server.port, level: .encrypt, replyTimeout: .seconds(10))
        #expect(report.outcome == .deferred)
        let attempt = try #require(report.attempts.last)
        #expect(attempt.reply?.enhanced == "4.7.4")
        #expect(server.recorder.commands == ["EHLO mail.sender.test", "QUIT"])
    }
}
