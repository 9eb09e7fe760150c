import Complaint
import DNSCore
import Foundation
import SMTPProtocol
import RunnerTestKit
import Scenario
import Testing

/// The readers on the forms issue #33 names, each built for the general case: the stage wherever
/// its words sit, the family from any address in any wrapping, every two-sided transcript, and
/// receiver-side logs with or without codes. The inputs are short and made up (documentation
/// addresses); the real ones are in `Corpus/`.
@Suite struct DialectTests {
    func read(_ text: String) throws -> Evidence {
        switch EvidenceReader.read(text) {
        case .success(let evidence): return evidence
        case .failure(let error): throw error
        }
    }

    // MARK: Stage, wherever it sits

    @Test(arguments: [
        (
            "host mx.example.test[192.0.2.10] said: 550 5.1.1 no such user (in reply to RCPT TO\n    command)",
            SMTPStage.rcpt
        ),
        ("host mx.example.test[192.0.2.10] said: 550 5.7.1 spam (in reply to end of\n    DATA command)", .data),
        ("SMTP error from remote mail server after MAIL FROM:<a@sender.test> SIZE=1234:\n    550 5.7.1 no", .mail),
        ("SMTP error from remote mail server after pipelined RCPT TO:<b@example.test>: 550 5.1.1 no", .rcpt),
        ("SMTP error from remote mail server after initial connection:\n    554 go away", .greeting),
        ("Remote host said: 554 5.7.9 Message not accepted for policy reasons [BODY]", .data),
        ("Remote host said: 550 5.1.1 <b@example.test>... User unknown [RCPT_TO]", .rcpt),
        ("Connected to 192.0.2.10 but sender was rejected.\nRemote host said: 553 sorry", .mail),
        ("192.0.2.10 does not like recipient.\nRemote host said: 550 5.1.1 no mailbox", .rcpt),
        ("SMTP ERROR: MAIL FROM command failed: 550 5.7.1 not allowed", .mail),
        ("Expected response code \"250/251/252\" but got code \"550\", with message \"550 5.1.1 unknown\"", .rcpt),
        ("Expected response code 354 but got code \"554\", with message \"554 5.7.1 no\"", .data),
        ("smtplib.SMTPSenderRefused: (553, b'5.7.1 Sender address rejected', 'a@sender.test')", .mail),
        (
            "SMTP Error (550): Failed to add recipient \"b@example.test\" (5.1.1 <b@example.test>: Recipient address rejected).",
            .rcpt
        ),
        (
            "msmtp: envelope from address a@sender.test not accepted by the server\nmsmtp: server message: 553 5.7.1 no",
            .mail
        ),
        (
            "refused to talk\nto me: 554 5.7.1 Service unavailable; Client host [192.0.2.25] blocked using bl.example.test",
            .greeting
        ),
        (
            "host mx.example.test[192.0.2.10] refused to talk to me: 501 5.5.2 <x>: Helo command rejected: Invalid name",
            .helo
        ),
    ])
    func theStageFromTheWordsOfEveryMTA(_ input: String, _ stage: SMTPStage) throws {
        let evidence = try read(input)
        #expect(evidence.stage == stage, "\(input)")
        #expect(evidence.reply != nil)
    }

    @Test func theNearestPhraseDecidesInABounceForTwoRecipients() throws {
        let bounce = """
            <a@example.test>: host mx.example.test[192.0.2.10] said: 450 4.2.0 greylisted (in reply to RCPT
                TO command)

            <b@example.test>: host mx.example.test[192.0.2.10] said: 552 5.2.2 over quota (in reply to end
                of DATA command)
            """
        let evidence = try read(bounce)
        #expect(evidence.reply?.code == 450)
        #expect(evidence.stage == .rcpt)
    }

    // MARK: Family, from any address in any wrapping

    @Test(arguments: [
        ("host mx.example.test[2001:db8::10]:25 said: 550 5.7.1 no (in reply to RCPT TO command)", AddressFamily.ipv6),
        (
            "host [mx.example.test](http://mx.example.test)[2001:db8::10] said: 550 5.7.1 no (in reply to RCPT TO command)",
            .ipv6
        ),
        ("Remote-MTA: dns; 2001:db8::10\nDiagnostic-Code: smtp; 550 5.7.1 no", .ipv6),
        (
            "Remote-MTA: dns; mx.example.test. (2001:db8::10, the server for the domain example.test.)\nDiagnostic-Code: smtp; 550 5.7.1 no",
            .ipv6
        ),
        ("Remote-MTA: dns; mx.example.test [IPv6:2001:db8::10]\nDiagnostic-Code: smtp; 550 5.7.1 no", .ipv6),
        (
            "** b@example.test R=dnslookup T=remote_smtp H=mx.example.test [2001:db8::10]:25 X=TLS1.3: SMTP error from remote mail server after RCPT TO:<b@example.test>: 550 5.1.1 no",
            .ipv6
        ),
        ("550 5.7.25 Client host rejected: cannot find your hostname, [IPv6:2001:db8:5::25]", .ipv6),
        ("554 5.7.1 <unknown[203.0.113.7]:52491>: Client host rejected: Access denied", .ipv4),
        ("Trying 2001:db8::10...\nConnected to mx.example.test.\nEscape character is '^]'.\n554 go away", .ipv6),
    ])
    func theFamilyFromAnyAddress(_ input: String, _ family: AddressFamily) throws {
        let evidence = try read(input)
        let address = try #require(evidence.clientAddress ?? evidence.receiverAddress, "\(input)")
        #expect(address.family == family, "\(input)")
    }

    @Test func theClientWinsOverTheMXAndPlaceholdersAreNoAddresses() throws {
        // The receiver saw an IPv4 client although the MX was reached over IPv6 (a relay between).
        let evidence = try read(
            "Remote-MTA: dns; mx.example.test [2001:db8::10]\nDiagnostic-Code: smtp; 550 5.7.23 SPF fail; ip=192.0.2.18"
        )
        #expect(evidence.clientAddress == IPAddress("192.0.2.18"))
        #expect(evidence.receiverAddress == IPAddress("2001:db8::10"))
        let masked = try read(
            "host mx.example.test[192.XX.XX.XX] said: 550 5.7.1 Client host [xxx.xxx.xxx.xxx] blocked (in reply to RCPT TO command)"
        )
        #expect(masked.clientAddress == nil && masked.receiverAddress == nil)
    }

    // MARK: Two-sided transcripts of any marking

    @Test(arguments: [
        // An SMTP class's log.
        "Got: 220 mx.example.test ESMTP\nSent: EHLO client.test\nGot: 250 mx.example.test\nSent: MAIL FROM:<a@sender.test>\nGot: 250 ok\nSent: RCPT TO:<b@example.test>\nGot: 550 5.1.1 no such user",
        // MDaemon's receiving log: the server's lines are -->.
        "12:00:00: 03: [1] --> 220 mx.example.test ESMTP\n12:00:00: 02: [1] <-- EHLO client.test\n12:00:00: 03: [1] --> 250 ok\n12:00:00: 02: [1] <-- MAIL FROM:<a@sender.test>\n12:00:00: 03: [1] --> 250 ok\n12:00:00: 02: [1] <-- RCPT TO:<b@example.test>\n12:00:00: 03: [1] --> 550 5.1.1 no such user",
        // Ruby's Net::SMTP debug output: `<-` is what it wrote.
        "-> \"220 mx.example.test ESMTP\\r\\n\"\n<- \"EHLO client.test\\r\\n\"\n-> \"250 ok\\r\\n\"\n<- \"MAIL FROM:<a@sender.test>\\r\\n\"\n-> \"250 ok\\r\\n\"\n<- \"RCPT TO:<b@example.test>\\r\\n\"\n-> \"550 5.1.1 no such user\\r\\n\"",
        // Python smtplib's debug output.
        "send: 'ehlo client.test\\r\\n'\nreply: b'250 mx.example.test\\r\\n'\nsend: 'mail FROM:<a@sender.test>\\r\\n'\nreply: b'250 ok\\r\\n'\nsend: 'rcpt TO:<b@example.test>\\r\\n'\nreply: b'550 5.1.1 no such user\\r\\n'\nreply: retcode (550); Msg: b'5.1.1 no such user'",
        // curl -v.
        "< 220 mx.example.test ESMTP\n> EHLO client.test\n< 250 ok\n> MAIL FROM:<a@sender.test>\n< 250 ok\n> RCPT TO:<b@example.test>\n< 550 5.1.1 no such user",
        // Exchange's SMTP send protocol log: the remote side answers.
        "2024-01-01T00:00:00.000Z,Out,08D1,0,192.0.2.50:1234,192.0.2.10:25,<,220 mx.example.test ESMTP,\n2024-01-01T00:00:00.001Z,Out,08D1,1,192.0.2.50:1234,192.0.2.10:25,>,EHLO client.test,\n2024-01-01T00:00:00.002Z,Out,08D1,2,192.0.2.50:1234,192.0.2.10:25,<,250 ok,\n2024-01-01T00:00:00.003Z,Out,08D1,3,192.0.2.50:1234,192.0.2.10:25,>,MAIL FROM:<a@sender.test>,\n2024-01-01T00:00:00.004Z,Out,08D1,4,192.0.2.50:1234,192.0.2.10:25,<,250 ok,\n2024-01-01T00:00:00.005Z,Out,08D1,5,192.0.2.50:1234,192.0.2.10:25,>,RCPT TO:<b@example.test>,\n2024-01-01T00:00:00.006Z,Out,08D1,6,192.0.2.50:1234,192.0.2.10:25,<,550 5.1.1 no such user,",
    ])
    func everyTwoSidedTranscriptReadsTheSame(_ input: String) throws {
        let evidence = try read(input)
        #expect(evidence.source == .transcript)
        #expect(evidence.reply?.code == 550 && evidence.reply?.enhanced == "5.1.1")
        #expect(evidence.stage == .rcpt)
        #expect(evidence.rcptTo == ["b@example.test"])
        #expect(evidence.mailFrom == "a@sender.test")
    }

    @Test func aDesktopClientsREADAndWROTEBlocks() throws {
        let log = """
            INITIATING CONNECTION Dec 31 11:39:39.264 host:smtp.example.test -- port:587 -- socket:0x0 -- thread:0x6180
            CONNECTED Dec 31 11:39:39.375 [kCFStreamSocketSecurityLevelNone] -- host:smtp.example.test -- port:587 -- socket:0x61 -- thread:0x6180
            READ Dec 31 11:39:39.553 [kCFStreamSocketSecurityLevelNone] -- host:smtp.example.test -- port:587 -- socket:0x61 -- thread:0x6180
            220 smtp.example.test ESMTP

            WROTE Dec 31 11:39:39.554 [kCFStreamSocketSecurityLevelNone] -- host:smtp.example.test -- port:587 -- socket:0x61 -- thread:0x6180
            EHLO [192.0.2.7]

            READ Dec 31 11:39:39.700 [kCFStreamSocketSecurityLevelNone] -- host:smtp.example.test -- port:587 -- socket:0x61 -- thread:0x6180
            501 5.5.4 Invalid EHLO argument

            WROTE Dec 31 11:39:39.701 [kCFStreamSocketSecurityLevelNone] -- host:smtp.example.test -- port:587 -- socket:0x61 -- thread:0x6180
            HELO [192.0.2.7]

            READ Dec 31 11:39:39.800 [kCFStreamSocketSecurityLevelNone] -- host:smtp.example.test -- port:587 -- socket:0x61 -- thread:0x6180
            501 5.5.4 Invalid HELO argument
            """
        let evidence = try read(log)
        #expect(evidence.source == .transcript)
        #expect(evidence.stage == .helo)
        #expect(
            evidence.reply?.code == 501 && evidence.reply?.text == "Invalid HELO argument",
            "the reply to HELO decides, after EHLO was refused")
        #expect(evidence.receiverName == "smtp.example.test")
    }

    @Test func anExcerptOfAPipelinedSessionGivesTheSurplusRepliesToEarlierCommands() throws {
        // sendmail's DSN shows the last command sent and every reply read after it.
        let excerpt = """
               ----- Transcript of session follows -----
            ... while talking to mx.example.test.:
            >>> DATA
            <<< 550 5.7.1 <b@example.test>... Relaying denied
            <<< 503 5.0.0 Need RCPT (recipient)
            """
        let evidence = try read(excerpt)
        #expect(evidence.reply?.code == 550 && evidence.stage == .rcpt)
        let whole =
            "<<< 220 mx.example.test\n>>> EHLO c.test\n<<< 250 ok\n>>> MAIL From:<a@sender.test>\n>>> RCPT To:<b@example.test>\n"
            + ">>> DATA\n<<< 250 ok\n<<< 550 5.1.1 no\n<<< 554 5.5.1 no valid recipients"
        let full = try read(whole)
        #expect(full.reply?.code == 550 && full.stage == .rcpt, "all commands shown: each reply to its own")
    }

    @Test func aRefusedEHLOThatHELOGetsPastDecidesNothing() throws {
        let transcript =
            "S: 220 mx.example.test\nC: EHLO client.test\nS: 502 5.5.1 EHLO not implemented\nC: HELO client.test\nS: 250 mx.example.test\nC: MAIL FROM:<a@sender.test>\nS: 250 ok\nC: RCPT TO:<b@example.test>\nS: 550 5.7.1 rejected"
        let evidence = try read(transcript)
        #expect(evidence.stage == .rcpt && evidence.reply?.code == 550)
    }

    @Test func proseAboutAReplyIsNoDialogue() throws {
        // `Got: 501` in a sentence must not be taken for the server's first line.
        let text =
            "There was an unexpected problem: Unexpected return code - Expected: 250, Got: 501 | 501 5.5.2 bad\n\nGot: 220 mx.example.test ESMTP\nSent: EHLO x.test\nGot: 250 ok\nSent: MAIL FROM:<a@sender.test>\nGot: 501 5.5.2 bad"
        let evidence = try read(text)
        #expect(evidence.stage == .mail)
    }

    // MARK: Receiving sides' logs, with or without codes

    @Test func milterRejectAfterTheMessageHasNoCode() throws {
        let spam = try read(
            "postfix/cleanup[1]: 4D6C: milter-reject: END-OF-MESSAGE from unknown[192.0.2.7]: 5.7.1 Spam message rejected; from=<a@sender.test> to=<b@example.test> proto=ESMTP helo=<mail.sender.test>"
        )
        #expect(spam.reply == SMTPReply(code: 554, enhanced: "5.7.1", "Spam message rejected"))
        #expect(spam.stage == .data && spam.clientAddress == IPAddress("192.0.2.7") && spam.helo == "mail.sender.test")
        let reply = try #require(spam.provenance.first { $0.field == .reply })
        #expect(reply.inferred && reply.source.contains("without its code"))
        let tempfail = try read(
            "cleanup[2]: 4D6D: milter-reject: END-OF-MESSAGE from unknown[2001:db8::7]: 4.7.1 Greylisted")
        #expect(tempfail.reply?.code == 451 && tempfail.stage == .data && tempfail.clientAddress?.family == .ipv6)
        let rcpt = try read(
            "NOQUEUE: milter-reject: RCPT from unknown[192.0.2.7]: 451 4.7.1 Service unavailable - try again later; from=<a@sender.test> to=<b@example.test> proto=ESMTP helo=<x>"
        )
        #expect(rcpt.reply?.code == 451 && rcpt.stage == .rcpt)
    }

    @Test func headerChecksRejectIsTheEndOfTheMessage() throws {
        let evidence = try read(
            "cleanup[3]: 5E6F: reject: header Subject: win now from mail.sender.test[192.0.2.7]; from=<a@sender.test> to=<b@example.test> proto=ESMTP helo=<mail.sender.test>: 5.7.1 message content rejected"
        )
        #expect(evidence.reply == SMTPReply(code: 550, enhanced: "5.7.1", "message content rejected"))
        #expect(evidence.stage == .data && evidence.mailFrom == "a@sender.test")
    }

    @Test func postscreensCommaSeparatedTail() throws {
        let evidence = try read(
            "postscreen[9]: NOQUEUE: reject: RCPT from [192.0.2.7]:40000: 550 5.7.1 Service unavailable; client [192.0.2.7] blocked using bl.example.test; from=<a@sender.test>, to=<b@example.test>, proto=ESMTP, helo=<mail.sender.test>"
        )
        #expect(evidence.reply?.text == "Service unavailable; client [192.0.2.7] blocked using bl.example.test")
        #expect(evidence.helo == "mail.sender.test" && evidence.stage == .rcpt)
    }

    @Test func sendmailRulesetsAndMilter() throws {
        let rcpt = try read(
            "sm-mta[1]: 13O9: ruleset=check_rcpt, arg1=<b@example.test>, relay=host.sender.test [192.0.2.7] (may be forged), reject=550 5.7.1 <b@example.test>... Relaying denied"
        )
        #expect(rcpt.source == .sendmailReject && rcpt.stage == .rcpt && rcpt.clientAddress == IPAddress("192.0.2.7"))
        #expect(rcpt.rcptTo == ["b@example.test"] && rcpt.reply?.code == 550)
        let mail = try read(
            "sm-mta[1]: 13O9: ruleset=check_mail, arg1=<a@sender.test>, relay=[2001:db8::7], reject=553 5.1.8 <a@sender.test>... Domain of sender address a@sender.test does not exist"
        )
        #expect(mail.stage == .mail && mail.mailFrom == "a@sender.test" && mail.clientAddress?.family == .ipv6)
        let milter = try read("sendmail[2]: 14P0: Milter: data, reject=554 5.7.1 Rejected by content filter")
        #expect(milter.stage == .data && milter.reply?.code == 554)
    }

    @Test func eximReceivingLinesOfEachStage() throws {
        let helo = try read(
            "2024-01-01 00:00:00 H=(bad) [192.0.2.7] rejected EHLO or HELO bad: syntactically invalid argument(s)")
        #expect(helo.stage == .helo && helo.reply?.code == 501, "Exim's own HELO check answers 501")
        let mail = try read(
            "2024-01-01 00:00:00 H=(x.test) [2001:db8::7] F=<a@sender.test> rejected MAIL <a@sender.test>: Sender verify failed"
        )
        #expect(mail.stage == .mail && mail.clientAddress?.family == .ipv6)
        let data = try read(
            "2024-01-01 00:00:00 1abc-000001-AB H=mail.sender.test [192.0.2.7] F=<a@sender.test> rejected after DATA: spam"
        )
        #expect(data.stage == .data)
    }

    // MARK: Client libraries that drop or move the code

    @Test func dotNetAndMailKitStatusNames() throws {
        let dotnet = try read(
            "System.Net.Mail.SmtpFailedRecipientException: Mailbox unavailable. The server response was: 5.7.1 Relaying denied"
        )
        #expect(dotnet.reply == SMTPReply(code: 550, enhanced: "5.7.1", "Relaying denied") && dotnet.stage == .rcpt)
        let transaction = try read(
            "System.Net.Mail.SmtpException: Transaction failed. The server response was: 5.7.1 spam\n   at System.Net.Mail.DataStopCommand.CheckResponse(SmtpStatusCode statusCode, String serverResponse)"
        )
        #expect(transaction.reply?.code == 554 && transaction.stage == .data)
        let mailkit = try read(
            "MailKit.Net.Smtp.SmtpCommandException: 5.7.1 Sender rejected\n  ErrorCode: SenderNotAccepted\n  StatusCode: MailboxUnavailable"
        )
        #expect(mailkit.reply?.code == 550 && mailkit.reply?.enhanced == "5.7.1" && mailkit.stage == .mail)
    }

    // MARK: Desktop mail clients' dialogs

    static let thunderbird = "An error occurred while sending mail. The mail server responded: "

    @Test(
        arguments: [
            // The code from the enhanced code's class and the stage the dialog's words name.
            (
                "5.7.1 <b@example.test>: not allowed. Please check the message recipient \"b@example.test\" and try again.",
                550, "5.7.1", SMTPStage.rcpt
            ),
            (
                "4.7.1 try later. Please check the message recipient \"b@example.test\" and try again.", 450, "4.7.1",
                .rcpt
            ),
            ("5.7.1 spam. Please check the message and try again.", 554, "5.7.1", .data),
            ("4.3.2 busy. Please check the message and try again.", 451, "4.3.2", .data),
            (
                "5.7.1 no. Please verify that your email address is correct in your account settings and try again.",
                550, "5.7.1", .mail
            ),
            // No enhanced code either: a permanent refusal, said as assumed.
            ("go away. Please check the message recipient \"b@example.test\" and try again.", 550, nil, .rcpt),
            // A text whose code and stage an MTA fixes, over the dialog's words (Thunderbird's
            // `verify your email address` follows some refused recipients).
            (
                "5.7.1 <b@example.test>: Relay access denied. Please verify that your email address is correct in your account settings and try again.",
                554, "5.7.1", .rcpt
            ),
            (
                "sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1). Please check the message recipient \"b@example.test\" and try again.",
                553, "5.7.1", .rcpt
            ),
            (
                "Requested mail action not taken: mailbox unavailable. Please check the message recipient \"b@example.test\" and try again.",
                450, nil, .rcpt
            ),
        ] as [(String, Int, String?, SMTPStage)])
    func thunderbirdShowsTheReplyWithoutItsCode(_ said: String, _ code: Int, _ enhanced: String?, _ stage: SMTPStage)
        throws
    {
        let evidence = try read(Self.thunderbird + said)
        #expect(evidence.source == .mailClient)
        #expect(evidence.reply?.code == code && evidence.reply?.enhanced == enhanced, "\(said)")
        #expect(evidence.stage == stage, "\(said)")
        #expect(
            evidence.reply?.text.hasPrefix("Please") == false && evidence.reply?.text.hasSuffix(".") == false,
            "the dialog's own words are no part of it")
        let provenance = try #require(evidence.provenance.first { $0.field == .reply })
        #expect(provenance.inferred, "the code is inferred and the report says so")
        if enhanced == nil, code == 550 { #expect(provenance.source.contains("assumed")) }
        #expect(evidence.rcptTo.isEmpty || evidence.rcptTo == ["b@example.test"])
    }

    @Test func aDialogWithTheCodeKeepsIt() throws {
        let evidence = try read(
            Self.thunderbird
                + "550 5.1.1 <b@example.test>: unknown. Please check the message recipient \"b@example.test\" and try again."
        )
        #expect(
            evidence.reply == SMTPReply(code: 550, enhanced: "5.1.1", "<b@example.test>: unknown")
                && evidence.stage == .rcpt)
        #expect(evidence.provenance.first { $0.field == .reply }?.inferred == false)
    }

    @Test func outlooksServerResponseAndErrorNumber() throws {
        let refused =
            "The rejected e-mail address was 'b@example.test'. Subject 'x', Account: 'a', Server: 'mail.example.test', "
            + "Protocol: SMTP, Server Response: '553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)', Port: 25, "
            + "Secure(SSL): No, Server Error: 553, Error Number: 0x800CCC79"
        let evidence = try read(refused)
        #expect(
            evidence.reply?.code == 553 && evidence.reply?.text.hasSuffix("rcpthosts (#5.7.1)") == true,
            "the apostrophe in isn't ends nothing")
        #expect(evidence.stage == .rcpt && evidence.rcptTo == ["b@example.test"])
        let sender = try read(
            "Protocol: SMTP, Server Response: '550 5.7.1 go away', Port: 25, Secure(SSL): No, Server Error: 550, Error Number: 0x800CCC78"
        )
        #expect(sender.stage == .mail)
    }

    @Test func aSuccessInsideWordsIsNoDialog() throws {
        let text =
            "The mail server responded: 250 2.0.0 Ok: queued as 1234\n\nhost mx.example.test[192.0.2.10] said: 550 5.1.1 no (in reply to RCPT TO command)"
        let evidence = try read(text)
        #expect(evidence.source != .mailClient)
        #expect(evidence.reply?.code == 550 && evidence.stage == .rcpt)
    }

    @Test func forumAndWikiMarkupIsNoPartOfTheReply() throws {
        let evidence = try read(
            "> " + Self.thunderbird
                + "4.3.0 Error: queue file write error.\n{.is-info}\n\n[color=blue]Please[/color] help, [email]a@sender.test[/email]"
        )
        #expect(
            evidence.reply == SMTPReply(code: 451, enhanced: "4.3.0", "Error: queue file write error")
                && evidence.stage == .data)
    }

    @Test func phpMailersAdditionalSMTPInfoIsTheEnhancedCode() throws {
        let evidence = try read(
            "SMTP server error: DATA END command failed Detail: Message rejected as spam SMTP code: 550 Additional SMTP info: 5.7.1"
        )
        #expect(
            evidence.reply == SMTPReply(code: 550, enhanced: "5.7.1", "Message rejected as spam")
                && evidence.stage == .data)
    }

    @Test func sendingServicesEventsInJSON() throws {
        let mailgun =
            #"{"event": "failed", "delivery-status": {"code": 550, "message": "5.7.1 blocked", "description": ""}}"#
        #expect(try read(mailgun).reply == SMTPReply(code: 550, enhanced: "5.7.1", "blocked"))
        let ses = """
            {
              "bouncedRecipients": [
                {
                  "status": "5.7.1",
                  "diagnosticCode": "smtp; 550 5.7.1 <b@example.test>: Recipient address rejected: Access denied"
                }
              ],
              "remoteMtaIp": "2001:db8::10"
            }
            """
        let evidence = try read(ses)
        #expect(
            evidence.reply?.text == "<b@example.test>: Recipient address rejected: Access denied",
            "the JSON string ends at its quote")
        #expect(evidence.receiverAddress == IPAddress("2001:db8::10") && evidence.clientAddress == nil)
    }

    @Test func exchangesWrappersAroundTheReply() throws {
        let exchange2007 = try read(
            "Diagnostic information for administrators:\n\nb@example.test\n#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##"
        )
        #expect(exchange2007.reply?.text == "RESOLVER.ADR.RecipNotFound; not found")
        let exchange2003 = try read(
            "b@example.test on 3/3/2010 1:23 PM\n      <mail.sender.test #5.5.0 smtp;550 5.7.1 <b@example.test>: no>")
        #expect(exchange2003.reply?.text == "<b@example.test>: no")
        // Exchange 2003's own reply around the remote's: the remote's is read, without enhanced code.
        let nested = try read(
            "Remote Server returned '554 5.0.0 <mx.example.test #5.0.0 smtp; 554 Sending address not accepted>'")
        #expect(nested.reply == SMTPReply(code: 554, enhanced: nil, "Sending address not accepted"))
        // A notice's `#5.1.1 SMTP; 550 ...`: the reply after the diagnostic's type.
        #expect(
            try read("#5.1.1 SMTP; 550 sorry, no mailbox here").reply
                == SMTPReply(code: 550, enhanced: nil, "sorry, no mailbox here"))
        let online = try read("Remote Server at mx.example.test (2001:db8::10) returned '550 5.7.1 go away'")
        #expect(online.receiverAddress == IPAddress("2001:db8::10"))
    }

    @Test func qmailsLoggedReportIsOneWord() throws {
        let log =
            "@4000 delivery 1: success: 192.0.2.9_accepted_message./Remote_host_said:_250_ok/\n"
            + "@4000 delivery 2: deferral: 192.0.2.10_does_not_like_recipient./Remote_host_said:_451_4.7.1_greylisted,_see_http://x.test/why/G\n"
            + "iving_up_on_192.0.2.10./"
        let evidence = try read(log)
        #expect(evidence.reply == SMTPReply(code: 451, enhanced: "4.7.1", "greylisted, see http://x.test/why"))
        #expect(
            evidence.stage == .rcpt && evidence.observedOutcome == .deferred
                && evidence.receiverAddress == IPAddress("192.0.2.10"))
    }

    // MARK: Whole messages and mailboxes

    static let dsnBody = """
        Reporting-MTA: dns; mail.sender.test

        Final-Recipient: rfc822; b@example.test
        Action: failed
        Status: 5.7.1
        Remote-MTA: dns; mx.example.test [2001:db8::10]
        Diagnostic-Code: smtp; 550 5.7.1 <b@example.test>: Recipient address rejected: Access denied
        """

    static func bounce(boundary: String, notice: String, encoding: String) -> String {
        """
        Return-Path: <>
        From: MAILER-DAEMON@mail.sender.test (Mail Delivery System)
        To: a@sender.test
        Subject: Undelivered Mail Returned to Sender
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status;
        \tboundary="\(boundary)"

        This is a MIME-encapsulated message.

        --\(boundary)
        Content-Description: Notification
        Content-Type: text/plain; charset=utf-8
        Content-Transfer-Encoding: \(encoding)

        \(notice)
        --\(boundary)
        Content-Description: Delivery report
        Content-Type: message/delivery-status

        \(dsnBody)

        --\(boundary)
        Content-Description: Undelivered Message
        Content-Type: message/rfc822

        Return-Path: <a@sender.test>
        From: Alice <a@sender.test>
        To: b@example.test
        Subject: hello

        A body that mentions 421 4.7.0 and (in reply to MAIL FROM command), which is not the bounce.
        --\(boundary)--
        """
    }

    static let notice =
        "<b@example.test>: host mx.example.test[2001:db8::10] said: 550 5.7.1 <b@example.test>:\n    Recipient address rejected: Access denied (in reply to RCPT TO command)\n"

    @Test func anEMLWithQuotedPrintableAndBase64Parts() throws {
        let qp = Self.notice.replacingOccurrences(of: "Access denied (in reply", with: "Access=20denied (in=\n reply")
        let base64 = Data(Self.notice.utf8).base64EncodedString(options: .lineLength76Characters).replacingOccurrences(
            of: "\r\n", with: "\n")
        for (encoding, notice) in [("quoted-printable", qp), ("base64", base64), ("8bit", Self.notice)] {
            let evidence = try read(
                Self.bounce(boundary: "5B4C.1572/mail.sender.test", notice: notice, encoding: encoding))
            #expect(evidence.reply?.code == 550 && evidence.reply?.enhanced == "5.7.1", "\(encoding)")
            #expect(evidence.stage == .rcpt, "\(encoding): the returned body's words are not read")
            #expect(evidence.receiverAddress == IPAddress("2001:db8::10"))
            #expect(evidence.mailFrom == "a@sender.test", "the returned message's Return-Path")
        }
    }

    @Test func aBounceForwardedAsAnAttachmentIsTheOneRead() throws {
        let attached = Self.bounce(boundary: "inner", notice: Self.notice, encoding: "7bit")
        let forward = """
            From: Alice <a@sender.test>
            To: help@sender.test
            Subject: Fwd: Undelivered Mail Returned to Sender
            MIME-Version: 1.0
            Content-Type: multipart/mixed; boundary="outer"

            --outer
            Content-Type: text/plain

            Why does this bounce? I also saw 421 4.7.0 yesterday.
            --outer
            Content-Type: message/rfc822

            \(attached)
            --outer--
            """
        let evidence = try read(forward)
        #expect(evidence.source == .deliveryStatus)
        #expect(
            evidence.reply?.code == 550 && evidence.stage == .rcpt
                && evidence.receiverAddress == IPAddress("2001:db8::10"))
    }

    @Test func partsFoundWhenTheHeaderNamesAnotherBoundary() throws {
        let message = Self.bounce(boundary: "real", notice: Self.notice, encoding: "7bit")
            .replacingOccurrences(of: "boundary=\"real\"", with: "boundary=\"rewritten\"")
        let evidence = try read(message)
        #expect(evidence.reply?.code == 550 && evidence.stage == .rcpt)
    }

    @Test func aGatewaysNoticeAroundTheMTAsBounce() throws {
        let inner =
            "From: a@sender.test\nTo: b@example.test\nSubject: hello\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n\n"
            + "----- The following addresses had permanent fatal errors -----\n<b@example.test>\n\n"
            + "----- Transcript of session follows -----\n... while talking to mx.example.test.:\n"
            + ">>> RCPT To:<b@example.test>\n<<< 550 5.1.1 <b@example.test>... Invalid recipient\n"
        let notice =
            "From: gateway@example.test\nSubject: Mail could not be delivered\nMIME-Version: 1.0\n"
            + "Content-Type: multipart/mixed; boundary=\"g\"\n\n--g\nContent-Type: text/plain\n\n"
            + "The following mail could not be delivered.\n--g\nContent-Type: message/rfc822\n\n" + inner + "--g--\n"
        let evidence = try read(notice)
        #expect(
            evidence.reply?.code == 550 && evidence.stage == .rcpt,
            "read from the attached message's text, as nothing else tells")
    }

    @Test func theReturnedMessagesBodyIsNotRead() throws {
        let bounce = """
            A message that you sent could not be delivered to one or more of its
            recipients. This is a permanent error. The following address(es) failed:

              b@example.test
                SMTP error from remote mail server after MAIL FROM:<a@sender.test> SIZE=1543:
                host mx.example.test [192.0.2.20]: 550 5.7.0 use your ISP's server

            ------ This is a copy of the message, including all the headers. ------

            Return-path: <a@sender.test>
            Subject: how I test

            data
            354 Enter mail, end with "." on a line by itself
            """
        let evidence = try read(bounce)
        #expect(evidence.reply?.code == 550 && evidence.stage == .mail && evidence.mailFrom == "a@sender.test")
    }

    @Test func aNoticeThatListsTheCommandAfterTheReplyIsNoDialogue() throws {
        let james =
            "Error message below:\n550 - Requested action not taken: no such user here\n\nMessage details:\n"
            + "  MAIL FROM: a@sender.test\n  RCPT TO: b@example.test\n"
        let evidence = try read(james)
        #expect(evidence.source == .bounceText && evidence.stage != .greeting)
        #expect(evidence.reply?.text == "Requested action not taken: no such user here")
    }

    @Test func aStatusWithoutAnSMTPReplyStillWritesAScenarioThatLoads() throws {
        let dsn =
            "Reporting-MTA: dns; mail.sender.test\n\nFinal-Recipient: rfc822; b@example.test\nAction: failed\nStatus: 5.1.1\n"
        let repro = ReproductionWriter.reproduce(try read(dsn), input: dsn)
        let scenario = try #require(
            try ScenarioLoader(kinds: builtinKinds).load(yaml: repro.yaml, file: "/tmp/status-only.yaml").first)
        #expect(scenario.expect.code == CodePattern(code: 550))
        #expect(repro.report.contains { $0.contains("receiver.policy.reply.text") && $0.contains("ASSUMED") })
    }

    @Test func aStatusWhoseDiagnosticIsNoSMTPReplyKeepsItsWords() throws {
        let dsn =
            "Reporting-MTA: dns; notes.example.test\n\nFinal-Recipient: rfc822; b@example.test\nAction: failed\n"
            + "Status: 5.0.0\nDiagnostic-Code: X-Notes; User b (b@example.test) not listed in public Name & Address Book\n"
        let evidence = try read(dsn)
        #expect(evidence.reply?.code == 550 && evidence.reply?.enhanced == "5.0.0")
        #expect(evidence.reply?.text == "User b (b@example.test) not listed in public Name & Address Book")
    }

    @Test func aReplyAfterTheRecipientItRefused() throws {
        let bounce =
            "This message was created automatically by mail delivery software.\n\n"
            + "A message that you sent could not be delivered to one or more of its recipients.\n\n"
            + "<b@example.test>: 550 mailbox unavailable\n"
        let evidence = try read(bounce)
        #expect(evidence.reply?.code == 550 && evidence.reply?.text == "mailbox unavailable")
    }

    @Test func anMboxHoldsOneBouncePerMessage() throws {
        let first =
            "From MAILER-DAEMON Mon Jan  1 00:00:00 2024\n"
            + Self.bounce(boundary: "b1", notice: Self.notice, encoding: "7bit")
        let second =
            "From MAILER-DAEMON Mon Jan  1 00:01:00 2024\nFrom: MAILER-DAEMON@mail.sender.test\nTo: a@sender.test\nSubject: failure notice\nDate: Mon, 1 Jan 2024 00:01:00 +0000\n\n>From the qmail-send program:\n<c@example.test>:\n192.0.2.10 does not like recipient.\nRemote host said: 553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)\n"
        let messages = Mailbox.messages(first + "\n" + second)
        #expect(messages.count == 2)
        #expect(try read(messages[0]).stage == .rcpt)
        let qmail = try read(messages[1])
        #expect(qmail.reply?.code == 553 && qmail.stage == .rcpt && qmail.receiverAddress == IPAddress("192.0.2.10"))
        #expect(messages[1].contains("\nFrom the qmail-send program:"), "the >From escape is undone")
        #expect(Mailbox.summary(messages[1]).hasPrefix("failure notice"))
        #expect(Mailbox.messages("550 5.7.1 no").count == 1, "a text that is no mbox is one message")
    }

    // MARK: Unseen forms (corpus 179 on)

    @Test func aLibrarysExceptionMessageIsNoLogLineOfADialogue() throws {
        // `reply:` after an exception's name is the library's words, not a transcript's server marker.
        let trace =
            "Caused by: org.example.smtp.Transport$NegativeSmtpReplyException: Negative SMTP reply: 550 5.7.1 Not allowed\n"
            + "at org.example.smtp.Transport.checkLine(Transport.java:649)\n"
        let evidence = try read(trace)
        #expect(evidence.source != .transcript)
        #expect(evidence.stage != .greeting)
        #expect(
            evidence.reply?.code == 550 && evidence.reply?.enhanced == "5.7.1" && evidence.reply?.text == "Not allowed")
    }

    @Test func anExceptionsMessageIntroducesAReplyWithoutEnhancedCode() throws {
        let evidence = try read(
            "javax.mail.SendFailedException: Invalid Addresses;\n  nested exception is:\n"
                + "\tcom.sun.mail.smtp.SMTPAddressFailedException: 550  no such user\n")
        #expect(
            evidence.reply?.code == 550 && evidence.reply?.enhanced == nil && evidence.reply?.text == "no such user")
        #expect(evidence.stage == .rcpt)
    }

    @Test func angleMarkersBehindALogPrefix() throws {
        let log =
            "[06:06:29.308][e5337303] SMTP[DATA]: > RCPT TO:<b@example.test>\\r\\n\n"
            + "[06:06:29.310][e5337303] SMTP[DATA]: < 554 5.7.1 <b@example.test>: Relay access denied\\r\\n\n"
        let evidence = try read(log)
        #expect(evidence.source == .transcript)
        #expect(evidence.stage == .rcpt, "the command it answered decides, not the logger's `[DATA]` channel")
        #expect(evidence.reply?.text == "<b@example.test>: Relay access denied")
    }

    @Test(arguments: [
        ("RCPT TO <b@example.test> failed: 5.7.1 <b@example.test>: Relay access denied", 554, "5.7.1" as String?),
        ("the server refuses it with: Relay access denied (in\n   reply to RCPT TO command)", 554, nil),
        ("RCPT TO <b@example.test> failed: 4.2.0 <b@example.test>: Greylisted, try later", 450, "4.2.0"),
    ])
    func aReplyQuotedWithoutItsCode(text: String, code: Int, enhanced: String?) throws {
        let evidence = try read(text)
        #expect(evidence.reply?.code == code && evidence.reply?.enhanced == enhanced)
        #expect(evidence.stage == .rcpt)
        #expect(evidence.provenance.contains { $0.field == .reply && $0.inferred }, "the code is said to be inferred")
    }

    @Test func anEximRejectQuotedWithoutItsHost() throws {
        let evidence = try read(
            "I was getting \"rejected RCPT <b@example.test>: relay not permitted\" error without it")
        #expect(evidence.source == .eximReject)
        #expect(evidence.reply?.code == 550 && evidence.reply?.text == "relay not permitted")
        #expect(evidence.stage == .rcpt && evidence.clientAddress == nil)
        // Prose that names no refused address is not taken for one.
        #expect(throws: UnrecognizedEvidence.self) { try read("the server rejected DATA for some reason") }
    }

    @Test(arguments: [
        ("250 mx.example.test Hello f [IPv6:2001:db8::25], pleased to meet you", "2001:db8::25"),
        ("250-mx.example.test Hello mail.sender.test [192.0.2.25]\n250 PIPELINING", "192.0.2.25"),
        ("250 mx.example.test Hello [198.51.100.7]", "198.51.100.7"),
    ])
    func theReplyToEHLONamesTheClient(greeting: String, client: String) throws {
        let session =
            "220 mx.example.test ESMTP\nEHLO f\n\(greeting)\nMAIL FROM:<a@sender.test>\n250 ok\n"
            + "RCPT TO:<b@example.test>\n550 Invalid recipient\n"
        let evidence = try read(session)
        #expect(evidence.clientAddress == IPAddress(client))
        #expect(evidence.stage == .rcpt)
    }

    @Test func aWordThatHoldsPTRIsNoReverseDNSText() throws {
        let input =
            "host mx.example.test[192.0.2.10] said: 550 5.5.0 Invalid sender (SmtpTransport) (in reply to MAIL FROM command)"
        let repro = ReproductionWriter.reproduce(try read(input), input: input)
        #expect(repro.diagnosis.check == .dnsbl(zone: ReplyDiagnosis.standInZone), "`SmtpTransport` holds no PTR")
        let ptr = "host mx.example.test[192.0.2.10] said: 550 5.7.1 no PTR record for you (in reply to RCPT TO command)"
        #expect(ReproductionWriter.reproduce(try read(ptr), input: ptr).diagnosis.check == .fcrdns)
    }

    @Test func aDialogueLoggedAsAJSONArrayOfStrings() throws {
        let json =
            #"{"mx.example.test":["220 mx.example.test ESMTP","HELO mail.sender.test","250 mx.example.test Hello [192.0.2.25]","#
            + #""MAIL FROM:<>","550 5.7.1 Unfortunately, messages from [192.0.2.25] weren't sent. See http:\/\/example.test\/why","QUIT",""]}"#
        let evidence = try read(json)
        #expect(evidence.source == .transcript)
        #expect(evidence.stage == .mail && evidence.reply?.code == 550 && evidence.reply?.enhanced == "5.7.1")
        #expect(evidence.reply?.text.hasSuffix("See http://example.test/why") == true, "JSON's `\\/` is a `/`")
        #expect(evidence.clientAddress == IPAddress("192.0.2.25"))
        // An array of other strings stays as it is.
        #expect(throws: UnrecognizedEvidence.self) { try read(#"{"tags":["a","b","c"]}"#) }
    }

    @Test func aReplyQuotedFromItsEnhancedCodeOn() throws {
        let evidence = try read(
            "\"5.7.1 Unfortunately, messages from [192.0.2.30] weren't sent. [HE1EUR04FT035.eop-eur04.test]\"")
        #expect(evidence.reply?.code == 550 && evidence.reply?.enhanced == "5.7.1")
        #expect(evidence.reply?.text.hasSuffix("[HE1EUR04FT035.eop-eur04.test]") == true)
        #expect(evidence.provenance.contains { $0.field == .reply && $0.inferred })
        #expect(evidence.clientAddress == IPAddress("192.0.2.30"))
    }

    @Test(arguments: [
        (
            "Error: permanent error (550): 5.1.1 <b@example.test>: Recipient address rejected: User unknown", 550,
            "5.1.1" as String?
        ),
        (
            "lettre::transport::smtp::Error { kind: Transient(Code { severity: TransientNegativeCompletion, category: MailSystem, detail: One }) }",
            451, nil
        ),
        (
            "lettre::transport::smtp::Error {\n    kind: Permanent(\n        Code {\n            severity: PermanentNegativeCompletion,\n"
                + "            category: MailSystem,\n            detail: Four,\n        },\n    ),\n}", 554, nil
        ),
    ])
    func lettresErrors(text: String, code: Int, enhanced: String?) throws {
        let evidence = try read(text)
        #expect(evidence.reply?.code == code && evidence.reply?.enhanced == enhanced)
    }

    @Test func rblsmtpdRefusesAtRCPT() throws {
        // ucspi-tcp's rblsmtpd.c logs `rblsmtpd: IP pid N: MESSAGE` and answers HELO, EHLO and MAIL with 250.
        let evidence = try read(
            "@400000005f1e2d3c0a1b2c3d rblsmtpd: 192.0.2.25 pid 12345: 451 http://www.spamhaus.org/query/bl?ip=192.0.2.25"
        )
        #expect(evidence.source == .qmailReject)
        #expect(
            evidence.reply?.code == 451 && evidence.stage == .rcpt && evidence.clientAddress == IPAddress("192.0.2.25"))
    }

    @Test(arguments: [
        ("The server responded to the RCPT TO command with: 550 5.1.1 user unknown", SMTPStage.rcpt),
        ("Error during MAIL FROM: 553 5.7.1 sender not allowed", .mail),
        ("SMTP error on DATA: 554 5.7.1 message refused", .data),
        ("the remote server rejected it at the RCPT stage with 550 5.7.1 relay denied", .rcpt),
    ])
    func proseThatNamesTheCommand(text: String, stage: SMTPStage) throws {
        #expect(try read(text).stage == stage)
    }

    @Test func theCommandsNameInCapitalsOnly() throws {
        // `on mail servers` names no MAIL FROM.
        #expect(try read("This depends on mail servers: 550 5.7.1 not allowed").stage == nil)
    }

    @Test(arguments: [
        (
            "Server terminates connection. response=421 4.7.0 Try again later, closing connection. (EHLO) x1 - gsmtp",
            SMTPStage.helo
        ),
        (
            "Error: Message failed: 550 5.7.1 rejected\n    at SMTPConnection._actionSMTPStream (/app/node_modules/nodemailer/lib/smtp-connection/index.js:1478:34)",
            .data
        ),
        (
            "Error: Can't send mail - all recipients were rejected: 550 5.1.1 no\n    at SMTPConnection._actionRCPT (/app/index.js:1:1)",
            .rcpt
        ),
        ("Mail command failed: 553 5.7.1 sender denied\n    at SMTPConnection._actionMAIL (/app/index.js:1:1)", .mail),
    ])
    func theCommandNamedByProviderTagsAndNodemailerFrames(text: String, stage: SMTPStage) throws {
        #expect(try read(text).stage == stage)
    }

    @Test func anIPv4MappedClientIsIPv4() throws {
        let line =
            "Jan 1 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[::ffff:192.0.2.25]: 554 5.7.1 Service unavailable; "
            + "Client host [::ffff:192.0.2.25] blocked using zen.spamhaus.org; from=<a@sender.test> to=<b@example.test> proto=ESMTP helo=<x>"
        let evidence = try read(line)
        #expect(evidence.clientAddress == IPAddress("192.0.2.25"))
        #expect(evidence.clientAddress?.family == .ipv4)
    }

    // MARK: Forms found in the corpus's third round

    /// A structured (`key=value`) server log: the result of the command `cmd=` names, the client
    /// from the `remote=` of the same connection (`cid=`), not of another one.
    @Test func aKeyValueLogNamesTheCommandAndTheConnection() throws {
        let text = """
            l=info m="new connection" pkg=smtpserver remote=192.0.2.7:40000 cid=1 delta=1ms
            l=info m="new connection" pkg=smtpserver remote=[2001:db8::7]:40001 cid=2 delta=1ms
            l=debug m="smtp command result" err="bad syntax: ip is not ipv4 (remaining \\"\\")" pkg=smtpserver cmd=ehlo code=501 ecode=5.5.2 cid=2
            """
        let evidence = try read(text)
        #expect(evidence.source == .keyValueLog)
        #expect(evidence.reply?.code == 501)
        #expect(evidence.reply?.enhanced == "5.5.2")
        #expect(evidence.stage == .helo)
        #expect(evidence.clientAddress == IPAddress("2001:db8::7"))
        // A success, or a line without the command, is no refusal.
        #expect(throws: UnrecognizedEvidence.self) { try read("m=\"smtp command result\" cmd=mail code=250") }
        #expect(try read("cmd=rcpt to code=450 ecode=4.7.1 err=\"greylisted\"").stage == .rcpt)
    }

    /// qmail writes the enhanced code after the text: `503 RCPT first (#5.5.1)`; one of another
    /// class is no enhanced code of the reply.
    @Test func qmailsEnhancedCodeInParentheses() throws {
        let evidence = try read(
            "Expected response code 354 but got code \"503\", with message \"503 RCPT first (#5.5.1)")
        #expect(evidence.reply?.code == 503)
        #expect(evidence.reply?.enhanced == "5.5.1")
        #expect(evidence.stage == .data)
        #expect(try read("Remote host said: 451 try later (#5.7.1)").reply?.enhanced == nil)
        // A code ended by a period (`553. To send mail, ...`), as an Outlook Express dialog quotes it.
        let dialog = try read(
            "Protocol: SMTP, Server Response: '553. To send mail, first check your mail (#5.7.1)', Port: 25, "
                + "Secure(SSL): No, Server Error: 553, Error Number: 0x800CCC79")
        #expect(dialog.reply?.code == 553)
        #expect(dialog.reply?.enhanced == "5.7.1")
        #expect(dialog.stage == .rcpt)
        // Outlook's dialog in German, its fields in double quotes.
        let german = try read(
            #"Protokoll: SMTP, Serverantwort: "550 <b@example.test>... Relay verweigert", Anschluss: 25, "#
                + "Serverfehler: 550, Fehlernummer: 0x800CCC79.")
        #expect(german.reply?.code == 550)
        #expect(german.stage == .rcpt)
        // An enhanced code with a leading `#`.
        #expect(
            try read(
                "host mx.example.test[192.0.2.10] said: 550 #5.1.0 Address rejected. (in reply to RCPT TO command)"
            )
            .reply?.enhanced == "5.1.0")
    }

    /// DokuWiki's smtp plugin: the code, a bar, then the whole reply; `Expected: 354` names DATA.
    @Test(arguments: [
        (
            "Unexpected return code - Expected: 354, Got: 503 | 503 Bad sequence of commands", 503,
            SMTPStage?.some(.data)
        ),
        ("Unexpected return code - Expected: 220, Got: 554 | 554 No SMTP service here", 554, .greeting),
        ("Unexpected return code - Expected: 250, Got: 550 | 550 Access denied", 550, nil),
    ])
    func aLibraryThatPrintsTheCodeABarAndTheReply(text: String, code: Int, stage: SMTPStage?) throws {
        let evidence = try read(text)
        #expect(evidence.reply?.code == code)
        #expect(evidence.stage == stage)
    }

    /// Replies that only DATA gets: before any recipient was accepted.
    @Test(arguments: [
        "503 5.5.1 RCPT first. x1 - gsmtp", "554 5.5.1 Error: no valid recipients",
        "503 5.5.1 Error: need RCPT command",
    ])
    func repliesThatOnlyDataGets(_ reply: String) throws {
        #expect(try read("Sending failed: " + reply).stage == .data)
    }

    /// The Cloudmark gateway's greeting token `bizsmtp`: a 554 with it refused the connection.
    @Test func aCloudmarkBannerRefusesTheConnection() throws {
        let evidence = try read("554 mx.example.test bizsmtp 0bcW1i00 no DNS reverse for 192.0.2.9")
        #expect(evidence.stage == .greeting)
        #expect(evidence.clientAddress == IPAddress("192.0.2.9"))
    }

    /// Postfix's own test output prints a placeholder for the queue id.
    @Test func aPostfixRejectWithAPlaceholderQueueId() throws {
        let evidence = try read(
            "./smtpd_check: <queue id>: reject: CONNECT from unknown[192.0.2.17]: 450 Client host rejected: "
                + "cannot find your hostname, [192.0.2.17]; proto=SMTP")
        #expect(evidence.source == .postfixReject)
        #expect(evidence.stage == .greeting)
        #expect(evidence.clientAddress == IPAddress("192.0.2.17"))
    }

    /// Courier's receiving log: `to=` names the refused recipient, only `from=` the refused sender.
    @Test func couriersErrorLine() throws {
        let rcpt = try read(
            "Jul 4 18:39:39 mail courieresmtpd: error,relay=::ffff:192.0.2.4,from=<a@sender.test>,to=<b@example.test>: 550 User unknown"
        )
        #expect(rcpt.source == .courierReject)
        #expect(rcpt.reply?.code == 550)
        #expect(rcpt.stage == .rcpt)
        #expect(rcpt.clientAddress == IPAddress("192.0.2.4"))
        let mail = try read("courieresmtpd: error,relay=2001:db8::4,from=<a@sender.test>: 517 Domain does not exist")
        #expect(mail.stage == .mail)
        #expect(mail.clientAddress?.family == .ipv6)
    }

    /// sendmail's check_relay refuses the connection with a 421; other codes are not said.
    @Test func sendmailsCheckRelay() throws {
        let line =
            "sm-mta[1]: ruleset=check_relay, arg1=x.test, arg2=192.0.2.82, relay=x.test [192.0.2.82], reject="
        #expect(try read(line + "421 4.3.2 Connection rate limit exceeded.").stage == .greeting)
        #expect(try read(line + "550 5.7.1 Access denied").stage == nil)
    }

    /// An address where a log names the relay is no MX host name (the written MX record needs a name).
    @Test func anAddressIsNoReceiverName() throws {
        let evidence = try read(
            #"smtp-in: Failed command on session 1: "RCPT TO:<b@example.test>" => 550 Invalid recipient"#
                + "\nrelay: PermFail for 2: session=3, from=<a@sender.test>, to=<b@example.test>, source=192.0.2.1, "
                + "relay=192.0.2.10 (localhost), delay=0s, stat=550 Invalid recipient")
        #expect(evidence.stage == .rcpt)
        #expect(evidence.receiverName == nil)
    }

    /// Exim's reject with the addresses bare (`F=a@b rejected RCPT c@d: ...`).
    @Test func anEximRejectWithBareAddresses() throws {
        let evidence = try read(
            "2013-06-10 18:33:32 [10099] H=(x.test) [192.0.2.178]:3755 I=[192.0.2.4]:25 F=a@sender.test rejected RCPT b@example.test: relay not permitted"
        )
        #expect(evidence.source == .eximReject)
        #expect(evidence.stage == .rcpt)
        #expect(evidence.reply?.code == 550)
        #expect(evidence.rcptTo == ["b@example.test"])
        // local_scan() runs on the received message: after DATA.
        let scan = try read(
            "2004-01-18 07:15:35 1Ai79e-0000Dq-8i F=a@sender.test H=x.test [192.0.2.40] P=smtp rejected by local_scan(): Rejected"
        )
        #expect(scan.stage == .data)
        #expect(scan.reply?.code == 550)
    }

    /// OpenSMTPD's `failed-command command="HELO "` (an empty argument) names HELO.
    @Test func aQuotedCommandWithAnEmptyArgument() throws {
        let evidence = try read(
            #"smtp failed-command command="HELO " result="501 5.5.4 Invalid command arguments: Invalid domain name""#)
        #expect(evidence.reply?.code == 501)
        #expect(evidence.stage == .helo)
    }

    /// Exim's own HELO syntax check logs the host without `H=`.
    @Test func eximsHeloSyntaxRejectWithoutH() throws {
        let evidence = try read(
            "2024-01-01 10:00:00 rejected EHLO from mail.sender.test [2001:db8::25]: syntactically invalid argument(s): a_b"
        )
        #expect(evidence.source == .eximReject)
        #expect(evidence.reply?.code == 501)
        #expect(evidence.stage == .helo)
        #expect(evidence.clientAddress == IPAddress("2001:db8::25"))
        #expect(evidence.helo == "a_b")
    }

    /// The client's EHLO address literal is its own address: its family is the connection's; an
    /// IPv4-mapped literal is IPv4.
    @Test(arguments: [
        ("C: EHLO [IPv6:2001:db8::66]\nS: 501 5.5.4 Invalid Address", "2001:db8::66"),
        ("C: EHLO [IPv6:::ffff:192.0.2.47]\nS: 501 5.5.4 Invalid Address", "192.0.2.47"),
        ("C: EHLO [192.0.2.48]\nS: 501 5.5.4 Invalid Address", "192.0.2.48"),
    ])
    func theEhloAddressLiteralNamesTheClient(text: String, client: String) throws {
        let evidence = try read(text)
        #expect(evidence.clientAddress == IPAddress(client))
        #expect(evidence.stage == .helo)
    }

    /// A transcript pasted as a numbered list or in Markdown emphasis.
    @Test func aTranscriptInAListOrInEmphasis() throws {
        let evidence = try read(
            "1. telnet mx.example.test 25\n2. **EHLO [IPv6:2001:db8::9]**\n3. 501 5.5.2 bad syntax\n")
        #expect(evidence.source == .transcript)
        #expect(evidence.reply?.code == 501)
        #expect(evidence.stage == .helo)
        #expect(evidence.clientAddress == IPAddress("2001:db8::9"))
    }

    /// A gateway's reply that quotes the next server's after `->` (Exchange Online): the quoted
    /// reply is the refusal.
    @Test func aGatewayQuotesTheNextServersReply() throws {
        let evidence = try read(
            "Remote Server returned '550 5.7.514 Decision Engine classified the mail item was rejected -> 554 5.7.1 "
                + "Service unavailable; Client host [192.0.2.102] blocked using zen.spamhaus.org'")
        #expect(evidence.reply?.code == 554)
        #expect(evidence.reply?.enhanced == "5.7.1")
        #expect(evidence.clientAddress == IPAddress("192.0.2.102"))
        // An arrow without a whole reply after it changes nothing.
        #expect(try read("Remote Server returned '550 5.7.1 mapped a -> b'").reply?.enhanced == "5.7.1")
    }

    /// A reply about the HELO/EHLO argument answered HELO; without its code it is Exim's or Gmail's
    /// 501, and MailKit's `SmtpClient.Ehlo` frame names the command.
    @Test func aReplyAboutTheHeloArgument() throws {
        let gmail = try read(#"SMTP -> get_lines(): $str is "501-5.5.4 HELO/EHLO argument "x y" invalid, closing.""#)
        #expect(gmail.reply?.code == 501)
        #expect(gmail.stage == .helo)
        let mailKit = try read(
            "MailKit.Net.Smtp.SmtpCommandException: Syntactically invalid HELO argument(s)\n"
                + "   at MailKit.Net.Smtp.SmtpClient.EhloAsync(Boolean doAsync, CancellationToken cancellationToken)")
        #expect(mailKit.reply?.code == 501)
        #expect(mailKit.stage == .helo)
        // Postfix's `Helo command rejected` names no argument: with smtpd_delay_reject it answers RCPT TO.
        let postfix = try read(
            "host mx.example.test[192.0.2.10] said: 504 5.5.2 <x>: Helo command rejected: need fully-qualified hostname"
        )
        #expect(postfix.stage != .helo)
    }

    /// Exchange's `Unable to relay` answers RCPT TO, and JavaMail's `Invalid Addresses` comes only
    /// from refused recipients.
    @Test(arguments: [
        "The server response was: 550 5.7.1 Unable to relay for b@example.test",
        "Invalid Addresses 550 5.1.1 no such user",
    ])
    func recipientWords(text: String) throws {
        #expect(try read(text).stage == .rcpt)
    }

    /// The server's replies alone: a 354 after a refused recipient means the transaction went on, so
    /// the refusal after it, which answers the message, decides; without a 354 the first refusal does.
    @Test func aRefusalAfterTheGoAheadDecides() throws {
        let lines = [
            "[t] [debug]   250 2.1.0 a@sender.test....Sender OK", "[t] [debug]   501 5.5.4 Invalid Email address",
            "[t] [debug]   250 2.1.5 b@example.test", "[t] [debug]   354 Start mail input",
            "[t] [debug]   550 5.3.4 Requested action not taken",
        ]
        let evidence = try read(lines.joined(separator: "\n"))
        #expect(evidence.reply?.code == 550)
        #expect(evidence.reply?.enhanced == "5.3.4")
        #expect(evidence.stage == .data)
        let without = try read(lines.filter { !$0.contains("354") }.joined(separator: "\n"))
        #expect(without.reply?.code == 501)
        #expect(without.stage != .data)
    }

    /// Gmail's notice opens with `Delivery to the following recipient failed permanently` whatever
    /// the command; it names none. A library's `The following recipients failed` still does.
    @Test func gmailsNoticeHeadNamesNoCommand() throws {
        let gmail = try read(
            "Delivery to the following recipient failed permanently:\n\n     u@example.test\n\n"
                + "The error that the other server returned was:\n500 Internal Server Error\n")
        #expect(gmail.reply?.code == 500)
        #expect(gmail.stage == nil)
        let library = try read("SMTP Error: The following recipients failed: u@example.test: 550 5.1.1 no such user")
        #expect(library.stage == .rcpt)
    }

    /// Messaging Server's notice: `Remote SMTP server has rejected address` is the recipient's.
    @Test func aServerThatRejectedTheAddressAnsweredRcpt() throws {
        let evidence = try read(
            " Recipient address: u@example.test\n Reason: Remote SMTP server has rejected address\n"
                + " Diagnostic code: smtp;550 5.1.1 no such user\n")
        #expect(evidence.reply?.code == 550)
        #expect(evidence.stage == .rcpt)
    }

    /// A mail address that Markdown made a mailto link of keeps no brackets of the link's.
    @Test func aMarkdownMailtoAddressIsTheAddress() throws {
        let evidence = try read(
            "The response from the remote server was:\n"
                + "554 5.7.1 <[u@example.test](mailto:u@example.test)>: Relay access denied\n")
        #expect(evidence.reply?.text == "<u@example.test>: Relay access denied")
        #expect(evidence.stage == .rcpt)
    }

    /// A JSON log keeps the error as an escaped string: read with the escapes undone; a code alone
    /// gives way to the whole reply after it, whose own text may be a quotation.
    @Test func aJSONLogsEscapedError() throws {
        let line =
            #"{"message":"Send Mail Fail. \\r\\nError Code: 550 \\r\\nMessage: Expected response code \"250\" but "#
            + #"got code \"550\", with message \"550 \"sender not allowed a@sender.test\"\".","level":600}"#
        let evidence = try read(line)
        #expect(evidence.reply?.code == 550)
        #expect(evidence.reply?.text.contains("sender not allowed") == true)
    }

    /// A reply wrapped between its code and its enhanced code is one reply.
    @Test func aReplyWrappedBeforeItsEnhancedCode() throws {
        let evidence = try read(
            "message 'Expected response code 250 but got code \"550\", with message \"550 \n5.7.1 Command rejected")
        #expect(evidence.reply?.code == 550)
        #expect(evidence.reply?.enhanced == "5.7.1")
        #expect(evidence.reply?.text == "Command rejected")
    }

    /// Gogs and Gitea name Go net/smtp's step before the reply.
    @Test(arguments: [
        (
            "gomail: could not send email 1: Mail: 501 Mail from address must be same as authorization user.",
            SMTPStage.mail
        ),
        ("gomail: could not send email 1: Rcpt: 550 5.1.1 no such user", .rcpt),
    ])
    func goNetSMTPSteps(text: String, stage: SMTPStage) throws {
        let evidence = try read(text)
        #expect(evidence.stage == stage)
    }

    /// OpenSMTPD's `failed-command` event logs the reply as `result="..."` beside the command; the
    /// session's `event=connected` line names the client.
    @Test func openSMTPDsFailedCommandEvent() throws {
        let evidence = try read(
            "cd1016922eef4d25 smtp event=connected address=192.0.2.163 host=a.sender.test\n"
                + #"cd1016922eef4d25 smtp event=failed-command command="RCPT TO: <u@example.test>" result="550 Invalid recipient""#
        )
        #expect(evidence.reply?.code == 550)
        #expect(evidence.stage == .rcpt)
        #expect(evidence.clientAddress == IPAddress("192.0.2.163"))
    }

    /// Domino's SMTPClient debug log names the command it sent: `Command:EODT` is the end of the data.
    @Test func dominosEODTIsTheEndOfTheData() throws {
        let evidence = try read(
            "SMTPClient: ReceiveResponse: 554-Transaction failed\n"
                + "SMTPClient: ReceiveResponse: Server: 192.0.2.1 Command:EODT Error:554 delivery error\n"
                + "SMTPClient: ReceiveResponse: 554 Transaction failed\n")
        #expect(evidence.reply?.code == 554)
        #expect(evidence.stage == .data)
    }

    /// A sentence that quotes a reply by its codes alone: the codes are the reply, the words after
    /// the period are not its text.
    @Test func codesThatEndASentenceAreAReplyWithoutText() throws {
        let evidence = try read("my user got a report with the status 550 5.5.3. I found no documentation.")
        #expect(evidence.reply?.code == 550)
        #expect(evidence.reply?.enhanced == "5.5.3")
        #expect(evidence.reply?.text == "")
    }

    /// Exim's log escapes the line breaks of a multi-line reply as `\n`: they are breaks.
    @Test func eximsEscapedLineBreaksJoinTheReply() throws {
        let evidence = try read(
            #"SMTP error from remote mail server after end of data: host mx.example.test [192.0.2.1]: "#
                + #"550-5.7.1 first line\n550-5.7.1 second line\n550 5.7.1 last line"#)
        #expect(evidence.reply?.text == "first line second line last line")
    }

    /// A reply in a Markdown inline code span ends with the span.
    @Test func aReplyInACodeSpanEndsWithIt() throws {
        let evidence = try read("Saw `550 5.4.1 Recipient address rejected: Access denied` in the wild.")
        #expect(evidence.reply?.text == "Recipient address rejected: Access denied")
    }

    /// A wrapped Postfix line whose `said:` starts a line belongs to the host on the line above, and
    /// the reply runs on to `(in reply to ... command)`.
    @Test func saidAtTheStartOfAWrappedLine() throws {
        let evidence = try read(
            "> delay=0, status=bounced (host mx.example.test[192.0.2.6]\n"
                + "> said: 554 Format restriction violation. Session ID:\n"
                + "> {4DA765B1} (in reply to end of DATA command))\n")
        #expect(evidence.reply?.text == "Format restriction violation. Session ID: {4DA765B1}")
        #expect(evidence.stage == .data)
    }

    /// A labelled text that a mail client wrapped (and quoted) goes on to the end of its paragraph.
    @Test func aWrappedLabelledTextIsWhole() throws {
        let evidence = try read(
            "> u@example.test, ERROR_CODE :550, ERROR_CODE :The email you sent\n> has an invalid signature\n")
        #expect(evidence.reply?.code == 550)
        #expect(evidence.reply?.text == "The email you sent has an invalid signature")
    }

    /// `> ` before a reply, with no command and no other side, quotes a mail: no transcript, so
    /// the reply is no greeting. A `>` that marks the client beside `<` replies is still a dialogue.
    @Test func aMailQuotationOfAReplyIsNoTranscript() throws {
        let quoted = try read(
            "The error message is :\n\n> 550 5.7.1 Unfortunately, messages from [192.0.2.1] weren't sent.\n")
        #expect(quoted.source != .transcript)
        #expect(quoted.stage == nil)
        // A log's note of a delivery's result behind an arrow that points away is no dialogue either.
        let noted = try read("[6.801s] mx.example.test:25 --> 554 5.7.1 rejected by filter\n")
        #expect(noted.source != .transcript)
        #expect(noted.stage == nil)
        let dialogue = try read(
            "< 220 mx.example.test ESMTP\n> EHLO a.test\n< 250 ok\n> MAIL FROM:<a@a.test>\n< 550 5.7.1 no\n")
        #expect(dialogue.source == .transcript)
        #expect(dialogue.stage == .mail)
    }

    /// The client's lone dot ends the message: the reply to it, even one the paste cut after its
    /// first line, answered the message.
    @Test func aCutReplyToTheEndOfTheMessage() throws {
        let evidence = try read(
            "[C] body\n[C] .\n[S] 550-5.7.1 [2001:db8::d9a] Our system has detected\nError: got 550\n")
        #expect(evidence.source == .transcript)
        #expect(evidence.reply?.code == 550)
        #expect(evidence.stage == .data)
        #expect(evidence.clientAddress == IPAddress("2001:db8::d9a"))
    }

    /// Postfix's `Server configuration problem` is 451 4.3.5 whatever the restriction.
    @Test func postfixsServerConfigurationProblemWithoutItsCode() throws {
        let evidence = try read(
            "An error occurred while sending mail. The mail server responded:\n4.3.5 <u@example.test>: Recipient "
                + "address rejected: Server configuration problem.\nPlease check the message recipient \"u@example.test\" and try again."
        )
        #expect(evidence.reply?.code == 451)
    }

    /// sendmail's transcript flattened with its `>>>` lost: the reply after `<<<` answers the
    /// command before it on the line.
    @Test func aFlattenedSendmailCommandAndItsReply() throws {
        let evidence = try read(
            "Diagnostic-Code: smtp; 550 No such user here, e.g. while talking to mx.example.test [192.0.2.3]\n"
                + "RCPT TO: <<< 550 No such user here\n")
        #expect(evidence.reply?.code == 550)
        #expect(evidence.stage == .rcpt)
    }
}
