import Testing
@testable import SMTPProtocol

/// The client's STARTTLS at each `smtp_tls_security_level`, as Postfix 3.7's smtp_proto.c has it.
@Suite struct STARTTLSClientTests {
    struct Session {
        var machine: SMTPClientStateMachine
        var written: [String] = []
        var startedTLS = false
        var closed = false

        init(level: TLSSecurityLevel) {
            var configuration = SMTPClientConfiguration(
                helo: "mail.sender.test", mailFrom: "alice@sender.test", recipients: ["bob@example.test"],
                message: Array("Subject: t\n\nHi\n".utf8))
            configuration.tlsLevel = level
            configuration.peerName = "mx.example.test[192.0.2.10]"
            machine = SMTPClientStateMachine(configuration: configuration)
            take(machine.event(.connected, at: 0))
        }

        mutating func server(_ lines: String...) {
            for line in lines { take(machine.event(.line(line), at: 1)) }
        }

        mutating func event(_ event: SMTPClientStateMachine.Event) {
            take(machine.event(event, at: 2))
        }

        mutating func take(_ action: SMTPClientStateMachine.Action) {
            switch action {
            case .wait: break
            case .send(let bytes): written.append(String(String(decoding: bytes, as: UTF8.self).dropLast()))
            case .startTLS: startedTLS = true
            case .close: closed = true
            }
        }

        mutating func greetAndEHLO(offering starttls: Bool) {
            server("220 mx.example.test ESMTP")
            server("250-mx.example.test", "250-PIPELINING")
            if starttls { server("250-STARTTLS") }
            server("250 8BITMIME")
        }

        var notes: [String] { machine.transcript.filter { $0.direction == .note }.map(\.text) }
    }

    static let verified = TLSSessionFacts(version: .tls13, cipher: "TLS_AES_128_GCM_SHA256", trust: .verified)

    @Test func noneNeverStartsTLS() {
        var session = Session(level: .none)
        session.greetAndEHLO(offering: true)
        #expect(session.written.last == "MAIL FROM:<alice@sender.test>")
    }

    @Test func mayStartsTLSThenSaysEHLOAgain() throws {
        var session = Session(level: .may)
        session.greetAndEHLO(offering: true)
        #expect(session.written.last == "STARTTLS")
        session.server("220 2.0.0 Ready to start TLS")
        #expect(session.startedTLS)
        session.event(
            .tlsEstablished(
                TLSSessionFacts(version: .tls13, cipher: "TLS_AES_128_GCM_SHA256", trust: .untrusted),
                failure: "self-signed certificate"))
        #expect(session.written.last == "EHLO mail.sender.test")
        // At may the certificate is not checked: no verification line, "Untrusted", delivery goes on.
        #expect(
            session.notes == [
                "Untrusted TLS connection established to mx.example.test[192.0.2.10]:25: TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 (128/128 bits)"
            ])
        session.server("250-mx.example.test", "250 PIPELINING")
        #expect(session.written.last == "MAIL FROM:<alice@sender.test>")
        session.server("250 2.1.0 Ok", "250 2.1.5 Ok", "354 go", "250 2.0.0 Ok: queued as 1")
        let result = try #require(session.machine.result)
        #expect(result.outcome == .accepted)
        #expect(result.tls?.trust == .untrusted)
    }

    @Test func mayGoesOnInPlaintextWhenSTARTTLSIsMissingOrRefused() {
        var missing = Session(level: .may)
        missing.greetAndEHLO(offering: false)
        #expect(missing.written.last == "MAIL FROM:<alice@sender.test>")

        var refused = Session(level: .may)
        refused.greetAndEHLO(offering: true)
        refused.server("454 4.7.0 TLS not available due to local problem")
        // smtp_proto.c: "try to continue in plain-text mode", without another EHLO.
        #expect(refused.written.last == "MAIL FROM:<alice@sender.test>")
        #expect(refused.machine.result == nil)
    }

    @Test func encryptDefersWhenSTARTTLSIsNotOffered() throws {
        var session = Session(level: .encrypt)
        session.greetAndEHLO(offering: false)
        #expect(session.written.last == "QUIT")
        let result = try #require(session.machine.result)
        #expect(result.outcome == .tempfailed)
        #expect(result.stage == .helo)
        #expect(result.reply?.enhanced == "4.7.4")
        #expect(result.reply?.text == "TLS is required, but was not offered by host mx.example.test[192.0.2.10]")
    }

    @Test func aRefusedSTARTTLSAtEncryptCarriesTheServersReply() throws {
        var bounced = Session(level: .encrypt)
        bounced.greetAndEHLO(offering: true)
        bounced.server("554 5.7.0 No TLS for you")
        let result = try #require(bounced.machine.result)
        // A 5xx reply to STARTTLS bounces: the server's own code decides (smtp_site_fail).
        #expect(result.outcome == .rejected)
        #expect(result.reply?.code == 554)
        #expect(
            result.error == "TLS is required, but host mx.example.test[192.0.2.10] refused to start TLS: No TLS for you"
        )
    }

    @Test func verifyDefersAnUnverifiedCertificateAfterTheHandshake() throws {
        var session = Session(level: .verify)
        session.greetAndEHLO(offering: true)
        session.server("220 2.0.0 Ready to start TLS")
        session.event(
            .tlsEstablished(
                TLSSessionFacts(version: .tls13, cipher: "TLS_AES_128_GCM_SHA256", trust: .trusted),
                failure: "num=62:hostname mismatch"))
        // The session is usable: QUIT goes out (over TLS).
        #expect(session.written.last == "QUIT")
        #expect(
            session.notes.prefix(2) == [
                "server certificate verification failed for mx.example.test[192.0.2.10]:25: num=62:hostname mismatch",
                "Trusted TLS connection established to mx.example.test[192.0.2.10]:25: TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 (128/128 bits)",
            ])
        let result = try #require(session.machine.result)
        #expect(result.outcome == .tempfailed)
        #expect(result.reply?.enhanced == "4.7.5")
        #expect(result.reply?.text == "Server certificate not verified")
        #expect(result.tls?.trust == .trusted)
    }

    @Test func verifyDeliversOverAVerifiedSession() throws {
        var session = Session(level: .verify)
        session.greetAndEHLO(offering: true)
        session.server("220 2.0.0 Ready to start TLS")
        session.event(.tlsEstablished(Self.verified, failure: nil))
        #expect(session.written.last == "EHLO mail.sender.test")
        #expect(session.notes.first?.hasPrefix("Verified TLS connection established") == true)
    }

    @Test(arguments: [
        SMTPClientStateMachine.Event.tlsFailed("TLSV1_ALERT_PROTOCOL_VERSION"), .timedOut, .closed,
    ])
    func aFailedHandshakeDefersWithoutQUITEvenAtMay(_ failure: SMTPClientStateMachine.Event) throws {
        var session = Session(level: .may)
        session.greetAndEHLO(offering: true)
        session.server("220 2.0.0 Ready to start TLS")
        let before = session.written.count
        session.event(failure)
        #expect(session.closed)
        #expect(session.written.count == before)
        let result = try #require(session.machine.result)
        #expect(result.outcome == .tempfailed)
        #expect(result.reply?.enhanced == "4.7.5")
        #expect(result.reply?.text == "Cannot start TLS: handshake failure")
        #expect(result.tls == nil)
    }

    @Test func levelsOrderAsPostfixDoes() {
        #expect(TLSSecurityLevel.allCases.sorted() == [.none, .may, .encrypt, .dane, .verify, .secure])
        #expect(!TLSSecurityLevel.may.requiresTLS && TLSSecurityLevel.encrypt.requiresTLS)
        #expect(
            !TLSSecurityLevel.encrypt.mustMatch && TLSSecurityLevel.dane.mustMatch && TLSSecurityLevel.verify.mustMatch)
    }

    @Test func theServerHelloNamesTheCipher() {
        // A TLS 1.3 ServerHello's first bytes: record (22, 0x0303, length), handshake (2, length),
        // legacy version, 32 bytes of random, a 32-byte session id, then the suite.
        var hello: [UInt8] = [22, 3, 3, 0, 122, 2, 0, 0, 118, 3, 3] + Array(repeating: 7, count: 32) + [32]
        hello += Array(repeating: 1, count: 32) + [0x13, 0x02, 0]
        #expect(TLSCipherSuite.fromServerHello(hello) == .suite(0x1302))
        #expect(TLSCipherSuite.fromServerHello(hello.prefix(50)) == .needMore)
        #expect(TLSCipherSuite.fromServerHello(Array("220 mx".utf8)) == .notServerHello)
        #expect(TLSCipherSuite.name(of: 0x1302) == "TLS_AES_256_GCM_SHA384")
        #expect(TLSCipherSuite.name(of: 0xC02B) == "ECDHE-ECDSA-AES128-GCM-SHA256")
    }
}
