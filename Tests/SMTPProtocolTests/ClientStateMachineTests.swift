import Testing
@testable import SMTPProtocol

/// Plays the server's side against the client state machine, line by line.
private struct Dialogue {
    var machine: SMTPClientStateMachine
    /// Everything the client wrote, one entry per write.
    var written: [String] = []
    var closed = false
    var lastAction: SMTPClientStateMachine.Action

    init(
        recipients: [String] = ["bob@example.test"], helo: String = "mail.sender.test",
        mailFrom: String = "alice@sender.test",
        message: String = "Subject: test\n\nHello\n", skip5xxGreeting: Bool = true, raw: String? = nil
    ) {
        machine = SMTPClientStateMachine(
            configuration: SMTPClientConfiguration(
                helo: helo, mailFrom: mailFrom, recipients: recipients, message: Array(message.utf8),
                skip5xxGreeting: skip5xxGreeting,
                rawData: raw.map { Array($0.utf8) }))
        lastAction = machine.event(.connected, at: 0)
    }

    mutating func server(_ lines: String...) {
        for line in lines { take(machine.event(.line(line), at: 1)) }
    }

    mutating func send(_ event: SMTPClientStateMachine.Event) {
        take(machine.event(event, at: 2))
    }

    private mutating func take(_ action: SMTPClientStateMachine.Action) {
        lastAction = action
        switch action {
        case .wait: break
        case .send(let bytes): written.append(String(decoding: bytes, as: UTF8.self))
        case .close: closed = true
        case .startTLS: break
        }
    }

    var lastWritten: String? { written.last }
}

@Suite("SMTPClientStateMachine")
struct ClientStateMachineTests {
    @Test func fullTransactionWithSizeAndDotStuffing() throws {
        var dialogue = Dialogue(message: "Subject: dots\n\n.leading dot\nend\n")
        #expect(dialogue.lastAction == .wait)
        dialogue.server("220 mx.example.test ESMTP")
        #expect(dialogue.lastWritten == "EHLO mail.sender.test\r\n")
        dialogue.server("250-mx.example.test", "250-PIPELINING", "250-SIZE 10240000")
        #expect(dialogue.written.count == 1, "no command before the last line of a multi-line reply")
        dialogue.server("250 ENHANCEDSTATUSCODES")
        #expect(dialogue.lastWritten == "MAIL FROM:<alice@sender.test> SIZE=36\r\n")
        dialogue.server("250 2.1.0 Ok")
        #expect(dialogue.lastWritten == "RCPT TO:<bob@example.test>\r\n")
        dialogue.server("250 2.1.5 Ok")
        #expect(dialogue.lastWritten == "DATA\r\n")
        dialogue.server("354 End data with <CR><LF>.<CR><LF>")
        #expect(dialogue.lastWritten == "Subject: dots\r\n\r\n..leading dot\r\nend\r\n.\r\n")
        #expect(dialogue.machine.result == nil)
        dialogue.server("250 2.0.0 Ok: queued as 4ABC")
        #expect(dialogue.lastWritten == "QUIT\r\n")
        let result = try #require(dialogue.machine.result)
        #expect(result.outcome == .accepted)
        #expect(result.stage == .data)
        #expect(result.reply == SMTPReply(code: 250, enhanced: "2.0.0", "Ok: queued as 4ABC"))
        #expect(result.extensions == ["PIPELINING", "SIZE", "ENHANCEDSTATUSCODES"])
        #expect(result.recipients.map(\.outcome) == [.accepted])
        #expect(!dialogue.closed)
        dialogue.server("221 2.0.0 Bye")
        #expect(dialogue.closed)
        #expect(dialogue.machine.isFinished)
        // The transcript has both directions in order and the message as a summary.
        let texts = dialogue.machine.transcript.map(\.description)
        #expect(texts.first == "<- 220 mx.example.test ESMTP")
        #expect(texts.contains(" -> EHLO mail.sender.test"))
        #expect(texts.contains(" -> <message: 4 lines, 36 bytes>"))
        #expect(texts.last == "<- 221 2.0.0 Bye")
    }

    /// `rawData` goes out byte for byte: no CRLF made, no dot added, no end-of-data line; the
    /// first reply after it decides, a smuggled transaction's replies are read and ignored.
    @Test func rawDataIsSentAsWritten() throws {
        let raw = "Subject: x\r\n\r\nbody\n.\nMAIL FROM:<evil@attacker.test>\r\n.dot\r\n\0.\r\n.\r\n"
        var dialogue = Dialogue(raw: raw)
        dialogue.server("220 mx.example.test ESMTP", "250-mx.example.test", "250 SIZE 1000")
        #expect(dialogue.lastWritten == "MAIL FROM:<alice@sender.test> SIZE=\(raw.utf8.count)\r\n")
        dialogue.server("250 2.1.0 Ok", "250 2.1.5 Ok", "354 go ahead")
        #expect(dialogue.written.last.map { Array($0.utf8) } == Array(raw.utf8))
        dialogue.server("250 2.0.0 Ok: queued as 1")
        #expect(dialogue.lastWritten == "QUIT\r\n")
        #expect(try #require(dialogue.machine.result).outcome == .accepted)
        // The smuggled commands' replies come before QUIT's: read, and the connection stays open
        // until 221, so it is not closed under input the server has still to read.
        dialogue.server("250 2.1.0 Ok", "354 go ahead", "250 2.0.0 Ok: queued as 2")
        #expect(!dialogue.closed)
        dialogue.server("221 2.0.0 Bye")
        #expect(dialogue.closed)
        #expect(try #require(dialogue.machine.result).reply?.code == 250, "the first reply after the data decides")
        #expect(
            dialogue.machine.transcript.map(\.description).contains(
                " -> <raw data: \(raw.utf8.count) bytes, sent as written>"))
        var dropped = Dialogue(raw: raw)
        dropped.server(
            "220 mx.example.test ESMTP", "250 mx.example.test", "250 2.1.0 Ok", "250 2.1.5 Ok", "354 go ahead",
            "250 2.0.0 Ok", "250 2.1.0 Ok")
        dropped.send(.closed)
        #expect(dropped.closed, "a server that closes instead of answering QUIT ends the session quietly")
        #expect(try #require(dropped.machine.result).outcome == .accepted)
    }

    @Test func ehlo5xxFallsBackToHelo() throws {
        var dialogue = Dialogue()
        dialogue.server("220 mx.example.test")
        dialogue.server("502 5.5.2 Error: command not recognized")
        #expect(dialogue.lastWritten == "HELO mail.sender.test\r\n")
        dialogue.server("250 mx.example.test")
        // No EHLO keywords after HELO: no SIZE parameter.
        #expect(dialogue.lastWritten == "MAIL FROM:<alice@sender.test>\r\n")
        dialogue.server("250 ok", "250 ok", "354 go", "250 ok")
        let result = try #require(dialogue.machine.result)
        #expect(result.outcome == .accepted)
        #expect(result.usedHELO)
    }

    @Test func heloRejectedAfterFallbackBouncesAtHeloStage() throws {
        var dialogue = Dialogue()
        dialogue.server("220 mx.example.test", "550 5.7.1 go away")
        #expect(dialogue.lastWritten == "HELO mail.sender.test\r\n")
        dialogue.server("550 5.7.1 <mail.sender.test>: Helo command rejected: Host not found")
        #expect(dialogue.lastWritten == "QUIT\r\n")
        let result = try #require(dialogue.machine.result)
        #expect(result.outcome == .rejected)
        #expect(result.stage == .helo)
        #expect(result.reply?.enhanced == "5.7.1")
        #expect(result.recipients.map(\.outcome) == [.rejected])
    }

    @Test func ehlo421EndsTheSessionWithoutHelo() throws {
        var dialogue = Dialogue()
        dialogue.server("220 mx.example.test", "421 4.3.2 shutting down")
        #expect(dialogue.written == ["EHLO mail.sender.test\r\n"])
        #expect(dialogue.closed)
        let result = try #require(dialogue.machine.result)
        #expect(result.outcome == .tempfailed)
        #expect(result.stage == .helo)
    }

    @Test func greeting5xxIsTemporaryForTheRecipientsUnderSkip5xxGreeting() throws {
        var dialogue = Dialogue()
        dialogue.server("554 5.7.1 no thanks")
        #expect(dialogue.lastWritten == "QUIT\r\n")
        let result = try #require(dialogue.machine.result)
        #expect(result.outcome == .rejected)
        #expect(result.stage == .greeting)
        #expect(result.recipients.map(\.outcome) == [.tempfailed])

        var strict = Dialogue(skip5xxGreeting: false)
        strict.server("554 5.7.1 no thanks")
        #expect(strict.machine.result?.recipients.map(\.outcome) == [.rejected])
    }

    @Test func greeting4xxIsTemporary() throws {
        var dialogue = Dialogue()
        dialogue.server("450 4.3.2 try later")
        let result = try #require(dialogue.machine.result)
        #expect(result.outcome == .tempfailed)
        #expect(result.stage == .greeting)
    }

    @Test func perRecipientRepliesAndDataWhenOneIsAccepted() throws {
        var dialogue = Dialogue(recipients: ["a@example.test", "b@example.test", "c@example.test"])
        dialogue.server("220 mx", "250 mx", "250 ok")
        #expect(dialogue.lastWritten == "RCPT TO:<a@example.test>\r\n")
        dialogue.server("450 4.7.25 Client host rejected: cannot find your hostname")
        #expect(dialogue.lastWritten == "RCPT TO:<b@example.test>\r\n")
        dialogue.server("250 2.1.5 Ok")
        #expect(dialogue.lastWritten == "RCPT TO:<c@example.test>\r\n")
        dialogue.server("550 5.1.1 <c@example.test>: Recipient address rejected: User unknown")
        #expect(dialogue.lastWritten == "DATA\r\n")
        dialogue.server("354 go", "250 2.0.0 Ok: queued")
        let result = try #require(dialogue.machine.result)
        #expect(result.outcome == .accepted)
        #expect(result.recipients.map(\.outcome) == [.tempfailed, .accepted, .rejected])
        #expect(result.recipients.map { $0.rcptReply?.code } == [450, 250, 550])
        #expect(result.recipients.map(\.stage) == [.rcpt, .data, .rcpt])
        #expect(result.recipients[1].reply?.text == "Ok: queued")
    }

    @Test func noRecipientAcceptedSkipsDataAndTheFirstReplyDecides() throws {
        var dialogue = Dialogue(recipients: ["a@example.test", "b@example.test"])
        dialogue.server("220 mx", "250 mx", "250 ok", "550 5.1.1 unknown a", "450 4.2.0 busy b")
        #expect(dialogue.lastWritten == "QUIT\r\n")
        #expect(!dialogue.written.contains("DATA\r\n"))
        let result = try #require(dialogue.machine.result)
        #expect(result.outcome == .rejected)
        #expect(result.stage == .rcpt)
        #expect(result.reply?.text == "unknown a")
        #expect(result.recipients.map(\.outcome) == [.rejected, .tempfailed])
    }

    @Test func mail5xxRejectsEveryRecipient() throws {
        var dialogue = Dialogue(recipients: ["a@example.test", "b@example.test"])
        dialogue.server("220 mx", "250 mx", "553 5.7.23 SPF fail - not authorized")
        let result = try #require(dialogue.machine.result)
        #expect(result.stage == .mail)
        #expect(result.recipients.map(\.outcome) == [.rejected, .rejected])
        #expect(result.recipients.allSatisfy { $0.rcptReply == nil })
    }

    @Test func dataCommandAndEndOfDataRejections() throws {
        var atCommand = Dialogue()
        atCommand.server("220 mx", "250 mx", "250 ok", "250 ok", "554 5.5.1 no valid recipients")
        #expect(atCommand.machine.result?.stage == .data)
        #expect(atCommand.machine.result?.outcome == .rejected)

        var atDot = Dialogue()
        atDot.server(
            "220 mx", "250 mx", "250 ok", "250 ok", "354 go",
            "550 5.7.1 Our system has detected that this message does not meet IPv6 sending guidelines")
        let result = try #require(atDot.machine.result)
        #expect(result.stage == .data)
        #expect(result.outcome == .rejected)
        #expect(result.recipients.map(\.outcome) == [.rejected])
        #expect(atDot.lastWritten == "QUIT\r\n")
    }

    @Test func timeoutAtRcptIsATemporaryFailureWithoutReply() throws {
        var dialogue = Dialogue()
        dialogue.server("220 mx", "250 mx", "250 ok")
        dialogue.send(.timedOut)
        #expect(dialogue.closed)
        let result = try #require(dialogue.machine.result)
        #expect(result.outcome == .tempfailed)
        #expect(result.stage == .rcpt)
        #expect(result.reply == nil)
        #expect(result.error?.contains("timed out while sending RCPT TO") == true)
    }

    @Test func connectionDroppedBeforeGreeting() throws {
        var dialogue = Dialogue()
        dialogue.send(.closed)
        let result = try #require(dialogue.machine.result)
        #expect(result.stage == .greeting)
        #expect(result.error?.contains("without sending the initial SMTP greeting") == true)
    }

    @Test func malformedReplyBreaksTheSession() throws {
        var dialogue = Dialogue()
        dialogue.server("220 mx", "hello there")
        #expect(dialogue.closed)
        let result = try #require(dialogue.machine.result)
        #expect(result.outcome == .tempfailed)
        #expect(result.stage == .helo)
        #expect(result.error?.contains("malformed SMTP reply") == true)
    }

    @Test func silenceAfterQuitKeepsTheOutcome() throws {
        var dialogue = Dialogue()
        dialogue.server("220 mx", "250 mx", "250 ok", "250 ok", "354 go", "250 queued")
        dialogue.send(.timedOut)
        #expect(dialogue.closed)
        #expect(dialogue.machine.result?.outcome == .accepted)
        #expect(dialogue.machine.result?.error == nil)
    }

    @Test func nullSenderEightBitBodyAndInjectionSafeArguments() throws {
        var dialogue = Dialogue(helo: "evil\r\nRSET", mailFrom: "", message: "Subject: ü\n\nGrüße\n")
        dialogue.server("220 mx")
        #expect(dialogue.lastWritten == "EHLO evilRSET\r\n")
        dialogue.server("250-mx", "250 8BITMIME")
        #expect(dialogue.lastWritten == "MAIL FROM:<> BODY=8BITMIME\r\n")
    }

    @Test func unexpectedReplyClassIsAProtocolError() throws {
        var dialogue = Dialogue()
        dialogue.server("220 mx", "250 mx", "250 ok", "250 ok", "250 why not 354")
        let result = try #require(dialogue.machine.result)
        #expect(result.outcome == .rejected)
        #expect(result.error?.contains("protocol error") == true)
    }
}
