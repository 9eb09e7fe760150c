import DNSCore
import MXHarnessTestKit
import NIOCore
import Policy
import SMTPProtocol
import Testing
@testable import ReferenceMX

@Suite("ReferenceMX over loopback", .timeLimit(.minutes(2)))
struct ReferenceMXTests {
    static let envelope = "EHLO client.sender.test\r\nMAIL FROM:<alice@sender.test>\r\nRCPT TO:<bob@example.test>\r\n"

    @Test(arguments: [AddressFamily.ipv4, .ipv6])
    func fullSession(family: AddressFamily) async throws {
        try await MXTest.withMX { mx in
            let replies = try await MXTest.withClient(mx, family: family) { client in
                var replies: [String] = []
                replies.append(try await client.readReply()?.description ?? "EOF")
                for line in [
                    "EHLO client.sender.test", "MAIL FROM:<alice@sender.test>", "RCPT TO:<bob@example.test>", "DATA",
                ] {
                    replies.append(try await client.command(line))
                }
                replies.append(try await client.command("Subject: test\r\n\r\n..dot\r\n."))
                replies.append(try await client.command("QUIT"))
                #expect(try await client.readReply() == nil)
                return replies
            }
            #expect(
                replies == [
                    "220 mx.example.test ESMTP",
                    "250 mx.example.test PIPELINING SIZE 10240000 8BITMIME ENHANCEDSTATUSCODES",
                    "250 2.1.0 Ok", "250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>",
                    "250 2.0.0 Ok: queued as S1Q1", "221 2.0.0 Bye",
                ])
            #expect(mx.messages.count == 1)
            #expect(mx.messages.first?.text == "Subject: test\r\n\r\n.dot\r\n")
            #expect(mx.messages.first?.mailFrom == "alice@sender.test")
            #expect(mx.messages.first?.recipients == ["bob@example.test"])
            let session = try #require(mx.sessions.first)
            #expect(session.family == family)
            #expect(session.client == (family == .ipv4 ? IPAddress("127.0.0.1") : IPAddress("::1")))
            #expect(session.helo == "client.sender.test")
            #expect(session.mailFrom == "alice@sender.test")
            #expect(session.recipients == ["bob@example.test"])
            #expect(session.messagesAccepted == 1)
            #expect(session.findings?.ptr?.error == "NXDOMAIN")
            #expect(session.summary.contains("PTR \(session.client!): NXDOMAIN"))
            #expect(session.summary.contains("FCrDNS: failed (no PTR)"))
            #expect(
                session.transcript.contains { $0.direction == .client && $0.text == "MAIL FROM:<alice@sender.test>" })
            #expect(session.transcript.contains { $0.direction == .server && $0.text == "221 2.0.0 Bye" })
        }
    }

    @Test func pipelinedSession() async throws {
        try await MXTest.withMX { mx in
            let replies = try await MXTest.withClient(mx) { client in
                try await client.send(
                    Self.envelope
                        + "RCPT TO:<carol@example.test>\r\nDATA\r\nhello\r\n.\r\nMAIL FROM:<>\r\nRCPT TO:<postmaster>\r\nDATA\r\nbounce\r\n.\r\nQUIT\r\n"
                )
                return try await client.readAll()
            }
            #expect(replies.map(\.code) == [220, 250, 250, 250, 250, 354, 250, 250, 250, 354, 250, 221])
            #expect(mx.messages.map(\.text) == ["hello\r\n", "bounce\r\n"])
            #expect(mx.messages.map(\.recipients) == [["bob@example.test", "carol@example.test"], ["postmaster"]])
        }
    }

    @Test func policyRejectionIsRecordedWithItsCheck() async throws {
        try await MXTest.withMX(policy: Preset.fcrdnsStrict.policy) { mx in
            let replies = try await MXTest.withClient(mx, family: .ipv6) { client in
                try await client.send(Self.envelope + "QUIT\r\n")
                return try await client.readAll()
            }
            #expect(
                replies.map(\.description) == [
                    "220 mx.example.test ESMTP",
                    "250 mx.example.test PIPELINING SIZE 10240000 8BITMIME ENHANCEDSTATUSCODES",
                    "250 2.1.0 Ok", "550 5.7.25 Client host rejected: cannot find your hostname, [::1]",
                    "221 2.0.0 Bye",
                ])
            let session = try #require(mx.sessions.first)
            #expect(session.decidingReply?.cause == "fcrdns")
            #expect(session.decidingReply?.stage == .rcpt)
            #expect(
                session.summary.contains(
                    "rcpt: 550 5.7.25 Client host rejected: cannot find your hostname, [::1] (fcrdns)"))
        }
    }

    /// A client that pipelines QUIT after the final dot and half-closes at once (Exim 4.96 with
    /// PIPELINING offered) still gets the end-of-data verdict, however long the policy takes,
    /// and the 221; a session that waits for more after the client's half-close ends then.
    @Test func aHalfClosedClientGetsTheRepliesToWhatItSent() async throws {
        let policy = ReceiverPolicy(ipv4: [.fcrdns], ipv6: [.fcrdns], rejectAt: .data)
        try await MXTest.withMX(policy: policy, dns: SlowLookup(delay: .milliseconds(300))) { mx in
            let replies = try await MXTest.withClient(mx) { client in
                try await client.send(Self.envelope + "DATA\r\nhello\r\n.\r\nQUIT\r\n")
                client.finish()
                return try await client.readAll()
            }
            #expect(replies.map(\.code) == [220, 250, 250, 250, 354, 550, 221])
            let unfinished = try await MXTest.withClient(mx) { client in
                try await client.send("EHLO client.sender.test\r\nMAIL FROM:<alice@sender.test>\r\n")
                client.finish()
                return try await client.readAll()
            }
            #expect(unfinished.map(\.code) == [220, 250, 250])
            try await Self.eventually { mx.sessions.count == 2 && mx.sessions.allSatisfy { $0.ended != nil } }
            #expect(mx.sessions.map(\.closeReason) == ["221 QUIT", "client disconnected"])
        }
    }

    /// Policy map 1.1: the check's reply instead of the 220 greeting, then the connection closes.
    @Test func aGreetingRejectAnswersTheConnectionAndCloses() async throws {
        let gmx = Preset.gmxLike.policy
        try await MXTest.withMX(policy: gmx) { mx in
            let replies = try await MXTest.withClient(mx, family: .ipv4) { client in
                try await client.readAll()
            }
            #expect(
                replies.map(\.description) == [
                    "554 gmx.net (mxgmx) Nemesis ESMTP Service not available No SMTP service Bad DNS PTR resource record. For explanation visit https://postmaster.gmx.net/en/error-messages?c=rdns"
                ])
            let session = try #require(mx.sessions.first)
            #expect(session.decidingReply?.cause == "fcrdns")
            #expect(session.decidingReply?.stage == .greeting)
        }
    }

    @Test func randomBytesDoNotHurtTheServer() async throws {
        try await MXTest.withMX { mx in
            var generator = SystemRandomNumberGenerator()
            for _ in 0..<5 {
                let bytes = (0..<65536).map { _ in UInt8.random(in: 0...255, using: &generator) }
                // The server closes with the client's bytes unread, so the client may see a reset
                // (RFC 793 3.5) instead of the last reply; the session record has it either way.
                _ = try? await MXTest.withClient(mx) { client in
                    try await client.send(bytes: bytes)
                    return try await client.readAll()
                }
            }
            try await Self.eventually { mx.sessions.count == 5 && mx.sessions.allSatisfy(\.isFinished) }
            for session in mx.sessions {
                #expect(session.replies.first?.reply.code == 220)
                #expect(session.replies.last.map { $0.reply.code >= 400 } == true)
            }
            try await Self.expectWorkingSession(mx)
        }
    }

    @Test func overlongLinesAreRefusedAndTheSessionGoesOn() async throws {
        try await MXTest.withMX { mx in
            let replies = try await MXTest.withClient(mx) { client in
                _ = try await client.readReply()
                try await client.send("NOOP " + String(repeating: "x", count: 200_000) + "\r\n")
                let long = try await client.readReply()?.description
                let after = try await client.command("NOOP")
                return [long, after]
            }
            #expect(replies == ["500 5.5.2 Error: line too long", "250 2.0.0 Ok"])
        }
    }

    @Test func thousandsOfPipelinedCommands() async throws {
        try await MXTest.withMX { mx in
            let replies = try await MXTest.withClient(mx) { client in
                var script = "EHLO client.sender.test\r\n"
                for index in 0..<2000 {
                    script += "MAIL FROM:<a\(index)@sender.test>\r\nRCPT TO:<b@example.test>\r\nRSET\r\n"
                }
                try await client.send(script + "QUIT\r\n")
                return try await client.readAll()
            }
            #expect(replies.count == 2 + 6000 + 1)
            #expect(replies.dropFirst().dropLast().allSatisfy { $0.code == 250 })
            #expect(replies.last?.code == 221)
        }
    }

    @Test func oneByteAtATime() async throws {
        try await MXTest.withMX { mx in
            let replies = try await MXTest.withClient(mx) { client in
                for byte in Array((Self.envelope + "DATA\r\nbyte by byte\r\n.\r\nQUIT\r\n").utf8) {
                    try await client.send(bytes: [byte])
                }
                return try await client.readAll()
            }
            #expect(replies.map(\.code) == [220, 250, 250, 250, 354, 250, 221])
            #expect(mx.messages.first?.text == "byte by byte\r\n")
        }
    }

    @Test func disconnectMidDataLeavesNoMessageAndOtherSessionsWork() async throws {
        try await MXTest.withMX { mx in
            // A second session is open while the first one drops mid-DATA.
            try await MXTest.withClient(mx, family: .ipv6) { other in
                #expect(try await other.readReply()?.code == 220)
                try await MXTest.withClient(mx) { client in
                    try await client.send(Self.envelope + "DATA\r\npartial line without end")
                    for _ in 0..<4 { _ = try await client.readReply() }
                }
                #expect(try await other.command("EHLO other.sender.test").hasPrefix("250"))
                #expect(try await other.command("MAIL FROM:<x@sender.test>") == "250 2.1.0 Ok")
                #expect(try await other.command("QUIT") == "221 2.0.0 Bye")
            }
            #expect(mx.messages.isEmpty)
            try await Self.eventually { mx.sessions.count == 2 && mx.sessions.allSatisfy(\.isFinished) }
            let dropped = try #require(mx.sessions.first { $0.family == .ipv4 })
            #expect(dropped.closeReason == "client disconnected")
            try await Self.expectWorkingSession(mx)
        }
    }

    /// A line far over the pending-input cap, as a lone command and as one text line: the same
    /// 500 as a slightly over-long one, and the session goes on (issue 23 item 4).
    @Test func aHugeLineGetsTheSameReplyAsALongOne() async throws {
        try await MXTest.withMX { mx in
            let replies = try await MXTest.withClient(mx) { client in
                try await client.send("NOOP ")
                let chunk = [UInt8](repeating: 0x78, count: 1 << 20)
                for _ in 0..<5 { try await client.send(bytes: chunk) }
                try await client.send("\r\nNOOP\r\n" + Self.envelope + "DATA\r\n")
                for _ in 0..<5 { try await client.send(bytes: chunk) }
                try await client.send("\r\n.\r\nQUIT\r\n")
                return try await client.readAll()
            }
            #expect(
                replies.map(\.description).suffix(9) == [
                    "220 mx.example.test ESMTP", "500 5.5.2 Error: line too long", "250 2.0.0 Ok",
                    "250 mx.example.test PIPELINING SIZE 10240000 8BITMIME ENHANCEDSTATUSCODES", "250 2.1.0 Ok",
                    "250 2.1.5 Ok",
                    "354 End data with <CR><LF>.<CR><LF>", "500 5.5.2 Error: text line too long", "221 2.0.0 Bye",
                ])
            #expect(mx.messages.isEmpty)
        }
    }

    /// SMTP smuggling over a socket in each bare-newline mode: the MX's handler (with its
    /// direct text path) keeps the state machine's rules.
    @Test(arguments: SMTPBareNewlineMode.allCases)
    func smugglingAttempt(mode: SMTPBareNewlineMode) async throws {
        try await MXTest.withMX(bareNewline: mode) { mx in
            let replies = try await MXTest.withClient(mx) { client in
                try await client.send(
                    Self.envelope
                        + "DATA\r\nbody\n.\nMAIL FROM:<evil@attacker.test>\r\nRCPT TO:<victim@example.test>\r\nDATA\r\nspoofed\r\n.\r\nQUIT\r\n"
                )
                return try await client.readAll()
            }
            switch mode {
            case .no:
                #expect(replies.suffix(6).map(\.code) == [250, 250, 250, 354, 250, 221])
                #expect(mx.messages.count == 2)
                #expect(mx.messages.last?.mailFrom == "evil@attacker.test")
            case .normalize:
                #expect(replies.suffix(2).map(\.code) == [250, 221])
                #expect(mx.messages.count == 1)
                #expect(mx.messages.first?.text.contains("MAIL FROM:<evil@attacker.test>") == true)
            case .reject:
                #expect(
                    replies.suffix(2).map(\.description) == [
                        "550 5.5.2 mx.example.test Error: bare <LF> received", "221 2.0.0 Bye",
                    ])
                #expect(mx.messages.isEmpty)
            }
        }
    }

    @Test func limitsHold() async throws {
        try await MXTest.withMX(limits: SMTPServerLimits(messageSize: 100, recipients: 1, errors: 5)) { mx in
            let replies = try await MXTest.withClient(mx) { client in
                try await client.send(
                    Self.envelope + "RCPT TO:<second@example.test>\r\nDATA\r\n"
                        + String(repeating: "0123456789\r\n", count: 20) + ".\r\n" + "BAD\r\nBAD\r\nBAD\r\nNOOP\r\n")
                return try await client.readAll()
            }
            #expect(
                replies.map(\.description) == [
                    "220 mx.example.test ESMTP", "250 mx.example.test PIPELINING SIZE 100 8BITMIME ENHANCEDSTATUSCODES",
                    "250 2.1.0 Ok", "250 2.1.5 Ok", "452 4.5.3 Error: too many recipients",
                    "354 End data with <CR><LF>.<CR><LF>",
                    "552 5.3.4 Error: message file too big", "500 5.5.2 Error: command not recognized",
                    "500 5.5.2 Error: command not recognized", "500 5.5.2 Error: command not recognized",
                    "421 4.7.0 mx.example.test Error: too many errors",
                ])
        }
    }

    @Test func commandTimeoutCloses() async throws {
        try await MXTest.withMX(limits: SMTPServerLimits(commandTimeout: .milliseconds(200))) { mx in
            let replies = try await MXTest.withClient(mx) { client in try await client.readAll() }
            #expect(
                replies.map(\.description) == [
                    "220 mx.example.test ESMTP", "421 4.4.2 mx.example.test Error: timeout exceeded",
                ])
            try await Self.eventually { mx.sessions.first?.closeReason == "421 timeout" }
        }
    }

    @Test func stopClosesOpenSessionsAndIsIdempotent() async throws {
        let mx = ReferenceMX(
            configuration: MXConfiguration(hostname: "mx.example.test", policy: .open), lookup: InMemoryDNS(),
            eventLoopGroup: MXTest.group, logger: MXTest.logger)
        try await mx.start(listeningOn: [IPAddress("127.0.0.1")!], port: 0, in: nil)
        try await MXTest.withClient(mx) { client async throws in
            #expect(try await client.readReply()?.code == 220)
            await mx.stop()
            #expect(try await client.readReply() == nil)
        }
        await mx.stop()
        #expect(mx.sessions.first?.isFinished == true)
    }

    @Test func listeningEndpointsParse() {
        #expect(ListeningEndpoint("127.0.0.1:2525") == ListeningEndpoint(address: IPAddress("127.0.0.1")!, port: 2525))
        #expect(
            ListeningEndpoint("[2001:db8::10]:25") == ListeningEndpoint(address: IPAddress("2001:db8::10")!, port: 25))
        #expect(ListeningEndpoint("2001:db8::10") == ListeningEndpoint(address: IPAddress("2001:db8::10")!, port: 25))
        #expect(ListeningEndpoint("[2001:db8::10]:x") == nil)
        #expect(ListeningEndpoint("mx.example.test:25") == nil)
    }

    @Test func serveRunsUntilCancelled() async throws {
        let endpoints = AsyncStream<[ListeningEndpoint]>.makeStream()
        let task = Task {
            try await ReferenceMX.serve(
                configuration: MXConfiguration(hostname: "mx.example.test", policy: .open), lookup: InMemoryDNS(),
                listeningOn: [ListeningEndpoint(address: IPAddress("127.0.0.1")!, port: 0)],
                eventLoopGroup: MXTest.group, logger: MXTest.logger, ready: { endpoints.continuation.yield($0) })
        }
        var iterator = endpoints.stream.makeAsyncIterator()
        let bound = try #require(await iterator.next())
        #expect(bound.count == 1 && bound[0].port != 0)
        task.cancel()
        try await task.value
    }

    // MARK: Helpers

    static func expectWorkingSession(_ mx: ReferenceMX) async throws {
        let before = mx.messages.count
        let replies = try await MXTest.withClient(mx) { client in
            try await client.send(envelope + "DATA\r\nok\r\n.\r\nQUIT\r\n")
            return try await client.readAll()
        }
        #expect(replies.map(\.code) == [220, 250, 250, 250, 354, 250, 221])
        #expect(mx.messages.count == before + 1)
    }

    /// Waits for `condition` up to 20 s: on a loaded CI machine sessions can take seconds to wind down.
    static func eventually(_ condition: () -> Bool) async throws {
        for _ in 0..<2000 {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(condition())
    }
}

@Suite("ReferenceMX without records", .timeLimit(.minutes(1)))
struct ReferenceMXWithoutRecordsTests {
    @Test func countsButKeepsNothingOnceSessionsEnd() async throws {
        var configuration = MXConfiguration(hostname: "mx.example.test", policy: .open)
        configuration.keepsRecords = false
        let mx = ReferenceMX(
            configuration: configuration, lookup: InMemoryDNS(), eventLoopGroup: MXTest.group, logger: MXTest.logger)
        try await mx.start(listeningOn: [IPAddress("127.0.0.1")!], port: 0, in: nil)
        for _ in 0..<2 {
            let replies = try await MXTest.withClient(mx) { client in
                try await client.send(ReferenceMXTests.envelope + "DATA\r\nhello\r\n.\r\nQUIT\r\n")
                return try await client.readAll()
            }
            #expect(replies.map(\.code) == [220, 250, 250, 250, 354, 250, 221])
        }
        // The handler ends a session when the connection is gone; wait for that, not for a time.
        while mx.sessions.count > 0 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(mx.sessionCount == 2)
        #expect(mx.messageCount == 2)
        #expect(mx.messages.isEmpty)
        await mx.stop()
    }
}

/// Every answer after `delay`: a policy question that cannot be answered while the read that
/// brought it is handled.
struct SlowLookup: DNSLookup {
    var delay: Duration
    var table = InMemoryDNS()

    func query(_ name: String, _ type: RecordType) async throws(DNSLookupError) -> [RecordData] {
        try? await Task.sleep(for: delay)
        return try await table.query(name, type)
    }
}
