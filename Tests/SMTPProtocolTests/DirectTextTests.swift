import Testing
@testable import SMTPProtocol

/// `receivedText` (message text straight from the read buffer, as the MX's handler feeds it) must
/// do exactly what `received(_:)` does with the same bytes cut into lines, however the bytes
/// arrive.
@Suite("SMTP server: message text taken directly")
struct DirectTextTests {
    static let envelope =
        "EHLO client.sender.test\r\nMAIL FROM:<alice@sender.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n"

    /// Sessions that exercise every rule of the text path.
    static let sessions: [(name: String, limits: SMTPServerLimits, bytes: String)] =
        [
            ("plain message", .init(), envelope + "Subject: hi\r\n\r\nbody line\r\n.\r\nQUIT\r\n"),
            ("dot-stuffed lines", .init(), envelope + "..leading dot\r\n.\r\n...\r\n..\r\n.x\r\n.\r\nQUIT\r\n"),
            (
                "pipelined after end of data", .init(),
                envelope
                    + "a\r\n.\r\nMAIL FROM:<c@sender.test>\r\nRCPT TO:<d@example.test>\r\nDATA\r\nsecond\r\n.\r\nQUIT\r\n"
            ),
            ("bare LF in the text", .init(), envelope + "line one\nline two\r\n.\r\n"),
            ("bare LF dot ends nothing", .init(), envelope + "text\n.\nmore\r\n.\r\n"),
            ("bare CR stays text", .init(), envelope + "a\rb\r\n\r.\r\n.\r\nQUIT\r\n"),
            (
                "overlong text line", .init(textLineLength: 40),
                envelope + String(repeating: "x", count: 80) + "\r\n.\r\nQUIT\r\n"
            ),
            (
                "line longer than the framer keeps", .init(commandLineLength: 60, textLineLength: 50),
                envelope + String(repeating: "y", count: 200) + "\r\nok\r\n.\r\nQUIT\r\n"
            ),
            // frameLength is 60 here: lines of 59 to 65 bytes on the wire. A line the framer cuts short
            // counts only the 60 bytes it kept, which decides 500 (overlong) against 552 (too big) here.
            (
                "lines around the framer's limit", .init(commandLineLength: 60, textLineLength: 70, messageSize: 1000),
                envelope + (57...63).map { String(repeating: "w", count: $0) + "\r\n" }.joined() + ".\r\nQUIT\r\n"
            ),
            (
                "cut line decides the size limit", .init(commandLineLength: 60, textLineLength: 50, messageSize: 63),
                envelope + String(repeating: "v", count: 62) + "\r\n.\r\nQUIT\r\n"
            ),
            (
                "stuffed line at the text limit", .init(textLineLength: 12),
                envelope + "." + String(repeating: "z", count: 10) + "\r\n.\r\nQUIT\r\n"
            ),
            (
                "message too big", .init(messageSize: 30),
                envelope + String(repeating: "0123456789\r\n", count: 5) + ".\r\nQUIT\r\n"
            ),
            ("empty message", .init(), envelope + ".\r\nQUIT\r\n"),
            ("client leaves mid-text", .init(), envelope + "partial line without end"),
        ]
        + BareNewlineTests.variants.map {
            ("smuggling \($0.name)", .init(), envelope + "body" + $0.sequence + BareNewlineTests.smuggled + "QUIT\r\n")
        } + [
            ("extra CRs before CRLF", .init(), envelope + "a\r\r\n.\r\r\n\r\n.\r\nQUIT\r\n")
        ]

    static let cases = sessions.indices.flatMap { index in SMTPBareNewlineMode.allCases.map { (index, $0) } }

    @Test(arguments: cases)
    func sameOutcomeAsLineByLine(index: Int, mode: SMTPBareNewlineMode) {
        let session = Self.sessions[index]
        let bytes = Array(session.bytes.utf8)
        var reference = ServerDriver.greeted(limits: session.limits, bareNewline: mode)
        reference.send(bytes: bytes)
        // One read, then reads of every size from 1 byte up: lines and CRLFs cut anywhere.
        for chunk in [bytes.count] + Array(1...9) + [13, 64] {
            var direct = ServerDriver.greeted(limits: session.limits, bareNewline: mode)
            direct.takesTextDirectly = true
            var offset = 0
            while offset < bytes.count {
                let end = min(bytes.count, offset + chunk)
                direct.send(bytes: Array(bytes[offset..<end]))
                offset = end
            }
            #expect(direct.lines() == reference.lines(), "\(session.name) (\(mode)), reads of \(chunk) bytes")
            #expect(direct.accepted == reference.accepted, "\(session.name) (\(mode)), reads of \(chunk) bytes")
            #expect(direct.closed == reference.closed, "\(session.name) (\(mode)), reads of \(chunk) bytes")
            #expect(
                direct.machine.deadline != nil || direct.closed,
                "\(session.name): the command timer runs while text is awaited")
        }
    }

    /// A server that does not keep the text (`keepsText: false`, `mx serve`) still checks and
    /// counts it: the same replies, recorded against the same `<message: N bytes>`, the same
    /// limits, the same envelope; only the accepted message's data is empty.
    @Test(arguments: cases)
    func textNotKeptChangesNothingButTheData(index: Int, mode: SMTPBareNewlineMode) {
        let session = Self.sessions[index]
        for direct in [false, true] {
            var kept = ServerDriver.greeted(limits: session.limits, bareNewline: mode)
            var dropped = ServerDriver.greeted(limits: session.limits, bareNewline: mode, keepsText: false)
            kept.takesTextDirectly = direct
            dropped.takesTextDirectly = direct
            kept.send(session.bytes)
            dropped.send(session.bytes)
            #expect(dropped.replies == kept.replies, "\(session.name)")
            #expect(dropped.closed == kept.closed, "\(session.name)")
            #expect(dropped.accepted.allSatisfy { $0.data.isEmpty }, "\(session.name)")
            let envelope = { (message: SMTPMessage) -> SMTPMessage in
                var message = message
                message.data = []
                return message
            }
            #expect(dropped.accepted == kept.accepted.map(envelope), "\(session.name)")
        }
    }

    @Test func textIsTakenInOneRunUpToTheEndOfDataLine() {
        var machine = SMTPServerStateMachine(hostname: "mx.example.test", clock: TestClock())
        var framer = SMTPLineFramer(maximumLength: machine.limits.frameLength)
        func feed(_ text: String) {
            for line in framer.append(Array(text.utf8)) {
                var action = machine.received(line)
                while true {
                    if case .askPolicy = action { action = machine.verdict(.proceed); continue }
                    if case .wait = action { break }
                    action = machine.nextAction()
                }
            }
        }
        _ = machine.connected()
        _ = machine.verdict(.proceed)
        feed(Self.envelope)
        #expect(machine.isReceivingData)
        let text = Array("one\r\n..two\r\n.\r\nQUIT\r\n".utf8)
        text.withUnsafeBytes { raw in
            let taken = machine.receivedText(raw, from: 0)
            // Two text lines; the end-of-data line is left to `received(_:)`.
            #expect(taken?.next == 12)
            #expect(taken?.action == .wait)
            #expect(machine.receivedText(raw, from: 12) == nil)
        }
    }

    @Test func nothingIsTakenOutsideTheText() {
        var machine = SMTPServerStateMachine(hostname: "mx.example.test", clock: TestClock())
        _ = machine.connected()
        _ = machine.verdict(.proceed)
        Array("NOOP\r\n".utf8).withUnsafeBytes { raw in
            #expect(machine.receivedText(raw, from: 0) == nil)
        }
    }
}
