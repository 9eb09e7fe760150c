import DNSCore
import NIOCore
import Policy
import SMTPProtocol
import Testing
@testable import ReferenceMX

/// What the handler writes and what `mx serve` logs, made without the intermediate Strings they
/// were once made from: the same bytes and the same text.
@Suite("Built-in MX: reply bytes and decision summary")
struct WireAndSummaryTests {
    /// Replies and the bytes the client must see for each.
    static let replies: [(SMTPReply, String)] = [
        (SMTPReply(code: 220, lines: ["mx.example.test ESMTP"]), "220 mx.example.test ESMTP\r\n"),
        (
            SMTPReply(
                code: 250, lines: ["mx.example.test", "PIPELINING", "SIZE 10240000", "8BITMIME", "ENHANCEDSTATUSCODES"]),
            "250-mx.example.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n"
        ),
        (SMTPReply(code: 250, enhanced: "2.1.0", "Ok"), "250 2.1.0 Ok\r\n"),
        (
            SMTPReply(code: 450, enhanced: "4.7.25", lines: ["Client host rejected:", "cannot find your hostname"]),
            "450-4.7.25 Client host rejected:\r\n450 4.7.25 cannot find your hostname\r\n"
        ),
        (SMTPReply(code: 550, enhanced: "5.7.1", lines: [""]), "550 5.7.1\r\n"),
        (SMTPReply(code: 250, enhanced: "", "empty enhanced code"), "250  empty enhanced code\r\n"),
        (
            SMTPReply(code: 421, enhanced: "4.4.2", "mx.exämple.test Error: timeout exceeded ✉"),
            "421 4.4.2 mx.exämple.test Error: timeout exceeded ✉\r\n"
        ),
        (SMTPReply(code: 250, lines: ["", "", "last"]), "250-\r\n250-\r\n250 last\r\n"),
        (SMTPReply(code: 42, lines: ["a code outside 100-999"]), "42 a code outside 100-999\r\n"),
        (SMTPReply(code: 1000, enhanced: "5.0.0", "and another"), "1000 5.0.0 and another\r\n"),
    ]

    /// Into a buffer that already holds bytes, and past its first capacity.
    @Test(arguments: 0..<replies.count)
    func replyBytesAreTheWireFormat(index: Int) {
        let (reply, wire) = Self.replies[index]
        var buffer = ByteBufferAllocator().buffer(capacity: 8)
        buffer.writeStaticString("before|")
        buffer.writeSMTPReply(reply)
        buffer.writeStaticString("|after")
        #expect(buffer.readString(length: buffer.readableBytes) == "before|" + wire + "|after")
    }

    @Test func summaryNamesEverythingTheSessionSawAndDecided() {
        var record = SessionRecord(
            id: 7, client: IPAddress("2001:db8:5::25"), clientPort: 40000, server: IPAddress("2001:db8::25"),
            serverPort: 25)
        record.helo = "mail.sender.test"
        record.mailFrom = "alice@sender.test"
        record.recipients = ["bob@example.test", "carol@example.test"]
        var findings = PolicyFindings(client: IPAddress("2001:db8:5::25")!)
        findings.ptr = PTRFinding(names: [], error: "NXDOMAIN")
        findings.fcrdns = FCrDNSFinding(reason: "no PTR")
        findings.decidingCheck = "fcrdns"
        findings.decidingReply = SMTPReply(
            code: 450, enhanced: "4.7.25", "Client host rejected: cannot find your hostname")
        record.findings = findings
        record.replies = [
            RecordedReply(
                stage: .greeting, command: nil, reply: SMTPReply(code: 220, lines: ["mx.example.test ESMTP"])),
            RecordedReply(
                stage: .rcpt, command: "RCPT TO:<bob@example.test>",
                reply: SMTPReply(code: 450, enhanced: "4.7.25", "Client host rejected: cannot find your hostname"),
                cause: "fcrdns"),
            RecordedReply(
                stage: nil, command: "FOO",
                reply: SMTPReply(code: 502, enhanced: "5.5.2", "Error: command not recognized")),
        ]
        record.closeReason = "221 QUIT"
        #expect(
            record.summary == """
                session 7 from [2001:db8:5::25]:40000 (ipv6), HELO mail.sender.test, MAIL FROM <alice@sender.test>, RCPT <bob@example.test> <carol@example.test>
                PTR 2001:db8:5::25: NXDOMAIN
                FCrDNS: failed (no PTR)
                rcpt: 450 4.7.25 Client host rejected: cannot find your hostname (fcrdns)
                command: 502 5.5.2 Error: command not recognized
                accepted 0 messages; closed: 221 QUIT
                """)

        var plain = SessionRecord(
            id: 12, client: IPAddress("192.0.2.25"), clientPort: nil, server: nil, serverPort: nil)
        plain.messagesAccepted = 1
        #expect(plain.summary == "session 12 from 192.0.2.25 (ipv4)\naccepted 1 message; still open")
        #expect(
            SessionRecord(id: 3, client: nil, clientPort: nil, server: nil, serverPort: nil).summary
                == "session 3\naccepted 0 messages; still open")
    }

    /// What a client sent reaches the operator's terminal escaped (`mx serve` logs the summary).
    @Test func summaryAndTranscriptEscapeWhatTheClientSent() {
        var record = SessionRecord(
            id: 1, client: IPAddress("192.0.2.25"), clientPort: nil, server: nil, serverPort: nil)
        record.helo = "a\u{1b}]0;owned\u{7}\rb\u{202E}"
        record.mailFrom = "x\u{200B}@sender.test"
        record.recipients = ["y\u{1}@example.test"]
        record.note(.client, "EHLO a\u{1b}[2Jb")
        let summary = record.summary
        #expect(
            summary.hasPrefix(
                "session 1 from 192.0.2.25 (ipv4), HELO a\\x1b]0;owned\\x07\\rb\\u{202E}, MAIL FROM <x\\u{200B}@sender.test>, RCPT <y\\x01@example.test>"
            ))
        #expect(!summary.unicodeScalars.contains { $0 != "\n" && Printable.isUnsafe($0) })
        #expect(record.transcriptText.hasSuffix("EHLO a\\x1b[2Jb"))
        #expect(!record.transcriptText.unicodeScalars.contains { $0 != "\n" && Printable.isUnsafe($0) })
    }
}
