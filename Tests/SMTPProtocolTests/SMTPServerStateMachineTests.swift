import Testing
@testable import SMTPProtocol

@Suite("SMTP server state machine")
struct SMTPServerStateMachineTests {
    static let envelope = "EHLO client.sender.test\r\nMAIL FROM:<alice@sender.test>\r\nRCPT TO:<bob@example.test>\r\n"

    @Test func greetingWaitsForTheConnectVerdict() {
        var driver = ServerDriver(policy: { _ in nil })
        driver.connect()
        #expect(driver.questions == [.connect])
        #expect(driver.replies.isEmpty)
        driver.answer(.proceed)
        #expect(driver.lines() == ["220 mx.example.test ESMTP"])
        #expect(driver.replies[0].stage == .greeting)
    }

    @Test func ehloAdvertisesTheExtensions() {
        var driver = ServerDriver.greeted()
        driver.send("EHLO client.sender.test\r\n")
        let reply = driver.last
        #expect(reply?.code == 250)
        #expect(reply?.lines == ["mx.example.test", "PIPELINING", "SIZE 10240000", "8BITMIME", "ENHANCEDSTATUSCODES"])
        #expect(
            reply?.wireFormat
                == "250-mx.example.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n"
        )
        #expect(driver.questions.last == .helo(name: "client.sender.test", extended: true))
    }

    @Test func heloAnswersWithTheHostname() {
        var driver = ServerDriver.greeted()
        driver.send("HELO client.sender.test\r\n")
        #expect(driver.lines().last == "250 mx.example.test")
        #expect(driver.questions.last == .helo(name: "client.sender.test", extended: false))
    }

    @Test func aFullTransactionDeliversTheUnstuffedMessage() {
        var driver = ServerDriver.greeted()
        driver.send(Self.envelope + "DATA\r\n")
        #expect(
            driver.lines(from: 1) == [
                "250 mx.example.test PIPELINING SIZE 10240000 8BITMIME ENHANCEDSTATUSCODES", "250 2.1.0 Ok",
                "250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>",
            ])
        driver.send("Subject: hi\r\n\r\n..leading dot\r\n.\r\n")
        #expect(driver.last?.description == "250 2.0.0 Ok: queued as Q1")
        #expect(driver.accepted.count == 1)
        let message = driver.accepted[0]
        #expect(message.text == "Subject: hi\r\n\r\n.leading dot\r\n")
        #expect(message.reversePath == "alice@sender.test")
        #expect(message.recipients == ["bob@example.test"])
        #expect(message.helo == "client.sender.test")
        if case .endOfData(let asked) = driver.questions.last {
            #expect(asked == message)
        } else {
            Issue.record("no end-of-data question")
        }
    }

    @Test func mailParametersAreUnderstood() {
        var driver = ServerDriver.greeted()
        driver.send(
            "EHLO c.sender.test\r\nMAIL FROM:<a@sender.test> SIZE=1000 BODY=8BITMIME\r\nRCPT TO:<b@example.test>\r\nDATA\r\nx\r\n.\r\n"
        )
        #expect(driver.codes == [220, 250, 250, 250, 354, 250])
        #expect(driver.accepted.first?.is8BitMIME == true)
    }

    @Test func nullSenderAndPostmasterAreAccepted() {
        var driver = ServerDriver.greeted()
        driver.send("EHLO c.sender.test\r\nMAIL FROM:<>\r\nRCPT TO:<Postmaster>\r\n")
        #expect(driver.codes == [220, 250, 250, 250])
        #expect(driver.questions.last == .rcpt(forwardPath: "Postmaster", reversePath: "", helo: "c.sender.test"))
    }

    @Test func rsetNoopVrfyQuit() {
        var driver = ServerDriver.greeted()
        driver.send(
            "EHLO c.sender.test\r\nMAIL FROM:<a@sender.test>\r\nRSET\r\nRCPT TO:<b@example.test>\r\nNOOP\r\nVRFY bob\r\nQUIT\r\n"
        )
        #expect(
            driver.lines(from: 2) == [
                "250 2.1.0 Ok", "250 2.0.0 Ok", "503 5.5.1 Error: need MAIL command", "250 2.0.0 Ok",
                "252 2.5.2 Cannot VRFY user, but will accept message and attempt delivery", "221 2.0.0 Bye",
            ])
        #expect(driver.closed)
    }

    @Test func outOfOrderCommandsGet503() {
        var driver = ServerDriver.greeted()
        driver.send(
            "MAIL FROM:<a@sender.test>\r\nDATA\r\nEHLO c.sender.test\r\nDATA\r\nMAIL FROM:<a@sender.test>\r\nMAIL FROM:<a@sender.test>\r\nDATA\r\n"
        )
        #expect(
            driver.lines(from: 1) == [
                "503 5.5.1 Error: send HELO/EHLO first", "503 5.5.1 Error: need RCPT command",
                "250 mx.example.test PIPELINING SIZE 10240000 8BITMIME ENHANCEDSTATUSCODES",
                "503 5.5.1 Error: need RCPT command", "250 2.1.0 Ok", "503 5.5.1 Error: nested MAIL command",
                "554 5.5.1 Error: no valid recipients",
            ])
    }

    @Test func unknownCommandsAndSyntaxErrors() {
        var driver = ServerDriver.greeted()
        driver.send(
            "HELP\r\nEHLO\r\nEHLO c.sender.test\r\nMAIL FROM:alice@sender.test\r\nMAIL FROM:<a@sender.test> SIZE=big\r\nMAIL FROM:<a@sender.test> AUTH=<>\r\nRCPT TO:<no-at-sign>\r\nDATA now\r\n\r\n"
        )
        #expect(
            driver.lines(from: 1) == [
                "500 5.5.2 Error: command not recognized", "501 5.5.4 Syntax: EHLO hostname",
                "250 mx.example.test PIPELINING SIZE 10240000 8BITMIME ENHANCEDSTATUSCODES",
                "501 5.5.4 Syntax: MAIL FROM:<address>", "501 5.5.4 Syntax: MAIL FROM:<address> SIZE=number",
                "555 5.5.4 Unsupported option: AUTH", "503 5.5.1 Error: need MAIL command",
                "503 5.5.1 Error: need RCPT command", "500 5.5.2 Error: bad syntax",
            ])
    }

    @Test func pipelinedCommandsWaitForEachVerdictInOrder() {
        var driver = ServerDriver(policy: { question in
            if case .connect = question { return .proceed }
            return nil
        })
        driver.connect()
        driver.send(Self.envelope + "DATA\r\nhello\r\n.\r\nQUIT\r\n")
        // Only the EHLO question is out; the rest waits behind it.
        #expect(driver.questions.count == 2)
        #expect(driver.codes == [220])
        driver.answer(.proceed)
        #expect(driver.questions.last == .mail(reversePath: "alice@sender.test", helo: "client.sender.test"))
        driver.answer(.proceed)
        driver.answer(.proceed)
        #expect(driver.codes == [220, 250, 250, 250, 354])
        driver.answer(.proceed)
        #expect(driver.codes == [220, 250, 250, 250, 354, 250, 221])
        #expect(driver.accepted.map(\.text) == ["hello\r\n"])
        #expect(driver.closed)
    }

    @Test func policyRepliesReplaceTheServersOwn() {
        var driver = ServerDriver.greeted(policy: { question in
            if case .rcpt = question {
                return .reply(
                    SMTPReply(
                        code: 550, enhanced: "5.7.25", "Client host rejected: cannot find your hostname, [2001:db8::66]"
                    ), cause: "fcrdns")
            }
            return .proceed
        })
        driver.send(Self.envelope + "DATA\r\n")
        #expect(driver.replies[3].reply.code == 550)
        #expect(driver.replies[3].stage == .rcpt)
        #expect(driver.replies[3].cause == "fcrdns")
        #expect(driver.replies[3].command == "RCPT TO:<bob@example.test>")
        #expect(driver.last?.description == "554 5.5.1 Error: no valid recipients")
    }

    @Test func endOfDataRejectionDropsTheMessage() {
        var driver = ServerDriver.greeted(policy: { question in
            if case .endOfData = question {
                return .reply(SMTPReply(code: 550, enhanced: "5.7.1", "no"), cause: "spf-pass")
            }
            return .proceed
        })
        driver.send(Self.envelope + "DATA\r\nbody\r\n.\r\nMAIL FROM:<a@sender.test>\r\n")
        #expect(driver.accepted.isEmpty)
        #expect(driver.lines().suffix(2) == ["550 5.7.1 no", "250 2.1.0 Ok"])
    }

    @Test func connectRejectionWithClose() {
        var driver = ServerDriver(policy: { _ in
            .replyAndClose(SMTPReply(code: 554, enhanced: "5.7.1", "go away"), cause: "dnsbl:bl.example.test")
        })
        driver.connect()
        #expect(driver.lines() == ["554 5.7.1 go away"])
        #expect(driver.closed)
    }

    @Test func connectRejectionWithoutCloseServesOnlyQuit() {
        var driver = ServerDriver(policy: { _ in .reply(SMTPReply(code: 554, enhanced: "5.7.1", "no service")) })
        driver.connect()
        driver.send("EHLO c.sender.test\r\nQUIT\r\n")
        #expect(driver.codes == [554, 503, 221])
        #expect(driver.closed)
    }

    @Test func messageSizeLimit() {
        var driver = ServerDriver.greeted(limits: SMTPServerLimits(messageSize: 20))
        driver.send("EHLO c.sender.test\r\nMAIL FROM:<a@sender.test> SIZE=21\r\n")
        #expect(driver.last?.description == "552 5.3.4 Message size exceeds fixed limit")
        driver.send(
            "MAIL FROM:<a@sender.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n0123456789\r\n0123456789\r\n.\r\n")
        #expect(driver.last?.description == "552 5.3.4 Error: message file too big")
        #expect(driver.accepted.isEmpty)
        // The transaction is over; a new one works.
        driver.send("MAIL FROM:<a@sender.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n0123456789\r\n.\r\n")
        #expect(driver.accepted.count == 1)
    }

    @Test func recipientLimit() {
        var driver = ServerDriver.greeted(limits: SMTPServerLimits(recipients: 2))
        driver.send(
            "EHLO c.sender.test\r\nMAIL FROM:<a@sender.test>\r\nRCPT TO:<b1@example.test>\r\nRCPT TO:<b2@example.test>\r\nRCPT TO:<b3@example.test>\r\n"
        )
        #expect(driver.lines().suffix(3) == ["250 2.1.5 Ok", "250 2.1.5 Ok", "452 4.5.3 Error: too many recipients"])
        #expect(driver.replies.last?.cause == "limit:recipients")
    }

    @Test func commandLineLimitIsThousandOctetsWithCRLF() {
        var driver = ServerDriver.greeted()
        let fits = "NOOP " + String(repeating: "x", count: 993)  // 998 + CRLF = 1000
        driver.send(fits + "\r\n")
        #expect(driver.last?.code == 250)
        driver.send(fits + "y\r\n")
        #expect(driver.last?.description == "500 5.5.2 Error: line too long")
        driver.send("EHLO c.sender.test\r\nMAIL FROM:<a@sender.test>\r\nRCPT TO:<b@example.test>\r\nDATA now\r\n")
        #expect(driver.last?.description == "501 5.5.4 Syntax: DATA")
        // A huge line is cut, not kept, and the session goes on.
        driver.send("NOOP " + String(repeating: "z", count: 200_000) + "\r\nNOOP\r\n")
        #expect(driver.lines().suffix(2) == ["500 5.5.2 Error: line too long", "250 2.0.0 Ok"])
        #expect(driver.framer.bufferedCount == 0)
    }

    @Test func textLineLimitRejectsTheMessage() {
        var driver = ServerDriver.greeted()
        driver.send(Self.envelope + "DATA\r\n")
        driver.send("." + String(repeating: "a", count: 998) + "\r\n")  // stuffed dot does not count
        driver.send(String(repeating: "b", count: 998) + "\r\n.\r\n")
        #expect(driver.accepted.count == 1)
        driver.send(
            "MAIL FROM:<a@sender.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n" + String(repeating: "c", count: 999)
                + "\r\n.\r\n")
        #expect(driver.last?.description == "500 5.5.2 Error: text line too long")
        #expect(driver.accepted.count == 1)
    }

    @Test func commandTimeoutAnswers421AndCloses() {
        var driver = ServerDriver.greeted(limits: SMTPServerLimits(commandTimeout: .seconds(300)))
        driver.send("EHLO c.sender.test\r\n")
        #expect(driver.machine.deadline == driver.clock.now.advanced(by: .seconds(300)))
        driver.clock.advance(by: .seconds(299))
        driver.fireTimeout()
        #expect(!driver.closed)
        driver.clock.advance(by: .seconds(1))
        driver.fireTimeout()
        #expect(driver.lines().last == "421 4.4.2 mx.example.test Error: timeout exceeded")
        #expect(driver.closed)
    }

    @Test func inputRestartsTheTimeout() {
        var driver = ServerDriver.greeted(limits: SMTPServerLimits(commandTimeout: .seconds(10)))
        driver.clock.advance(by: .seconds(9))
        driver.send("NOOP\r\n")
        driver.clock.advance(by: .seconds(9))
        driver.fireTimeout()
        #expect(!driver.closed)
        driver.clock.advance(by: .seconds(1))
        driver.fireTimeout()
        #expect(driver.closed)
    }

    @Test func noTimeoutWhileThePolicyThinks() {
        var driver = ServerDriver.greeted(
            limits: SMTPServerLimits(commandTimeout: .seconds(10)),
            policy: { question in
                question == .connect ? .proceed : nil
            })
        driver.send("EHLO c.sender.test\r\n")
        #expect(driver.machine.deadline == nil)
        driver.clock.advance(by: .seconds(60))
        driver.fireTimeout()
        #expect(!driver.closed)
        driver.answer(.proceed)
        #expect(driver.machine.deadline == driver.clock.now.advanced(by: .seconds(10)))
    }

    @Test func errorCapCloses() {
        var driver = ServerDriver.greeted(limits: SMTPServerLimits(errors: 3))
        driver.send("BOGUS\r\nBOGUS\r\nBOGUS\r\nNOOP\r\n")
        #expect(
            driver.lines(from: 1) == [
                "500 5.5.2 Error: command not recognized", "500 5.5.2 Error: command not recognized",
                "500 5.5.2 Error: command not recognized", "421 4.7.0 mx.example.test Error: too many errors",
            ])
        #expect(driver.closed)
    }

    /// The reply the session was closed with, as the handler records why it closed: the last
    /// reply sent, whatever closed it; none while open or when the client leaves.
    @Test func closingReplyIsTheLastReplySent() {
        var quit = ServerDriver.greeted()
        #expect(quit.machine.closingReply == nil)
        quit.send("EHLO c.sender.test\r\nNOOP\r\nQUIT\r\n")
        #expect(quit.machine.closingReply == quit.replies.last)
        #expect(quit.machine.closingReply?.command == "QUIT")

        var timeout = ServerDriver.greeted(limits: SMTPServerLimits(commandTimeout: .seconds(1)))
        timeout.clock.advance(by: .seconds(1))
        timeout.fireTimeout()
        #expect(timeout.machine.closingReply == timeout.replies.last)
        #expect(timeout.machine.closingReply?.cause == "timeout")

        var bareLF = ServerDriver.greeted(bareNewline: .reject)
        bareLF.send("EHLO c.sender.test\n")
        #expect(bareLF.machine.closingReply?.cause == "bare-lf")

        var errors = ServerDriver.greeted(limits: SMTPServerLimits(errors: 3))
        errors.send("FOO\r\nBAR\r\nBAZ\r\nNOOP\r\n")
        #expect(errors.machine.closingReply == errors.replies.last)
        #expect(errors.machine.closingReply?.cause == "limit:errors")

        var refused = ServerDriver.greeted { question in
            if case .rcpt = question {
                return .replyAndClose(SMTPReply(code: 421, enhanced: "4.7.0", "go away"), cause: "dnsbl:bl.test")
            }
            return .proceed
        }
        refused.send("EHLO c.sender.test\r\nMAIL FROM:<a@sender.test>\r\nRCPT TO:<b@example.test>\r\n")
        #expect(refused.machine.closingReply == refused.replies.last)
        #expect(refused.machine.closingReply?.cause == "dnsbl:bl.test")

        var left = ServerDriver.greeted()
        left.send("EHLO c.sender.test\r\n")
        left.machine.disconnected()
        #expect(left.machine.closingReply == nil)
    }

    @Test func dotUnstuffing() {
        var driver = ServerDriver.greeted()
        driver.send(Self.envelope + "DATA\r\n..\r\n...\r\n.x\r\n.\r\n")
        #expect(driver.accepted.first?.text == ".\r\n..\r\nx\r\n")
    }

    @Test func pipelinedInputOverTheCapCloses() {
        var driver = ServerDriver.greeted(limits: SMTPServerLimits(pendingInput: 100), policy: { _ in nil })
        driver.send("EHLO c.sender.test\r\n" + String(repeating: "NOOP\r\n", count: 40))
        #expect(driver.last?.code == 421)
        #expect(driver.closed)
    }

    @Test func thousandsOfPipelinedCommands() {
        var driver = ServerDriver.greeted()
        driver.send("EHLO c.sender.test\r\n" + String(repeating: "NOOP\r\n", count: 5000) + "QUIT\r\n")
        #expect(driver.codes.count == 5003)
        #expect(driver.codes.dropFirst(2).dropLast().allSatisfy { $0 == 250 })
        #expect(driver.closed)
    }

    @Test func nothingAfterClose() {
        var driver = ServerDriver.greeted()
        driver.send("QUIT\r\nNOOP\r\n")
        #expect(driver.codes == [220, 221])
        driver.send("NOOP\r\n")
        #expect(driver.codes == [220, 221])
    }

    @Test func oneByteAtATime() {
        var driver = ServerDriver.greeted()
        for byte in Array((Self.envelope + "DATA\r\nabc\r\n.\r\nQUIT\r\n").utf8) {
            driver.send(bytes: [byte])
        }
        #expect(driver.codes == [220, 250, 250, 250, 354, 250, 221])
        #expect(driver.accepted.first?.text == "abc\r\n")
    }

    @Test func randomBytesNeverCrash() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            var driver = ServerDriver.greeted(limits: SMTPServerLimits(errors: 1000))
            let bytes = (0..<4000).map { _ in UInt8.random(in: 0...255, using: &generator) }
            driver.send(bytes: bytes)
            #expect(driver.codes.first == 220)
        }
    }
}

@Suite("SMTP line framer")
struct SMTPLineFramerTests {
    @Test func cutsAtLFAndTellsEndingsApart() {
        var framer = SMTPLineFramer(maximumLength: 1000)
        let lines = framer.append(Array("a\r\nb\nc\r".utf8))
        #expect(
            lines == [
                SMTPLine(bytes: Array("a".utf8), ending: .crlf), SMTPLine(bytes: Array("b".utf8), ending: .bareLF),
            ])
        #expect(framer.bufferedCount == 2)
        #expect(framer.append([0x0a]) == [SMTPLine(bytes: Array("c".utf8), ending: .crlf)])
    }

    @Test func overlongLinesAreMarkedAndBounded() {
        var framer = SMTPLineFramer(maximumLength: 10)
        let fits = framer.append(Array("12345678\r\n".utf8))
        #expect(fits.first?.isOverlong == false)
        let long = framer.append(Array(String(repeating: "x", count: 50_000).utf8))
        #expect(long.isEmpty)
        #expect(framer.bufferedCount == 50_000)
        let done = framer.append(Array("\r\n".utf8))
        #expect(done.first?.isOverlong == true)
        #expect(done.first?.ending == .crlf)
        #expect(done.first?.wireLength == 50_002)
        #expect((done.first?.bytes.count ?? 0) <= 10)
    }

    /// The framer cuts any input, however it is split into reads, exactly like the byte-at-a-time
    /// rules it documents (a reference copy below).
    @Test(arguments: [3, 4, 10, 80])
    func matchesTheByteAtATimeRules(maximumLength: Int) {
        var random = SeededRandom(seed: UInt64(maximumLength))
        let alphabet: [UInt8] = [
            0x0d, 0x0a, 0x0d, 0x0a, UInt8(ascii: "."), UInt8(ascii: "x"), UInt8(ascii: "y"), 0x00, 0xff,
        ]
        for _ in 0..<300 {
            let input = (0..<Int.random(in: 0...400, using: &random)).map { _ in alphabet.randomElement(using: &random)!
            }
            var reference = ReferenceFramer(maximumLength: maximumLength)
            let expected = reference.append(input)
            var framer = SMTPLineFramer(maximumLength: maximumLength)
            var got: [SMTPLine] = []
            var rest = input[...]
            while !rest.isEmpty {
                let cut = rest.prefix(Int.random(in: 1...max(1, rest.count), using: &random))
                got += cut.withUnsafeBytes { framer.append($0) }
                rest = rest.dropFirst(cut.count)
            }
            #expect(got == expected, "input \(input)")
            #expect(framer.bufferedCount == reference.bufferedCount)
        }
    }
}

/// The framer's rules one byte at a time, as it was first written.
private struct ReferenceFramer {
    let maximumLength: Int
    var current: [UInt8] = []
    var overflow = 0
    var lastByte: UInt8?

    init(maximumLength: Int) { self.maximumLength = max(maximumLength, 3) }

    var bufferedCount: Int { current.count + overflow }

    mutating func append(_ bytes: [UInt8]) -> [SMTPLine] {
        var lines: [SMTPLine] = []
        for byte in bytes {
            if byte == 0x0a {
                let ending: SMTPLine.Ending = lastByte == 0x0d ? .crlf : .bareLF
                let wireLength = current.count + overflow + 1
                var line = current
                if overflow == 0, ending == .crlf { line.removeLast() }
                lines.append(
                    SMTPLine(
                        bytes: line, ending: ending, isOverlong: wireLength > maximumLength, wireLength: wireLength))
                current = []
                overflow = 0
                lastByte = nil
                continue
            }
            if current.count < maximumLength { current.append(byte) } else { overflow += 1 }
            lastByte = byte
        }
        return lines
    }
}

/// SplitMix64: the same "random" input on every run.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("SMTP command parser")
struct SMTPCommandTests {
    @Test func parsesPathsAndParameters() throws {
        #expect(
            try SMTPCommand.parse("mail from: <a@b.test> size=10").get()
                == .mail(reversePath: "a@b.test", parameters: [.size(10)]))
        #expect(
            try SMTPCommand.parse("RCPT TO:<@relay.test:bob@example.test>").get()
                == .rcpt(forwardPath: "bob@example.test"))
        #expect(try SMTPCommand.parse("EHLO [IPv6:2001:db8::25]").get() == .ehlo("[IPv6:2001:db8::25]"))
        #expect(try SMTPCommand.parse("NOOP anything").get() == .noop)
        #expect(try SMTPCommand.parse("quit").get() == .quit)
    }

    @Test func rejectsBrokenPaths() {
        #expect(throws: SMTPCommand.ParseError.syntax("MAIL FROM:<address>")) {
            try SMTPCommand.parse("MAIL FROM:<a b@c.test>").get()
        }
        #expect(throws: SMTPCommand.ParseError.syntax("MAIL FROM:<address>")) {
            try SMTPCommand.parse("MAIL FROM:<a@c.test>x").get()
        }
        #expect(throws: SMTPCommand.ParseError.syntax("RCPT TO:<address>")) {
            try SMTPCommand.parse("RCPT TO:<>").get()
        }
        #expect(throws: SMTPCommand.ParseError.unrecognized("EXPN")) { try SMTPCommand.parse("EXPN list").get() }
    }
}
