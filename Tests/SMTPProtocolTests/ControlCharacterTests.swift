import Testing
@testable import SMTPProtocol

/// EHLO, HELO, MAIL and RCPT arguments with NUL or control characters get the replies the
/// installed postfix-3.7.11 gives (seen by BareNewlineDifferentialTests in RunnerTests, which
/// sends the same commands to both): a command ends at a NUL (Postfix reads it as a C string),
/// control characters pass, an address Postfix's tokenizer cannot read gets 501 5.1.7 / 5.1.3.
@Suite("SMTP server: NUL and control characters in commands")
struct ControlCharacterTests {
    static let postfixReplies: [(commands: [String], reply: String)] = [
        (["EHLO a\0b"], "250"),
        (["EHLO a\u{1}b"], "250"),
        (["EHLO a\u{1b}[31mb"], "250"),
        (["HELO a\rb"], "250"),
        (["EHLO \u{7f}"], "250"),
        (["EHLO client.sender.test", "MAIL FROM:<a\0b@sender.test>"], "501 5.1.7 Bad sender address syntax"),
        (["EHLO client.sender.test", "MAIL FROM:<a\u{1}b@sender.test>"], "250 2.1.0 Ok"),
        (["EHLO client.sender.test", "MAIL FROM:<a\u{1b}[2Jb@sender.test>"], "501 5.1.7 Bad sender address syntax"),
        (["EHLO client.sender.test", "MAIL FROM:<a\rb@sender.test>"], "501 5.1.7 Bad sender address syntax"),
        (
            ["EHLO client.sender.test", "MAIL FROM:<alice@sender.test>", "RCPT TO:<b\0c@example.test>"],
            "501 5.1.3 Bad recipient address syntax"
        ),
        (
            ["EHLO client.sender.test", "MAIL FROM:<alice@sender.test>", "RCPT TO:<b\u{1}c@example.test>"],
            "250 2.1.5 Ok"
        ),
        (
            ["EHLO client.sender.test", "MAIL FROM:<alice@sender.test>", "RCPT TO:<b\u{7f}@example.test>"],
            "250 2.1.5 Ok"
        ),
        (
            ["EHLO client.sender.test", "MAIL FROM:<alice@sender.test>", "RCPT TO:<b\rc@example.test>"],
            "501 5.1.3 Bad recipient address syntax"
        ),
    ]

    @Test(arguments: 0..<postfixReplies.count)
    func repliesAsPostfix(index: Int) {
        let (commands, expected) = Self.postfixReplies[index]
        var driver = ServerDriver.greeted()
        driver.send(commands.map { $0 + "\r\n" }.joined())
        #expect(driver.codes.count == commands.count + 1)
        let last = driver.last?.description ?? ""
        #expect(
            expected.count == 3 ? last.hasPrefix(expected) : last == expected,
            "\(commands.last!.debugDescription): \(last)")
        #expect(!driver.closed)
    }

    @Test func theHELONameEndsAtANUL() {
        var driver = ServerDriver.greeted()
        driver.send("EHLO a\0b\r\n")
        #expect(driver.questions.last == .helo(name: "a", extended: true))
        #expect(driver.replies.last?.command == "EHLO a")
    }

    @Test func outOfSequenceComesFirst() {
        var driver = ServerDriver.greeted()
        driver.send("EHLO c.sender.test\r\nRCPT TO:<b\rc@example.test>\r\n")
        #expect(driver.last?.description == "503 5.5.1 Error: need MAIL command")
    }
}
