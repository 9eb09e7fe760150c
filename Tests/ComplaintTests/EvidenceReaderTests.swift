import Complaint
import DNSCore
import SMTPProtocol
import Testing

@Suite struct EvidenceReaderTests {
    func read(_ text: String) throws -> Evidence {
        switch EvidenceReader.read(text) {
        case .success(let evidence): return evidence
        case .failure(let error): throw error
        }
    }

    @Test func postfixRejectLine() throws {
        let evidence = try read(Samples.postfixReject)
        #expect(evidence.source == .postfixReject)
        #expect(evidence.clientAddress == IPAddress("2001:db8::66"))
        #expect(evidence.clientName == "unknown")
        #expect(evidence.helo == "bad.sender.test")
        #expect(evidence.mailFrom == "a@sender.test")
        #expect(evidence.rcptTo == ["u@example.test"])
        #expect(
            evidence.reply
                == SMTPReply(
                    code: 450, enhanced: "4.7.25", "Client host rejected: cannot find your hostname, [2001:db8::66]"))
        #expect(evidence.stage == .rcpt)
        #expect(evidence.receiverName == nil, "the syslog host `mx` is no full name")
        let client = try #require(evidence.provenance.first { $0.field == .clientAddress })
        #expect(client.source.contains("RCPT from unknown[2001:db8::66]") && !client.inferred)
    }

    @Test func postfixRejectWithSemicolonsInTheTextAndNoHelo() throws {
        let line =
            "Jun  2 08:00:00 mx1 postfix/smtpd[7]: 3F0A1B: reject: RCPT from unknown[198.51.100.7]:4711: 554 5.7.1 Service unavailable; Client host [198.51.100.7] blocked using bl.example.test; listed since 2024; from=<> to=<u@example.test> proto=SMTP"
        let evidence = try read(line)
        #expect(evidence.reply?.code == 554)
        #expect(
            evidence.reply?.text
                == "Service unavailable; Client host [198.51.100.7] blocked using bl.example.test; listed since 2024")
        #expect(evidence.mailFrom == "", "from=<> is the null sender")
        #expect(evidence.helo == nil)
    }

    @Test func postfixDeliveryLines() throws {
        let evidence = try read(Samples.postfixDelivery)
        #expect(evidence.source == .postfixDelivery)
        #expect(evidence.receiverName == "mx.example.test")
        #expect(evidence.receiverAddress == IPAddress("192.0.2.10"))
        #expect(evidence.mailFrom == "alice@sender.test", "from the queue manager's line of the same queue id")
        #expect(evidence.rcptTo == ["bob@example.test"])
        #expect(evidence.reply?.code == 550 && evidence.reply?.enhanced == "5.7.1")
        #expect(evidence.stage == .rcpt)
        #expect(evidence.helo == "nohost.sender.test", "quoted by the HELO restriction's reply")
        #expect(evidence.clientAddress == nil, "nothing names the sending address")
    }

    @Test func eximRejectLine() throws {
        let evidence = try read(Samples.eximReject)
        #expect(evidence.source == .eximReject)
        #expect(evidence.clientAddress == IPAddress("2001:db8:5::66"))
        #expect(evidence.clientName == "unknown")
        #expect(evidence.helo == "mail.sender.test")
        #expect(evidence.receiverAddress == IPAddress("2001:db8::10"))
        #expect(evidence.mailFrom == "alice@sender.test")
        #expect(evidence.rcptTo == ["bob@example.test"])
        #expect(evidence.reply?.code == 550, "Exim logs no code: deny answers 550")
        #expect(evidence.reply?.enhanced == nil)
        let reply = try #require(evidence.provenance.first { $0.field == .reply })
        #expect(reply.inferred)
    }

    @Test func eximRejectWithVerifiedNameAndTemporaryReject() throws {
        let line =
            "2024-05-01 12:00:00 H=host.sender.test [192.0.2.77] F=<a@sender.test> temporarily rejected RCPT <u@example.test>: greylisted"
        let evidence = try read(line)
        #expect(evidence.clientName == "host.sender.test")
        #expect(evidence.helo == "host.sender.test")
        #expect(evidence.reply?.code == 451)
    }

    @Test func eximDeliveryLines() throws {
        let evidence = try read(Samples.eximDelivery)
        #expect(evidence.source == .eximDelivery)
        #expect(evidence.reply?.code == 450 && evidence.reply?.enhanced == "4.7.25")
        #expect(evidence.stage == .rcpt)
        #expect(evidence.rcptTo == ["bob@example.test"])
        #expect(evidence.mailFrom == "alice@sender.test")
        #expect(evidence.receiverName == "mx.example.test")
        #expect(evidence.receiverAddress == IPAddress("2001:db8::10"))
        #expect(evidence.clientAddress == IPAddress("2001:db8:5::66"), "named in the reply text")
    }

    @Test func deliveryStatusNotification() throws {
        let evidence = try read(Samples.dsn)
        #expect(evidence.source == .deliveryStatus)
        #expect(evidence.reply?.code == 550 && evidence.reply?.enhanced == "5.7.1")
        #expect(evidence.reply?.text.contains("does not meet IPv6 sending guidelines") == true)
        #expect(evidence.stage == .data, "(in reply to end of DATA command)")
        #expect(evidence.rcptTo == ["bob@example.test"])
        #expect(evidence.mailFrom == "alice@sender.test")
        #expect(evidence.helo == "mail.sender.test")
        #expect(evidence.receiverName == "mx.example.test")
        #expect(evidence.receiverAddress == IPAddress("2001:db8::10"))
        #expect(evidence.clientAddress == IPAddress("2001:db8:5::66"))
    }

    @Test func aFlattenedMultiLineReplyLosesItsInnerPrefixes() throws {
        let text = """
            Reporting-MTA: dns; mail.sender.test

            Final-Recipient: rfc822; bob@example.test
            Action: failed
            Status: 5.7.1
            Diagnostic-Code: smtp; 550-5.7.1 [2001:db8:5::66] Our system has detected that
                this message does not 550-5.7.1 meet IPv6 sending guidelines regarding PTR
                records and authentication. 550 5.7.1 Please review the guidelines.
            """
        let evidence = try read(text)
        #expect(
            evidence.reply?.text
                == "[2001:db8:5::66] Our system has detected that this message does not meet IPv6 sending guidelines regarding PTR records and authentication. Please review the guidelines."
        )
    }

    @Test func deliveryStatusWithoutDiagnosticCodeUsesStatus() throws {
        let text = """
            Reporting-MTA: dns; mail.sender.test

            Final-Recipient: rfc822; bob@example.test
            Action: delayed
            Status: 4.4.1
            """
        let evidence = try read(text)
        #expect(evidence.reply?.code == 450 && evidence.reply?.enhanced == "4.4.1")
        #expect(evidence.provenance.contains { $0.field == .reply && $0.inferred })
    }

    @Test func eximBounceText() throws {
        let evidence = try read(Samples.bounce)
        #expect(evidence.source == .bounceText)
        #expect(evidence.reply == SMTPReply(code: 550, enhanced: "5.7.23", "SPF fail - not authorized"))
        #expect(evidence.stage == .rcpt)
        #expect(evidence.rcptTo == ["bob@example.test"])
        #expect(evidence.mailFrom == "alice@sender.test")
        #expect(evidence.receiverAddress == IPAddress("192.0.2.10"))
        #expect(evidence.receiverName == "mx.example.test")
    }

    @Test func providerBounceWithMultiLineReply() throws {
        let text = """
            Your message wasn't delivered to bob@example.test.

            The response from the remote server was:
            550-5.7.1 [2001:db8:5::66] Our system has detected that this message does
            550-5.7.1 not meet IPv6 sending guidelines regarding PTR records and
            550 5.7.1 authentication.
            """
        let evidence = try read(text)
        #expect(evidence.reply?.code == 550)
        #expect(
            evidence.reply?.text
                == "[2001:db8:5::66] Our system has detected that this message does not meet IPv6 sending guidelines regarding PTR records and authentication."
        )
        #expect(evidence.clientAddress == IPAddress("2001:db8:5::66"))
        // Nothing says which command the reply answered: no stage is made up.
        #expect(evidence.stage == nil)
    }

    @Test func swaksTranscript() throws {
        let evidence = try read(Samples.transcript)
        #expect(evidence.source == .transcript)
        #expect(evidence.helo == "mail.sender.test")
        #expect(evidence.mailFrom == "alice@sender.test")
        #expect(evidence.rcptTo == ["bob@example.test"])
        #expect(evidence.reply?.code == 450 && evidence.reply?.enhanced == "4.7.26")
        #expect(evidence.stage == .rcpt)
        #expect(evidence.receiverName == "mx.example.test")
        #expect(evidence.receiverAddress == IPAddress("2001:db8::10"))
        #expect(evidence.clientAddress == IPAddress("2001:db8:5::66"))
    }

    @Test func mxharnessTranscriptWithDataStage() throws {
        let text = """
            === Trying [2001:db8::10]:25 from [2001:db8:5::25]...
            <- 220 mx.example.test ESMTP mxharness
             -> EHLO mail.sender.test
            <- 250 mx.example.test
             -> MAIL FROM:<a@sender.test>
            <- 250 2.1.0 Ok
             -> RCPT TO:<b@example.test>
            <- 250 2.1.5 Ok
             -> DATA
            <- 354 End data with <CR><LF>.<CR><LF>
             -> Subject: 550 5.7.1 not a reply
             -> .
            <- 550 5.7.25 The IP address sending this message does not have a PTR record setup, or the corresponding forward DNS entry does not point to the sending IP.
            """
        let evidence = try read(text)
        #expect(evidence.clientAddress == IPAddress("2001:db8:5::25"))
        #expect(evidence.receiverAddress == IPAddress("2001:db8::10"))
        #expect(evidence.stage == .data)
        #expect(evidence.reply?.code == 550, "message lines are not replies")
    }

    @Test func unknownInputSaysWhatWasLookedForAndFound() {
        guard
            case .failure(let error) = EvidenceReader.read(
                "Hi, my mail to <bob@example.test> from [192.0.2.7] does not arrive. Please help!")
        else {
            Issue.record("expected an unrecognised input")
            return
        }
        let message = error.description
        #expect(
            message.contains("Postfix log line") && message.contains("Exim log line")
                && message.contains("SMTP transcript"))
        #expect(message.contains("192.0.2.7") && message.contains("<bob@example.test>"))
    }

    @Test func nothingCrashesOnTruncatedOrOddInput() {
        let samples = [
            Samples.postfixReject, Samples.postfixDelivery, Samples.eximReject, Samples.eximDelivery, Samples.dsn,
            Samples.bounce, Samples.transcript,
        ]
        for sample in samples {
            let scalars = Array(sample.unicodeScalars)
            for end in stride(from: 0, through: scalars.count, by: 7) {
                let text = String(String.UnicodeScalarView(scalars[0..<end]))
                if case .success(let evidence) = EvidenceReader.read(text) {
                    _ = ReproductionWriter.reproduce(evidence, input: text)
                }
            }
        }
        for odd in [
            "", "\n\n", "450", "450 ", "<", "[", "reject: RCPT from [", "status=(", "H=[", "<- 4", " -> RCPT TO:<",
            "\u{0}\u{1}ÿ", String(repeating: "[:", count: 500),
        ] {
            _ = EvidenceReader.read(odd)
        }
    }

    /// sendmail -v with PIPELINING: RCPT TO and DATA go out before their replies; the 554 answers RCPT.
    @Test func pipelinedRepliesAnswerTheirOwnCommands() throws {
        let text = """
            220 mx.example.test ESMTP Postfix
            >>> EHLO mail.sender.test
            250-mx.example.test
            250 PIPELINING
            >>> MAIL From:<alice@sender.test> SIZE=310
            >>> RCPT To:<bob@example.test>
            >>> DATA
            250 2.1.0 Ok
            554 5.7.1 Service unavailable; Client host [192.0.2.66] blocked using zen.spamhaus.org
            554 5.5.1 Error: no valid recipients
            """
        let evidence = try read(text)
        #expect(evidence.stage == .rcpt)
        #expect(evidence.reply?.enhanced == "5.7.1")
        #expect(evidence.clientAddress == IPAddress("192.0.2.66"))
    }

    @Test func aBouncePastedAsAQuotationIsReadWithoutTheQuoteMarks() throws {
        let text = """
            > <u@example.test>: host mx.example.test[192.0.2.10] said: 550 5.7.25 Client host
            >     rejected: cannot find your hostname, [198.51.100.7] (in reply to RCPT TO
            >     command)
            """
        let evidence = try read(text)
        #expect(evidence.reply?.text == "Client host rejected: cannot find your hostname, [198.51.100.7]")
        #expect(evidence.stage == .rcpt)
    }

    @Test(arguments: [
        ("Remote host said: 554 5.7.1 rejected\n192.0.2.10 failed after I sent the message.", SMTPStage.data),
        ("Connected to 192.0.2.10 but sender was rejected.\nRemote host said: 553 sorry, no", .mail),
        ("smtplib.SMTPRecipientsRefused: {'u@example.test': (550, b'5.7.1 no')} said: 550 5.7.1 no", .rcpt),
        ("Error: Data command failed: 451 4.7.1 try later", .data),
        ("Error: Invalid greeting. response=421 4.7.0 busy", .greeting),
        ("mx.example.test [192.0.2.10] did not like our final DATA:\n550 5.7.1 no", .data),
        ("client error while closing the WriteCloser: 554 Transaction failed", .data),
        ("> 550 Rejected by header based Anti-Spoofing policy", .data),
        ("reply: b'550 5.7.1 spam\\r\\n'\ndata: (550, b'5.7.1 spam')\nsend: 'rset\\r\\n'", .data),
    ])
    func theWordsAroundAReplyNameItsStage(text: String, stage: SMTPStage) throws {
        #expect(try read(text).stage == stage)
    }

    /// A typed command's syntax error that the session went on after is no refusal of the mail.
    @Test func aSyntaxSlipTheSessionWentOnAfterDoesNotDecide() throws {
        let session = """
            220 mx.example.test ESMTP
            HELO
            250 mx.example.test Hello [192.0.2.40]
            Mail
            501 5.5.4 Unrecognized parameter
            MAIL FROM: a@sender.test
            250 2.1.0 Sender OK
            RCPT TO: b@example.test
            550 5.7.1 Service unavailable, Client host [192.0.2.40] blocked
            """
        let evidence = try read(session)
        #expect(evidence.reply?.code == 550 && evidence.stage == .rcpt)
        // Without a later accepted command the syntax error is the refusal.
        let ended = try read(session.components(separatedBy: "\nMAIL FROM")[0])
        #expect(ended.reply?.code == 501)
    }

    @Test func localisedRoundcubeLettreMessagesAndWrappedOpenSMTPDLines() throws {
        let roundcube = try read("**Error SMTP (451): (Temporary local problem - please try later).**")
        #expect(roundcube.reply?.code == 451 && roundcube.reply?.text == "Temporary local problem - please try later")
        let lettre = try read(
            #"failed: Permanent(Response { code: Code { severity: PermanentNegativeCompletion, category: MailSystem, detail: Four }, message: [\"5.7.1 [2] no\"] })"#
        )
        #expect(lettre.reply?.code == 554 && lettre.reply?.enhanced == "5.7.1")
        let opensmtpd = try read(
            "relay: TempFail for\n66251a4092099e2d: from=a@sender.test, to=b@example.test,\nrelay=192.0.2.114 (mx.example.test), delay=12s, stat=451 Temporary\nfailure, please try again later."
        )
        #expect(opensmtpd.reply?.code == 451 && opensmtpd.observedOutcome == .deferred)
        #expect(opensmtpd.receiverAddress == IPAddress("192.0.2.114") && opensmtpd.receiverName == "mx.example.test")
    }

    @Test func olderEximWordsCutRepliesAndEximDeferralMarkers() throws {
        let mailer = try read(
            "2000-01-30 14:48:28 12EvcH-0003rC-00 ** b@example.test R=lookuphost T=smtp: SMTP error from remote mailer after RCPT TO: : host mx.example.test [192.0.2.2]: 550 User unknown"
        )
        #expect(mailer.reply?.code == 550 && mailer.stage == .rcpt && mailer.observedOutcome == .bounced)
        let cut = try read(#"Got: 550-"[ACD14] List software not permitted"#)
        #expect(cut.reply?.code == 550 && cut.stage == nil, "a cut multi-line reply is an excerpt: no greeting")
        let deferral = try read(
            "10HmbB-0005vi-00 == b@example.test R=others T=smtp defer (-18) H=mx.example.test [192.0.2.1]: Remote host closed connection in response to HELO x (EHLO response was: 550 You are banned)"
        )
        #expect(deferral.observedOutcome == .deferred && deferral.reply?.code == 550)
    }

    @Test func labelledCodesAndRepliesQuotedInProse() throws {
        let labelled = try read(#""Invalid Address, ERROR_CODE :550, ERROR_CODE :5.1.1 The account does not exist.""#)
        #expect(labelled.reply?.code == 550 && labelled.reply?.enhanced == "5.1.1")
        #expect(labelled.reply?.text == "The account does not exist.")
        let quoted = try read(#"I will receive an error letter, which says "554 Message not allowed - [299]"."#)
        #expect(quoted.reply?.code == 554 && quoted.reply?.text == "Message not allowed - [299]")
        // A quoted success is no refusal.
        #expect(throws: UnrecognizedEvidence.self) { try read(#"the log printed "250 2.0.0 OK" and nothing else"#) }
    }

    /// `[` and `]` are YAML flow indicators: a redacted recipient is quoted in `rcpt_to: [...]`.
    @Test func aRedactedRecipientIsQuotedInTheFlowSequence() throws {
        let input =
            "<a[...]r@example.test>: host mx.example.test[192.0.2.50] said: 554 5.2.0 no (in reply to end of DATA command)"
        let repro = ReproductionWriter.reproduce(try read(input), input: input)
        #expect(repro.yaml.contains(#"rcpt_to: ["a[...]r@example.test"]"#))
    }

    @Test func anRFCSectionOnAWrappedLineIsNoEnhancedCode() throws {
        let evidence = try read("550 inconsistent or no DNS PTR record for 192.0.2.1 (see RFC\n1912 2.1)")
        #expect(evidence.reply?.enhanced == nil)
        #expect(evidence.clientAddress == IPAddress("192.0.2.1"))
    }
}
