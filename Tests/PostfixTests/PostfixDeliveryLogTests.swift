import DNSCore
import SMTPProtocol
import Delivery
import Testing
@testable import Postfix

/// Postfix 3.7 smtp(8) log lines read as attempts and outcomes (lines as Postfix writes them).
@Suite struct PostfixDeliveryLogTests {
    let prefix = "2026-12-02T05:00:00.000000+00:00 host postfix/smtp[4242]: "

    @Test func ipv6DeferredThenDeliveredOverIPv4() {
        let log = PostfixDeliveryLog(lines: [
            prefix
                + "4AB12C: host mx.example.test[2001:db8::10] said: 450 4.7.25 Client host rejected: cannot find your hostname, [2001:db8:5::25] (in reply to RCPT TO command)",
            prefix
                + "4AB12C: to=<bob@example.test>, relay=mx.example.test[192.0.2.10]:25, delay=0.2, delays=0.01/0/0.1/0.05, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 99XYZ)",
        ])
        #expect(log.attempts.map(\.family) == [.ipv6, .ipv4])
        #expect(log.attempts.map(\.result) == [.tempfailed, .accepted])
        #expect(log.attempts[0].stage == .rcpt)
        #expect(
            log.attempts[0].reply
                == SMTPReply(
                    code: 450, enhanced: "4.7.25", "Client host rejected: cannot find your hostname, [2001:db8:5::25]"))
        #expect(log.status(of: "bob@example.test")?.outcome == .delivered)
        #expect(log.status(of: "bob@example.test")?.attemptIndex == 1)
    }

    @Test func aMultiLineGreetingIsOneReplyWithItsLinesJoined() {
        // As Postfix 3.7 logged the gmx-like front end's refusal (smtp_chat.c joins the lines).
        let log = PostfixDeliveryLog(lines: [
            prefix
                + "3EB0AF: to=<bob@example.test>, relay=mx.example.test[192.0.2.10]:25, delay=0.04, delays=0.02/0.01/0.01/0, dsn=4.0.0, status=deferred (host mx.example.test[192.0.2.10] refused to talk to me: 554-mx.example.test ESMTP Service not available 554-No SMTP service 554 Bad DNS PTR resource record.)"
        ])
        #expect(log.attempts.count == 1)
        #expect(log.attempts.first?.stage == .greeting)
        #expect(log.attempts.first?.result == .rejected)
        #expect(
            log.attempts.first?.reply
                == SMTPReply(
                    code: 554, enhanced: nil,
                    "mx.example.test ESMTP Service not available No SMTP service Bad DNS PTR resource record."))
        #expect(
            SMTPReply(logged: "554-a 554-b.c.d 554 5.7.1 e")?.enhanced == nil,
            "an enhanced code counts only at the start")
        #expect(SMTPReply(logged: "55x nope") == nil && SMTPReply(logged: "5541 x") == nil)
        // Exim's two-line DNSBL refusal as Postfix logs it: the repeated enhanced code goes too.
        #expect(
            SMTPReply(
                logged:
                    "554-5.7.1 Service unavailable; Client host [2001:db8:5::25] blocked using 554 5.7.1 bl.example.test"
            )
                == SMTPReply(
                    code: 554, enhanced: "5.7.1",
                    "Service unavailable; Client host [2001:db8:5::25] blocked using bl.example.test"))
    }

    @Test func sessionLimitDeferral() {
        let log = PostfixDeliveryLog(lines: [
            prefix + "4AB12C: host mx1.example.test[2001:db8::1] said: 450 4.7.25 no PTR (in reply to RCPT TO command)",
            prefix
                + "4AB12C: to=<bob@example.test>, relay=mx2.example.test[2001:db8::2]:25, delay=0.3, delays=0.01/0/0.2/0, dsn=4.7.25, status=deferred (host mx2.example.test[2001:db8::2] said: 450 4.7.25 no PTR (in reply to RCPT TO command))",
        ])
        #expect(log.attempts.map(\.remoteAddress.description) == ["2001:db8::1", "2001:db8::2"])
        #expect(log.status(of: "bob@example.test")?.outcome == .deferred)
        #expect(log.attempts[1].reply?.code == 450)
        #expect(log.attempts[1].stage == .rcpt)
    }

    @Test func aRefusedHeloIsToldFromARefusedGreetingByTheVerboseChat() {
        // Postfix 3.7 with debug_peer_list matching the server, as the harness's sender runs it
        // (a receiver answering its checks at EHLO, Scenarios/reject-stages/helo.yaml): both
        // refusals are logged as "refused to talk to me".
        let helo = PostfixDeliveryLog(lines: [
            prefix + "< mx.example.test[2001:db8::10]:25: 220 mx.example.test ESMTP",
            prefix + "> mx.example.test[2001:db8::10]:25: EHLO mail.sender.test",
            prefix + "< mx.example.test[2001:db8::10]:25: 450 4.7.25 Client host rejected: cannot find your hostname",
            prefix + "> mx.example.test[2001:db8::10]:25: HELO mail.sender.test",
            prefix + "< mx.example.test[2001:db8::10]:25: 450 4.7.25 Client host rejected: cannot find your hostname",
            prefix + "5FBB3F7E490: host mx.example.test[2001:db8::10] refused to talk to me: 450 4.7.25 Client host "
                + "rejected: cannot find your hostname",
            prefix + "> mx.example.test[2001:db8::10]:25: QUIT",
            prefix + "< mx.example.test[192.0.2.10]:25: 554-mx.example.test no service",
            prefix + "< mx.example.test[192.0.2.10]:25: 554 go away",
            prefix + "5FBB3F7E490: to=<bob@example.test>, relay=mx.example.test[192.0.2.10]:25, delay=0.2, "
                + "delays=0.1/0/0.1/0, dsn=5.0.0, status=bounced (host mx.example.test[192.0.2.10] refused to talk "
                + "to me: 554-mx.example.test no service 554 go away)",
        ])
        #expect(helo.attempts.map(\.stage) == [.helo, .greeting])
        #expect(helo.attempts.map(\.result) == [.tempfailed, .rejected])
        // A pipelined reply answers the oldest command; a 5xx to EHLO that HELO then passes is no
        // refusal, and a later greeting refusal of the same server stays a greeting.
        let pipelined = PostfixDeliveryLog(lines: [
            prefix + "< mx.example.test[192.0.2.10]:25: 220 mx.example.test ESMTP",
            prefix + "> mx.example.test[192.0.2.10]:25: EHLO mail.sender.test",
            prefix + "< mx.example.test[192.0.2.10]:25: 250-mx.example.test",
            prefix + "< mx.example.test[192.0.2.10]:25: 250 8BITMIME",
            prefix + "> mx.example.test[192.0.2.10]:25: MAIL FROM:<alice@sender.test>",
            prefix + "> mx.example.test[192.0.2.10]:25: RCPT TO:<bob@example.test>",
            prefix + "< mx.example.test[192.0.2.10]:25: 250 2.1.0 Ok",
            prefix + "< mx.example.test[192.0.2.10]:25: 450 4.7.1 later",
            prefix + "4AB12C: host mx.example.test[192.0.2.10] said: 450 4.7.1 later (in reply to RCPT TO command)",
            prefix + "> mx.example.test[192.0.2.10]:25: QUIT",
            prefix + "< mx.example.test[192.0.2.10]:25: 221 Bye",
            prefix + "< mx.example.test[192.0.2.10]:25: 421 4.3.2 Service not available",
            prefix + "4AB12C: host mx.example.test[192.0.2.10] refused to talk to me: 421 4.3.2 Service not available",
        ])
        #expect(pipelined.attempts.map(\.stage) == [.rcpt, .greeting])
    }

    @Test func rcptRepliesOfOneSessionAreOneAttemptWithVerboseLinesBetween() {
        // Two recipients refused in one session, as the verbose sender logs them (attribute lines
        // between the per-recipient lines); a second session to the same server is a new attempt.
        var lines = [
            prefix + "< mx.example.test[2001:db8::10]:25: 220 mx.example.test ESMTP",
            prefix + "> mx.example.test[2001:db8::10]:25: EHLO mail.sender.test",
            prefix + "< mx.example.test[2001:db8::10]:25: 250 8BITMIME",
            prefix + "> mx.example.test[2001:db8::10]:25: MAIL FROM:<alice@sender.test>",
            prefix + "> mx.example.test[2001:db8::10]:25: RCPT TO:<bob@example.test>",
            prefix + "> mx.example.test[2001:db8::10]:25: RCPT TO:<carol@example.test>",
            prefix + "< mx.example.test[2001:db8::10]:25: 250 2.1.0 Ok",
            prefix + "< mx.example.test[2001:db8::10]:25: 450 4.7.25 no PTR",
            prefix + "4AB12C: host mx.example.test[2001:db8::10] said: 450 4.7.25 no PTR (in reply to RCPT TO command)",
            prefix + "send attr reason = host mx.example.test[2001:db8::10] said: 450 4.7.25 no PTR",
            prefix + "< mx.example.test[2001:db8::10]:25: 450 4.7.25 no PTR",
            prefix + "4AB12C: host mx.example.test[2001:db8::10] said: 450 4.7.25 no PTR (in reply to RCPT TO command)",
        ]
        #expect(PostfixDeliveryLog(lines: lines).attempts.count == 1)
        lines += [
            prefix + "> mx.example.test[2001:db8::10]:25: QUIT",
            prefix + "< mx.example.test[2001:db8::10]:25: 221 Bye",
            prefix + "< mx.example.test[2001:db8::10]:25: 220 mx.example.test ESMTP",
            prefix + "4AB12C: host mx.example.test[2001:db8::10] said: 450 4.7.25 no PTR (in reply to RCPT TO command)",
        ]
        #expect(PostfixDeliveryLog(lines: lines).attempts.count == 2)
    }

    @Test func connectionFailuresAndGreetings() {
        let log = PostfixDeliveryLog(lines: [
            prefix + "connect to mx.example.test[2001:db8::10]:25: Connection refused",
            prefix + "4AB12C: host mx.example.test[192.0.2.10] refused to talk to me: 421 4.3.2 Service not available",
            prefix
                + "4AB12C: to=<bob@example.test>, relay=none, delay=0.1, delays=0.01/0/0.1/0, dsn=4.4.1, status=deferred (connect to mx.example.test[192.0.2.11]:25: Connection timed out)",
        ])
        #expect(log.attempts.map(\.result) == [.unreachable, .tempfailed])
        #expect(log.attempts.map(\.stage) == [.connect, .greeting])
        let status = log.status(of: "bob@example.test")
        #expect(status?.attemptIndex == nil)
        #expect(status?.dsn == "4.4.1")
    }

    @Test func bounceAtData() {
        let log = PostfixDeliveryLog(lines: [
            prefix
                + "4AB12C: to=<bob@example.test>, relay=mx.example.test[192.0.2.10]:25, delay=0.1, delays=0/0/0/0, dsn=5.7.1, status=bounced (host mx.example.test[192.0.2.10] said: 554 5.7.1 SPF fail (in reply to end of DATA command))"
        ])
        #expect(log.attempts.count == 1)
        #expect(log.attempts[0].stage == .data)
        #expect(log.attempts[0].result == .rejected)
        #expect(log.status(of: "bob@example.test")?.outcome == .bounced)
    }

    @Test func aProtocolErrorIsTheServersReplyAndABounce() {
        // A 250 read where DATA wants 354 (a PROXY header sent to a plain port puts every reply
        // one command late): smtp(8) bounces it as "Protocol error" with 5.5.0 (smtp_trouble.c).
        let log = PostfixDeliveryLog(lines: [
            prefix
                + "5C1D2E: to=<bob@example.test>, relay=mx.example.test[2001:db8::10]:25, delay=0.1, delays=0.02/0/0.05/0.03, dsn=5.5.0, status=bounced (Protocol error: host mx.example.test[2001:db8::10] said: 250 2.1.5 Ok (in reply to DATA command))"
        ])
        #expect(log.attempts.count == 1)
        #expect(log.attempts.first?.stage == .data)
        #expect(log.attempts.first?.result == .rejected)
        #expect(log.attempts.first?.reply == SMTPReply(code: 250, enhanced: "2.1.5", "Ok"))
        #expect(log.status(of: "bob@example.test")?.outcome == .bounced)
    }

    @Test func rcptRepliesOfOneSessionAreOneAttempt() {
        let log = PostfixDeliveryLog(lines: [
            prefix + "4AB12C: host mx.example.test[2001:db8::10] said: 450 4.7.25 no PTR (in reply to RCPT TO command)",
            prefix + "4AB12C: host mx.example.test[2001:db8::10] said: 450 4.7.25 no PTR (in reply to RCPT TO command)",
            prefix + "4AB12C: host mx.example.test[2001:db8::10] said: 450 4.7.25 no PTR (in reply to RCPT TO command)",
            prefix
                + "4AB12C: to=<a@example.test>, relay=mx.example.test[192.0.2.10]:25, delay=0.1, delays=0/0/0/0, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
        ])
        #expect(log.attempts.map(\.family) == [.ipv6, .ipv4])
    }

    @Test func recipientsOfOneSessionShareAnAttempt() {
        let log = PostfixDeliveryLog(lines: [
            prefix
                + "4AB12C: to=<a@example.test>, relay=mx.example.test[192.0.2.10]:25, delay=0.1, delays=0/0/0/0, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
            prefix
                + "4AB12C: to=<b@example.test>, relay=mx.example.test[192.0.2.10]:25, delay=0.1, delays=0/0/0/0, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
        ])
        #expect(log.attempts.count == 1)
        #expect(log.attempts[0].recipients.map(\.address) == ["a@example.test", "b@example.test"])
    }

    @Test func mainCFPutsTheSenderInPlaceAndSettingsOnTop() {
        let request = DeliveryRequest(
            sources: [.ipv4: IPAddress("198.51.100.25")!, .ipv6: IPAddress("2001:db8:5::25")!], prefer: .any,
            limits: ClientLimits(sessionLimit: 4), helo: "mail.sender.test", mailFrom: "alice@sender.test",
            recipients: ["bob@example.test"],
            message: [])
        let text = PostfixSenderConfiguration.mainCF(
            request, settings: ["smtp_mx_session_limit": "3", "queue_directory": "/elsewhere"],
            paths: .init(root: "/case/postfix-sender"))
        #expect(text.contains("smtp_bind_address = 198.51.100.25\n"))
        #expect(text.contains("smtp_bind_address6 = 2001:db8:5::25\n"))
        #expect(text.contains("smtp_address_preference = any\n"))
        #expect(text.contains("smtp_randomize_addresses = no\n"))
        #expect(text.contains("smtp_mx_session_limit = 3\n"))
        #expect(text.contains("queue_directory = /case/postfix-sender/queue\n"))
        #expect(!text.contains("/elsewhere"))
    }

    @Test func masterCFDropsListeningServicesAndChroot() {
        let stock = """
            smtp      inet  n       -       y       -       -       smtpd
            #628      inet  n       -       y       -       -       qmqpd
            pickup    unix  n       -       y       60      1       pickup
            smtp      unix  -       -       y       -       -       smtp
              -o syslog_name=x
            """
        let master = PostfixSenderConfiguration.masterCF(stock: stock)
        #expect(!master.contains("smtpd"))
        #expect(master.contains("pickup unix n - n 60 1 pickup"))
        #expect(master.contains("smtp unix - - n - - smtp\n  -o syslog_name=x"))
    }

    // MARK: TLS (smtp_tls_loglevel = 1; lines as Postfix 3.7.11 logged them here)

    @Test func anUnverifiedFirstMXThenAVerifiedSecond() {
        let log = PostfixDeliveryLog(lines: [
            prefix
                + "server certificate verification failed for mx1.example.test[192.0.2.11]:25: certificate has expired",
            prefix
                + "Untrusted TLS connection established to mx1.example.test[192.0.2.11]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature ECDSA (prime256v1) server-digest SHA256",
            prefix + "1FAA4F82AF5: Server certificate not verified",
            prefix
                + "Verified TLS connection established to mx2.example.test[192.0.2.12]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature ECDSA (prime256v1) server-digest SHA256",
            prefix
                + "1FAA4F82AF5: to=<bob@example.test>, relay=mx2.example.test[192.0.2.12]:25, delay=0.27, delays=0.08/0.1/0.09/0, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as S2Q1)",
        ])
        #expect(log.attempts.map(\.remoteAddress.description) == ["192.0.2.11", "192.0.2.12"])
        #expect(log.attempts.map(\.result) == [.tempfailed, .accepted])
        #expect(log.attempts[0].stage == .helo)
        #expect(log.attempts[0].reply == SMTPReply(code: 451, enhanced: "4.7.5", "Server certificate not verified"))
        #expect(log.attempts[0].remoteHost == "mx1.example.test")
        #expect(
            log.attempts[0].tls == TLSSessionFacts(version: .tls13, cipher: "TLS_AES_256_GCM_SHA384", trust: .untrusted)
        )
        #expect(log.attempts[1].tls?.trust == .verified)
        #expect(log.status(of: "bob@example.test")?.attemptIndex == 1)
    }

    @Test func theLastMXsCertificateFailureEndsTheDeliveryAsDeferred() {
        let log = PostfixDeliveryLog(lines: [
            prefix
                + "server certificate verification failed for mx2.example.test[192.0.2.12]:25: certificate has expired",
            prefix
                + "Untrusted TLS connection established to mx2.example.test[192.0.2.12]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature ECDSA (prime256v1) server-digest SHA256",
            prefix
                + "4973AF82B8A: to=<bob@example.test>, relay=mx2.example.test[192.0.2.12]:25, delay=0.26, delays=0.1/0.1/0.06/0, dsn=4.7.5, status=deferred (Server certificate not verified)",
        ])
        #expect(log.attempts.count == 1)
        #expect(log.attempts[0].stage == .helo)
        #expect(log.attempts[0].result == .tempfailed)
        #expect(log.attempts[0].reply == SMTPReply(code: 451, enhanced: "4.7.5", "Server certificate not verified"))
        #expect(log.attempts[0].tls?.trust == .untrusted)
        #expect(log.status(of: "bob@example.test")?.outcome == .deferred)
    }

    @Test func starttlsNotOfferedAndAFailedHandshake() {
        // FIELD-NOTES-TLS section 1 (a) and (b).
        let log = PostfixDeliveryLog(lines: [
            prefix + "D1715F860C9: TLS is required, but was not offered by host mx2.example.test[192.0.2.26]",
            prefix + "SSL_connect error to mx5.example.test[192.0.2.29]:25: -1",
            prefix
                + "warning: TLS library problem: error:0A00042E:SSL routines::tlsv1 alert protocol version:../ssl/record/rec_layer_s3.c:1584:SSL alert number 70:",
            prefix
                + "D1715F860C9: to=<bob@example.test>, relay=mx5.example.test[192.0.2.29]:25, delay=0.1, delays=0.01/0/0.09/0, dsn=4.7.5, status=deferred (Cannot start TLS: handshake failure)",
        ])
        #expect(log.attempts.map(\.remoteAddress.description) == ["192.0.2.26", "192.0.2.29"])
        #expect(
            log.attempts[0].reply
                == SMTPReply(
                    code: 451, enhanced: "4.7.4",
                    "TLS is required, but was not offered by host mx2.example.test[192.0.2.26]"))
        #expect(log.attempts[0].remoteHost == "mx2.example.test")
        #expect(log.attempts[1].reply == SMTPReply(code: 451, enhanced: "4.7.5", "Cannot start TLS: handshake failure"))
        #expect(log.attempts.allSatisfy { $0.stage == .helo && $0.tls == nil })
    }

    @Test func aRefusedStarttlsKeepsTheServersDSNAndText() {
        let log = PostfixDeliveryLog(lines: [
            prefix
                + "D1715F860C9: to=<bob@example.test>, relay=mx.example.test[192.0.2.10]:25, delay=0.1, delays=0.01/0/0.09/0, dsn=5.7.0, status=bounced (TLS is required, but host mx.example.test[192.0.2.10] refused to start TLS: 5.7.0 No TLS for you)"
        ])
        #expect(log.attempts.first?.reply == SMTPReply(code: 554, enhanced: "5.7.0", "No TLS for you"))
        #expect(log.attempts.first?.result == .rejected)
    }
}
