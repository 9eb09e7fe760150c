import Testing
@testable import SMTPProtocol

/// `SMTPBareNewlineMode` against the published SMTP-smuggling end-of-data variants
/// (CVE-2023-51764), with what postfix-3.7.11 smtpd does in each `smtpd_forbid_bare_newline`
/// mode, worked out from its source: lines end at <LF> only; `no` drops every <CR> before the
/// <LF> (`smtp_get_noexcept()`), `normalize` and `reject` only one and end the message only at
/// <CR><LF>.<CR><LF> (`receive_data_message()`); `reject` refuses a message with a bare <LF> at
/// its real end and keeps the session. The differential test in RunnerTests checks the same
/// against the installed Postfix.
@Suite("SMTP server: bare newlines and SMTP smuggling")
struct BareNewlineTests {
    /// An end-of-data sequence in place of <CR><LF>.<CR><LF> after the text `body`.
    struct Variant: Sendable, CustomStringConvertible {
        var name: String
        var sequence: String
        /// Messages accepted in mode `no`, followed directly by the next command / by <CR><LF>.
        var noDirect: Int
        var noCRLF: Int
        var description: String { name }
        /// Has an <LF> without <CR> before it (what `reject` refuses).
        var hasBareLF: Bool {
            let bytes = Array(sequence.utf8)
            return bytes.indices.contains { bytes[$0] == 0x0a && ($0 == 0 || bytes[$0 - 1] != 0x0d) }
        }
    }

    static let variants: [Variant] = [
        Variant(name: "LF.LF", sequence: "\n.\n", noDirect: 2, noCRLF: 2),
        Variant(name: "LF.CRLF", sequence: "\n.\r\n", noDirect: 2, noCRLF: 2),
        Variant(name: "CRLF.LF", sequence: "\r\n.\n", noDirect: 2, noCRLF: 2),
        Variant(name: "CR.CRLF", sequence: "\r.\r\n", noDirect: 1, noCRLF: 1),
        Variant(name: "CR.CR", sequence: "\r.\r", noDirect: 1, noCRLF: 1),
        Variant(name: "CRLF.CR", sequence: "\r\n.\r", noDirect: 1, noCRLF: 2),
        Variant(name: "CR.LF", sequence: "\r.\n", noDirect: 1, noCRLF: 1),
        Variant(name: "LF.CR", sequence: "\n.\r", noDirect: 1, noCRLF: 2),
        Variant(name: "CRLF NUL.CRLF", sequence: "\r\n\0.\r\n", noDirect: 1, noCRLF: 1),
        Variant(name: "CRLF.CR CRLF", sequence: "\r\n.\r\r\n", noDirect: 2, noCRLF: 2),
    ]

    /// The smuggled second transaction, ending with the real end of data.
    static let smuggled = "MAIL FROM:<evil@attacker.test>\r\nRCPT TO:<victim@example.test>\r\nDATA\r\nsmuggled\r\n.\r\n"

    static let cases = variants.flatMap { variant in [false, true].map { (variant, $0) } }

    static func session(_ variant: Variant, crlfAfter: Bool, mode: SMTPBareNewlineMode) -> ServerDriver {
        var driver = ServerDriver.greeted(bareNewline: mode)
        driver.send(
            SMTPServerStateMachineTests.envelope + "DATA\r\nbody" + variant.sequence + (crlfAfter ? "\r\n" : "")
                + smuggled + "QUIT\r\n")
        return driver
    }

    @Test(arguments: cases)
    func noEndsTheMessageAtEveryLFDotLF(_ variant: Variant, crlfAfter: Bool) {
        let driver = Self.session(variant, crlfAfter: crlfAfter, mode: .no)
        let expected = crlfAfter ? variant.noCRLF : variant.noDirect
        #expect(driver.accepted.count == expected)
        if expected == 2 {
            // The smuggled MAIL is a command: a second transaction, replied to one by one.
            #expect(driver.questions.contains(.mail(reversePath: "evil@attacker.test", helo: "client.sender.test")))
            let afterFirst = driver.lines().drop { !$0.hasPrefix("250 2.0.0 Ok: queued") }.dropFirst()
            // The <CR><LF> after a sequence that ends in <LF> is an empty command.
            let blank = crlfAfter && variant.sequence.utf8.last == 0x0a ? ["500 5.5.2 Error: bad syntax"] : []
            #expect(
                Array(afterFirst) == blank + [
                    "250 2.1.0 Ok", "250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>", "250 2.0.0 Ok: queued as Q2",
                    "221 2.0.0 Bye",
                ])
        } else {
            #expect(driver.lines().suffix(2) == ["250 2.0.0 Ok: queued as Q1", "221 2.0.0 Bye"])
        }
    }

    @Test(arguments: cases)
    func normalizeEndsTheMessageOnlyAtCRLFDotCRLF(_ variant: Variant, crlfAfter: Bool) {
        let driver = Self.session(variant, crlfAfter: crlfAfter, mode: .normalize)
        #expect(driver.accepted.count == 1)
        #expect(driver.lines().suffix(2) == ["250 2.0.0 Ok: queued as Q1", "221 2.0.0 Bye"])
        // The smuggled commands are text of the one message.
        #expect(driver.accepted.first?.text.contains("MAIL FROM:<evil@attacker.test>") == true)
        #expect(!driver.questions.contains(.mail(reversePath: "evil@attacker.test", helo: "client.sender.test")))
    }

    @Test(arguments: cases)
    func rejectRefusesAMessageWithABareLFAtItsRealEnd(_ variant: Variant, crlfAfter: Bool) {
        let driver = Self.session(variant, crlfAfter: crlfAfter, mode: .reject)
        if variant.hasBareLF {
            #expect(driver.accepted.isEmpty)
            #expect(
                driver.lines().suffix(2) == ["550 5.5.2 mx.example.test Error: bare <LF> received", "221 2.0.0 Bye"])
            #expect(driver.replies.suffix(2).first?.cause == "bare-lf")
            #expect(driver.replies.suffix(2).first?.stage == .data)
        } else {
            #expect(driver.accepted.count == 1)
            #expect(driver.lines().suffix(2) == ["250 2.0.0 Ok: queued as Q1", "221 2.0.0 Bye"])
        }
    }

    @Test func aDotLineAfterABareLFIsDroppedNotStored() {
        var driver = ServerDriver.greeted(bareNewline: .normalize)
        driver.send(SMTPServerStateMachineTests.envelope + "DATA\r\na\n.\r\nb\r\n.\r\n")
        #expect(driver.accepted.first?.text == "a\r\nb\r\n")
    }

    @Test func bareLFInACommand() {
        var reject = ServerDriver.greeted(bareNewline: .reject)
        reject.send("EHLO c.sender.test\nNOOP\r\n")
        #expect(reject.lines(from: 1) == ["550 5.5.2 mx.example.test Error: bare <LF> received"])
        #expect(reject.replies.last?.cause == "bare-lf")
        #expect(reject.replies.last?.command == "EHLO c.sender.test")
        #expect(reject.closed)
        for mode in [SMTPBareNewlineMode.no, .normalize] {
            var driver = ServerDriver.greeted(bareNewline: mode)
            driver.send("EHLO c.sender.test\nNOOP\n")
            #expect(driver.codes == [220, 250, 250], "\(mode)")
            #expect(!driver.closed)
        }
    }

    @Test func noDropsEveryCRBeforeTheLF() {
        var no = ServerDriver.greeted(bareNewline: .no)
        no.send("NOOP\r\r\r\n")
        #expect(no.last?.description == "250 2.0.0 Ok")
        #expect(no.replies.last?.command == "NOOP")
        var normalize = ServerDriver.greeted(bareNewline: .normalize)
        normalize.send("NOOP\r\r\n")
        #expect(normalize.replies.last?.command == "NOOP\r")
    }

    @Test func bareCRNeverEndsALine() {
        for mode in SMTPBareNewlineMode.allCases {
            var driver = ServerDriver.greeted(bareNewline: mode)
            driver.send(
                SMTPServerStateMachineTests.envelope + "DATA\r\nbody\r.\rMAIL FROM:<evil@attacker.test>\r\n.\r\n")
            #expect(driver.accepted.count == 1, "\(mode)")
            #expect(!driver.closed)
        }
    }

    @Test func postfixNames() {
        #expect(SMTPBareNewlineMode(postfixName: "yes") == .normalize)
        #expect(SMTPBareNewlineMode(postfixName: "no") == .no)
        #expect(SMTPBareNewlineMode(postfixName: "reject") == .reject)
        #expect(SMTPBareNewlineMode(postfixName: "note") == nil)
    }
}
