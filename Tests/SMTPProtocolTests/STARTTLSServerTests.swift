import Testing
@testable import SMTPProtocol

/// STARTTLS on the server state machine, as Postfix 3.7's smtpd answers it (smtpd.c
/// `starttls_cmd`, the `smtpd_tls_security_level = encrypt` check).
@Suite struct STARTTLSServerTests {
    @Test func ehloOffersSTARTTLSOnlyBeforeTLSAndOnlyWhenConfigured() {
        var plain = ServerDriver.greeted()
        plain.send("EHLO client.test\r\n")
        #expect(!plain.last!.lines.contains("STARTTLS"))

        var driver = ServerDriver.offeringTLS()
        driver.send("EHLO client.test\r\n")
        #expect(
            driver.last!.lines == [
                "mx.example.test", "PIPELINING", "SIZE 10240000", "STARTTLS", "8BITMIME", "ENHANCEDSTATUSCODES",
            ])
        driver.send("STARTTLS\r\n")
        #expect(driver.last!.description == "220 2.0.0 Ready to start TLS")
        #expect(driver.tlsStarts == [0])
        driver.tlsEstablished()
        driver.send("EHLO client.test\r\n")
        #expect(!driver.last!.lines.contains("STARTTLS"))
        #expect(driver.machine.tls?.version == .tls13)
    }

    @Test func pipelinedPlaintextAfterSTARTTLSIsDroppedAndTheSessionStartsAgain() {
        var driver = ServerDriver.offeringTLS()
        driver.send("EHLO client.test\r\nMAIL FROM:<a@sender.test>\r\n")
        #expect(driver.codes == [220, 250, 250])
        // CVE-2011-0411: RSET written with STARTTLS in one packet must not be answered after TLS.
        driver.send("STARTTLS\r\nRSET\r\n")
        #expect(driver.codes.last == 220)
        #expect(driver.droppedAfterSTARTTLS == "RSET\r\n".utf8.count)
        driver.tlsEstablished()
        #expect(driver.codes.count == 4)
        // RFC 3207 4.2: the HELO and the transaction from before TLS are forgotten.
        driver.send("MAIL FROM:<a@sender.test>\r\n")
        #expect(driver.last!.description == "503 5.5.1 Error: send HELO/EHLO first")
    }

    @Test func linesQueuedBehindAVerdictAreDroppedByTheMachine() {
        var driver = ServerDriver.offeringTLS()
        driver.policy = { question in
            if case .helo = question { return nil }
            return .proceed
        }
        driver.send("EHLO client.test\r\nSTARTTLS\r\nNOOP\r\n")
        #expect(driver.waitingForVerdict)
        driver.answer(.proceed)
        #expect(driver.codes == [220, 250, 220])
        #expect(driver.tlsStarts == ["NOOP\r\n".utf8.count])
    }

    @Test func repliesToSTARTTLSInPostfixWords() {
        var plain = ServerDriver.greeted()
        plain.send("STARTTLS\r\n")
        #expect(plain.last!.description == "502 5.5.1 Error: command not implemented")

        var driver = ServerDriver.offeringTLS()
        driver.send("STARTTLS now\r\n")
        #expect(driver.last!.description == "501 5.5.4 Syntax: STARTTLS")
        driver.send("STARTTLS\r\n")
        driver.tlsEstablished()
        driver.send("STARTTLS\r\n")
        #expect(driver.last!.description == "554 5.5.1 Error: TLS already active")
    }

    @Test func requiredTLSRefusesMailBeforeSTARTTLS() {
        var driver = ServerDriver.offeringTLS(SMTPServerTLSSettings(required: true))
        driver.send("EHLO client.test\r\nNOOP\r\nMAIL FROM:<a@sender.test>\r\nRCPT TO:<b@example.test>\r\nXYZZY\r\n")
        #expect(driver.lines(from: 1).map { String($0.prefix(3)) } == ["250", "250", "530", "530", "500"])
        #expect(driver.replies[3].reply.description == "530 5.7.0 Must issue a STARTTLS command first")
        #expect(driver.replies[3].stage == .mail)
        driver.send("STARTTLS\r\n")
        driver.tlsEstablished()
        driver.send("EHLO client.test\r\nMAIL FROM:<a@sender.test>\r\n")
        #expect(driver.last!.description == "250 2.1.0 Ok")
    }

    @Test func aFailedOrStuckHandshakeClosesWithoutAReply() {
        var failed = ServerDriver.offeringTLS()
        failed.send("EHLO client.test\r\nSTARTTLS\r\n")
        let count = failed.replies.count
        failed.tlsFailed("TLSV1_ALERT_PROTOCOL_VERSION")
        #expect(failed.closed)
        #expect(failed.replies.count == count)
        #expect(failed.machine.quietCloseCause == "tls:TLSV1_ALERT_PROTOCOL_VERSION")

        var stuck = ServerDriver.offeringTLS(SMTPServerTLSSettings(handshakeTimeout: .seconds(10)))
        stuck.send("EHLO client.test\r\nSTARTTLS\r\n")
        stuck.clock.advance(by: .seconds(9))
        stuck.fireTimeout()
        #expect(!stuck.closed)
        stuck.clock.advance(by: .seconds(2))
        stuck.fireTimeout()
        #expect(stuck.closed)
        #expect(stuck.machine.quietCloseCause == "starttls:timeout")
        #expect(stuck.last!.code == 220)
    }
}
