import Foundation
import SMTPProtocol

/// The words MTAs, provider notices and client libraries use to say which command a reply
/// answered, searched in the whole input with its wrapping undone (a phrase that a bounce or a
/// paste broke over two lines reads as one).
enum StageWords {
    /// How much a phrase says.
    enum Strength: Int, Comparable {
        /// The reply's own words belong to one stage (Postfix's `Recipient address rejected`
        /// comes only from recipient restrictions).
        case text = 1
        /// The words name the command (`in reply to RCPT TO command`, `after MAIL FROM`).
        case named = 2

        static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    struct Phrase {
        var pattern: String
        var stage: SMTPStage
        var strength: Strength
        var why: String
        var regex: NSRegularExpression

        init(_ pattern: String, _ stage: SMTPStage, _ why: String, _ strength: Strength = .named) {
            self.pattern = pattern
            self.stage = stage
            self.strength = strength
            self.why = why
            // A table entry that does not compile is a programming error, caught by every test.
            self.regex = try! NSRegularExpression(pattern: pattern, options: [.caseInsensitive])
        }
    }

    /// Every phrase, by MTA. Spaces in a pattern stand for any run of white space or underscores
    /// (qmail-send writes its log with `_` for spaces).
    static let phrases: [Phrase] = [
        // Postfix's smtp client (smtp_proto.c, smtp_trouble.c): `(in reply to X command)`, and
        // `refused to talk to me` for a greeting or a HELO that is not 2xx (resolved below).
        Phrase(#"in reply to end of DATA command"#, .data, "Postfix's `(in reply to end of DATA command)`"),
        Phrase(#"in reply to (DATA|BDAT) command"#, .data, "Postfix's `(in reply to DATA command)`"),
        Phrase(#"in reply to RCPT TO command"#, .rcpt, "Postfix's `(in reply to RCPT TO command)`"),
        Phrase(#"in reply to MAIL FROM command"#, .mail, "Postfix's `(in reply to MAIL FROM command)`"),
        Phrase(#"in reply to (EHLO|HELO|LHLO) command"#, .helo, "`(in reply to EHLO command)`"),
        Phrase(#"refused to talk to me"#, .greeting, "Postfix's `refused to talk to me` (a greeting that is not 220)"),
        Phrase(
            #"(?:conversation|session) with \S+ timed out while receiving the initial server greeting"#, .greeting,
            "Postfix's `timed out while receiving the initial server greeting`"),
        // Exim (transports/smtp.c): `SMTP error from remote mail server after ...`, its callout
        // `response to "RCPT TO:<...>" from ...`, and its receiving log `rejected RCPT` etc.
        Phrase(#"after (?:pipelined )?end of data"#, .data, "Exim's `after end of data`"),
        Phrase(#"after (?:pipelined )?(?:DATA|BDAT)\b"#, .data, "Exim's `after DATA`"),
        Phrase(#"after (?:pipelined )?RCPT TO"#, .rcpt, "Exim's `after RCPT TO`"),
        Phrase(#"after (?:pipelined )?MAIL FROM"#, .mail, "Exim's `after MAIL FROM`"),
        Phrase(#"after (?:pipelined )?(?:EHLO|HELO|LHLO)\b"#, .helo, "Exim's `after EHLO`"),
        // DragonFly Mail Agent (dma's net.c): `did not like our final DATA` (the final dot).
        Phrase(#"\bfinal (?:DATA|dot)\b"#, .data, "the words name the final dot of DATA (dma's `our final DATA`)"),
        // Python smtplib's debug output prints DATA's reply as `data: (550, b'...')` (SMTP.data()).
        Phrase(#"\bdata: \(\s*[245]\d\d\s*,"#, .data, "Python smtplib's debug line `data: (CODE, ...)` (SMTP.data())"),
        // Go's net/smtp: Client.Data() returns a WriteCloser whose Close sends the final dot and reads
        // the reply to the message.
        Phrase(
            #"\bclos(?:e|ing) the (?:WriteCloser|data writer)\b"#, .data,
            "Go's net/smtp: closing Data()'s WriteCloser sends the final dot"),
        Phrase(#"after initial connection"#, .greeting, "Exim's `after initial connection` (the greeting)"),
        Phrase(#"response to "?RCPT TO"#, .rcpt, "Exim's callout `response to \"RCPT TO:...\"`"),
        Phrase(#"response to "?MAIL FROM"#, .mail, "Exim's callout `response to \"MAIL FROM:...\"`"),
        Phrase(
            #"\brejected (?:after )?DATA\b|rejected the message after end of data"#, .data,
            "Exim's log `rejected after DATA`"),
        Phrase(#"\brejected RCPT\b"#, .rcpt, "Exim's log `rejected RCPT`"),
        Phrase(#"\brejected MAIL\b"#, .mail, "Exim's log `rejected MAIL`"),
        Phrase(#"\brejected (?:EHLO or HELO|EHLO|HELO)\b"#, .helo, "Exim's log `rejected EHLO or HELO`"),
        // The reply speaks of the HELO/EHLO argument: Exim's `Syntactically invalid HELO argument(s)`,
        // Gmail's `HELO/EHLO argument "..." invalid` and `Empty HELO/EHLO argument not allowed`, Apache
        // James's `Invalid EHLO argument received`. Only HELO has that argument (RFC 5321 4.1.1.1).
        Phrase(
            #"invalid HELO argument|syntactically invalid argument|\b(?:HELO|EHLO)(?:/(?:HELO|EHLO))? argument\b"#,
            .helo, "the reply's words are about the HELO/EHLO argument (given at HELO)", .text),
        // qmail-remote's words (qmail-remote.c), one per stage.
        Phrase(#"failed after I sent the message"#, .data, "qmail-remote's `failed after I sent the message`"),
        Phrase(#"failed on DATA command"#, .data, "qmail-remote's `failed on DATA command`"),
        Phrase(#"does not like recipient"#, .rcpt, "qmail-remote's `does not like recipient`"),
        Phrase(#"but sender was rejected"#, .mail, "qmail-remote's `but sender was rejected`"),
        Phrase(#"but my name was rejected"#, .helo, "qmail-remote's `but my name was rejected`"),
        Phrase(#"but greeting failed"#, .greeting, "qmail-remote's `but greeting failed`"),
        // sendmail: its receiving log's rulesets and milter events, its DSN's transcript.
        Phrase(#"ruleset=check_rcpt"#, .rcpt, "sendmail's `ruleset=check_rcpt`"),
        Phrase(#"ruleset=check_mail"#, .mail, "sendmail's `ruleset=check_mail`"),
        Phrase(#"ruleset=check_eoh|ruleset=check_eom|Milter: data"#, .data, "sendmail's end-of-message checks"),
        Phrase(#"Milter: to="#, .rcpt, "sendmail's milter reject of a recipient"),
        Phrase(#"Milter: from="#, .mail, "sendmail's milter reject of the sender"),
        // Postfix's receiving log and cleanup.
        Phrase(
            #"reject: (?:RCPT|milter-reject: RCPT) from|milter-reject: RCPT from"#, .rcpt,
            "Postfix's `reject: RCPT from`"),
        Phrase(#"(?:reject|milter-reject): MAIL from"#, .mail, "Postfix's `reject: MAIL from`"),
        Phrase(#"(?:reject|milter-reject): (?:EHLO|HELO) from"#, .helo, "Postfix's `reject: EHLO from`"),
        Phrase(
            #"(?:reject|milter-reject): (?:DATA|END-OF-MESSAGE|BDAT) from|: reject: (?:header|body) "#, .data,
            "Postfix's rejection of the message (`END-OF-MESSAGE`, header or body checks)"),
        // sendmail's transcript flattened on one line: `>>> RCPT To:<r> <<< 550 ...`.
        // With PIPELINING sendmail shows `>>> DATA` and then every reply it read: those to the RCPT TO
        // it sent before, then DATA's own (`503 Need RCPT`); the reply to DATA is the last one.
        Phrase(
            #">>> ?DATA\s*<<< ?[45]\d\d(?:(?!>>>).)*<<< ?[45]\d\d"#, .rcpt,
            "sendmail's transcript: more than one reply after `>>> DATA` (pipelined: the first answers RCPT TO)"),
        Phrase(
            #">>> ?(?:DATA|\.)\s*<<< ?[245]\d\d(?!(?:(?!>>>).)*<<< ?[245]\d\d)"#, .data,
            "sendmail's transcript: the reply to `>>> DATA`"),
        Phrase(
            #">>> ?RCPT TO:[^<]*<[^>]*>[^<]*<<< ?[245]\d\d"#, .rcpt,
            "sendmail's transcript: the reply to `>>> RCPT To:`"),
        Phrase(
            #">>> ?MAIL FROM:[^<]*<[^>]*>[^<]*<<< ?[245]\d\d"#, .mail,
            "sendmail's transcript: the reply to `>>> MAIL From:`"),
        Phrase(#">>> ?(?:EHLO|HELO)[^<]*<<< ?[245]\d\d"#, .helo, "sendmail's transcript: the reply to `>>> EHLO`"),
        // A log that quotes the command before its reply: OpenSMTPD's `Failed command on session
        // ...: "RCPT TO:<...>" => 550 ...`.
        Phrase(
            #""RCPT TO:[^"]*"\s*=>\s*[245]\d\d"#, .rcpt,
            "the command quoted before its reply (`\"RCPT TO:...\" => 550`)"),
        Phrase(
            #""MAIL FROM:[^"]*"\s*=>\s*[245]\d\d"#, .mail,
            "the command quoted before its reply (`\"MAIL FROM:...\" => 550`)"),
        Phrase(#""(?:DATA|\.)"\s*=>\s*[245]\d\d"#, .data, "the command quoted before its reply (`\"DATA\" => 554`)"),
        Phrase(
            #""(?:EHLO|HELO)[^"]*"\s*=>\s*[245]\d\d"#, .helo,
            "the command quoted before its reply (`\"EHLO ...\" => 501`)"),
        // Provider notices.
        Phrase(#"\[RCPT[ _]TO\]"#, .rcpt, "the provider's `[RCPT_TO]` (Yahoo, AOL)"),
        Phrase(#"\[MAIL[ _]FROM\]"#, .mail, "the provider's `[MAIL_FROM]` (Yahoo, AOL)"),
        Phrase(#"\[(?:BODY|DATA|END[ _]OF[ _]DATA|EOD)\]"#, .data, "the provider's `[BODY]` (Yahoo, AOL)"),
        Phrase(#"\[(?:HELO|EHLO)\]"#, .helo, "the provider's `[HELO]`"),
        // Gmail names the command it answers in parentheses (`Try again later, closing connection. (EHLO)`).
        Phrase(#"\((?-i:EHLO|HELO)\)"#, .helo, "the provider's `(EHLO)` (Gmail)"),
        Phrase(#"\((?-i:MAIL(?: FROM)?)\)"#, .mail, "the provider's `(MAIL)` (Gmail)"),
        Phrase(#"\((?-i:RCPT(?: TO)?)\)"#, .rcpt, "the provider's `(RCPT)` (Gmail)"),
        Phrase(#"\((?-i:DATA|BDAT)\)"#, .data, "the provider's `(DATA)` (Gmail)"),
        Phrase(
            #"did not accept our requests? to connect"#, .greeting, "Gmail's `did not accept our requests to connect`"),
        // Client libraries and mail clients name the command or the step.
        Phrase(
            #"executeCommand\(\s*'\s*\.\s*'|_streamMessage|->streamMessage"#, .data,
            "Swift Mailer's stack trace: the command was the final dot"),
        Phrase(
            #"executeCommand\(\s*'RCPT TO|doRcptToCommand"#, .rcpt,
            "Swift Mailer's stack trace: the command was RCPT TO"),
        Phrase(
            #"executeCommand\(\s*'MAIL FROM|doMailFromCommand"#, .mail,
            "Swift Mailer's stack trace: the command was MAIL FROM"),
        // libetpan (MailCore): the function that sent the command (`mailesmtp_rcpt`, `mailsmtp_data`).
        Phrase(#"\bmaile?smtp rcpt\b"#, .rcpt, "libetpan's `mailesmtp_rcpt` sent the command"),
        Phrase(#"\bmaile?smtp mail\b"#, .mail, "libetpan's `mailesmtp_mail` sent the command"),
        Phrase(#"\bmaile?smtp data(?: message)?\b"#, .data, "libetpan's `mailsmtp_data` sent the command"),
        // Nodemailer's SMTPConnection handles each reply in `_action<Step>` (smtp-connection/index.js).
        Phrase(
            #"SMTPConnection\._actionEHLO\b|SMTPConnection\._actionHELO\b"#, .helo,
            "Nodemailer's stack trace: `_actionEHLO` handled the reply"),
        Phrase(#"SMTPConnection\._actionMAIL\b"#, .mail, "Nodemailer's stack trace: `_actionMAIL` handled the reply"),
        Phrase(#"SMTPConnection\._actionRCPT\b"#, .rcpt, "Nodemailer's stack trace: `_actionRCPT` handled the reply"),
        Phrase(
            #"SMTPConnection\._action(?:DATA|SMTPStream|LMTPStream)\b"#, .data,
            "Nodemailer's stack trace: the message's reply"),
        // Gogs' and Gitea's mailers wrap Go net/smtp's error with the Client method that failed
        // (`gomail: could not send email 1: Mail: 501 ...`, `Rcpt: 550 ...`).
        Phrase(#"\b(?-i:Mail): [245]\d\d\b"#, .mail, "the step `Mail:` (Go net/smtp's Client.Mail) before the reply"),
        Phrase(#"\b(?-i:Rcpt): [245]\d\d\b"#, .rcpt, "the step `Rcpt:` (Go net/smtp's Client.Rcpt) before the reply"),
        Phrase(#"\b(?-i:Data): [245]\d\d\b"#, .data, "the step `Data:` (Go net/smtp's Client.Data) before the reply"),
        Phrase(
            #"\b(?-i:Hello): [245]\d\d\b"#, .helo, "the step `Hello:` (Go net/smtp's Client.Hello) before the reply"),
        // MailKit's SmtpClient raises SmtpCommandException from the method that sent the command
        // (SmtpClient.cs: `Ehlo`/`EhloAsync`, which also sends HELO when EHLO is refused).
        Phrase(
            #"\bSmtpClient\.(?:Ehlo|Helo)(?:Async)?\b"#, .helo,
            "MailKit's stack trace: `SmtpClient.Ehlo` sent the command"),
        Phrase(#"System\.Net\.Mail\.(?:DataStopCommand|DataCommand)\b"#, .data, ".NET's stack trace: DataCommand"),
        Phrase(#"System\.Net\.Mail\.RecipientCommand\b"#, .rcpt, ".NET's stack trace: RecipientCommand"),
        Phrase(#"System\.Net\.Mail\.MailCommand\b"#, .mail, ".NET's stack trace: MailCommand (MAIL FROM)"),
        Phrase(#"System\.Net\.Mail\.E?HelloCommand\b"#, .helo, ".NET's stack trace: EHelloCommand"),
        // Ruby's Net::SMTP raises from check_response inside the method that sent the command
        // (net/smtp.rb: helo, ehlo, mailfrom, rcptto, data); a backtrace names it (`smtp.rb:914:in
        // data`, `in `rcptto'`, `in 'Net::SMTP#data'`). `rcptto_list` only wraps rcptto and data.
        Phrase(
            #"smtp\.rb:\d+:in [`']?(?:Net::SMTP#)?data\b"#, .data, "Ruby's Net::SMTP backtrace: `data` sent the command"
        ),
        Phrase(
            #"smtp\.rb:\d+:in [`']?(?:Net::SMTP#)?rcptto\b(?! list)"#, .rcpt,
            "Ruby's Net::SMTP backtrace: `rcptto` sent the command"),
        Phrase(
            #"smtp\.rb:\d+:in [`']?(?:Net::SMTP#)?mailfrom\b"#, .mail,
            "Ruby's Net::SMTP backtrace: `mailfrom` sent the command"),
        Phrase(
            #"smtp\.rb:\d+:in [`']?(?:Net::SMTP#)?e?helo\b"#, .helo,
            "Ruby's Net::SMTP backtrace: `ehlo` sent the command"),
        // An error that quotes the command it sent, and that command is the lone dot ending the
        // message (Swift-SMTP's `Bad response received for command. commands: (\n.), response: 554`).
        Phrase(
            #"\bcommands?:?\s*[(\["']\s*\.\s*[)\]"']"#, .data,
            "the error quotes the command it sent, the dot that ends the message (RFC 5321 4.1.1.4)"),
        // Swift Mailer/Symfony (`Expected response code 354 but got code "554"`) and DokuWiki's smtp
        // plugin (`Unexpected return code - Expected: 354, Got: 503`) name the code they waited for.
        Phrase(
            #"Expected(?: response code)?:?\s*"?354\b"#, .data,
            "the library expected 354, which only DATA answers with (RFC 5321 4.3.2)"),
        Phrase(
            #"Expected response code "?250/251/252\b"#, .rcpt,
            "Swift Mailer/Symfony: a reply to RCPT TO, which expects 250/251/252"),
        Phrase(
            #"Expected(?: response code)?:?\s*"?220\b"#, .greeting,
            "the library expected 220, the greeting (RFC 5321 4.3.2)"),
        Phrase(
            #"\bcommand(?:\s+|\s*=\s*)["']?DATA\b|\bDATA(?: END)? command (?:failed|not accepted)|Sending message data failed|\bdata not accepted|\bMessage failed:|SMTPDataError|\bcommand:\s*["']DATA|end of DATA command|MessageNotAccepted|Failed to send data|did not accept the mail|\[EOF\]"#,
            .data, "the error names the DATA command or the end of the message"),
        Phrase(
            #"\bcommand(?:\s+|\s*=\s*)["']?RCPT\b|\bRCPT(?: TO)?(?: command)? failed|\bRCPT not accepted|all recipients were rejected|SMTPRecipientsRefused|SMTPAddressFailedException|SmtpFailedRecipients?Exception(?![&\w])|\bcommand:\s*["']RCPT|RecipientNotAccepted|Failed to add (?:recipient|to email address)|(?<!Delivery to the )following recipients? failed|recipient address \S+ not accepted|one of the recipients was rejected|check the message recipient|\brecipient <[^<>]*> rejected|\bRCPT failed|\bRCPT TO:?\s*<[^<>\s]*>\s+failed|(?-i:\bInvalid Addresses\b)"#,
            .rcpt, "the error names the RCPT TO command or the recipient"),
        // sendmail's transcript put on one line with its `>>>` lost (`RCPT TO: <<< 550 No such user
        // here`): the reply after `<<<` answers that command. With its `>>>` the transcript reader
        // decides, since a pipelining client shows several commands before their replies.
        Phrase(
            #"(?<!>>>\s)\bRCPT TO:?\s*(?:<[^<>\s]*>\s*)?<<<\s*[245]\d\d\b"#, .rcpt,
            "sendmail's `RCPT TO ... <<< CODE` on one line"),
        Phrase(
            #"(?<!>>>\s)\bMAIL FROM:?\s*(?:<[^<>\s]*>\s*)?<<<\s*[245]\d\d\b"#, .mail,
            "sendmail's `MAIL FROM ... <<< CODE` on one line"),
        // Domino's SMTPClient debug log names the command it sent (`Command:EODT Error:554 ...`,
        // EODT being the end of the message data).
        Phrase(#"\bCommand:\s*EODT\b"#, .data, "Domino's `Command:EODT` (the end of the message data)"),
        // Sun/Oracle Messaging Server's notice (also iCloud's): `Reason: Remote SMTP server has
        // rejected address`, the recipient's address, which only RCPT TO carries.
        Phrase(
            #"\bserver has rejected (?:the )?(?:recipient )?address\b"#, .rcpt,
            "the notice says the server rejected the recipient's address (Messaging Server's `Reason:`)"),
        Phrase(
            #"\bcommand(?:\s+|\s*=\s*)["']?MAIL\b|\bMAIL(?: FROM)?(?: command)? failed|\bMAIL not accepted|SMTPSenderRefused|SMTPSenderFailedException|\bcommand:\s*["']MAIL|SenderNotAccepted|Failed to set sender|following From address failed|envelope from address \S+ not accepted|verify the e-mail address in your account|\bMAIL failed|\bMAIL FROM:?\s*<[^<>\s]*>\s+failed"#,
            .mail, "the error names the MAIL FROM command or the sender"),
        Phrase(
            #"\bcommand(?:\s+|\s*=\s*)["']?(?:EHLO|HELO)\b|\b(?:EHLO|HELO)(?: command)? failed|\b(?:EHLO|HELO) not accepted|SMTPHeloError|\bcommand:\s*["'](?:EHLO|HELO)"#,
            .helo, "the error names the EHLO/HELO command"),
        Phrase(
            #"Invalid greeting|SMTPConnectError|\bgreeting\b.{0,20}\b(?:failed|rejected|refused)|\bcommand:\s*["']CONN\b"#,
            .greeting,
            "the error is about the server's greeting"),
        // Prose that names the command (`responded to the RCPT TO command with`, `Error during MAIL
        // FROM:`, `SMTP error on DATA:`, `at the RCPT stage`); the command's name in capitals, so that
        // `on mail servers` is no MAIL.
        Phrase(
            #"\b(?:to|at|on|during|in response to|for|with)\s+(?:the\s+)?(?-i:RCPT(?: TO)?)\b|(?<!need )\b(?-i:RCPT(?: TO)?)\s+(?:command|stage|phase)\b"#,
            .rcpt, "the words name the RCPT TO command"),
        Phrase(
            #"\b(?:to|at|on|during|in response to|for|with)\s+(?:the\s+)?(?-i:MAIL(?: FROM)?)\b|\b(?-i:MAIL(?: FROM)?)\s+(?:command|stage|phase)\b"#,
            .mail, "the words name the MAIL FROM command"),
        Phrase(
            #"\b(?:to|at|on|during|in response to|for|with)\s+(?:the\s+)?(?-i:DATA)\b|\b(?-i:DATA)\s+(?:command|stage|phase)\b"#,
            .data, "the words name the DATA command"),
        Phrase(
            #"\b(?:to|at|on|during|in response to|for|with)\s+(?:the\s+)?(?-i:EHLO|HELO)\b|\b(?-i:EHLO|HELO)\s+(?:command|stage|phase)\b"#,
            .helo, "the words name the EHLO/HELO command"),
        // Thunderbird's, SeaMonkey's and Netscape's dialogs (mailnews/compose messages.ftl,
        // Netscape's allxpstr.h): one text per command, with the server's reply inside.
        Phrase(
            #"verify that your e-?mail address is correct"#, .mail,
            "the mail client's dialog for a refused MAIL FROM (`Please verify that your email address is correct`)"),
        Phrase(
            #"exceeding the allowed number of recipients|server rejected one or more recipient addresses"#, .rcpt,
            "the mail client's dialog for a refused recipient"),
        // Outlook's and Outlook Express's error numbers (imnxport.h): IXP_E_SMTP_REJECTED_SENDER and
        // IXP_E_SMTP_REJECTED_RECIPIENTS.
        Phrase(#"0x800CCC78\b"#, .mail, "Outlook's error 0x800CCC78 (the server refused the sender)"),
        Phrase(#"0x800CCC79\b"#, .rcpt, "Outlook's error 0x800CCC79 (the server refused a recipient)"),
        Phrase(
            #"Please check the message and try again|An (?:Outgoing server )?\(SMTP\) error occurred while sending mail"#,
            .data,
            "the mail client's dialog for a refused message (`Please check the message and try again`)"),
        // Nodemailer 0.x's error object: `stage: 'rcpt'`.
        Phrase(#"\bstage:\s*['"]rcpt['"]"#, .rcpt, "the error's `stage: 'rcpt'`"),
        Phrase(#"\bstage:\s*['"]mail['"]"#, .mail, "the error's `stage: 'mail'`"),
        Phrase(#"\bstage:\s*['"]data['"]"#, .data, "the error's `stage: 'data'`"),
        Phrase(#"\bstage:\s*['"](?:helo|ehlo)['"]"#, .helo, "the error's `stage: 'ehlo'`"),
        // The reply's own words that only one stage answers with.
        Phrase(
            #"Recipient address rejected|Relay access denied|relay not permitted|Relaying denied|Unable to relay"#,
            .rcpt,
            "the reply's words: recipient and relay restrictions answer RCPT TO (Postfix reject_unauth_destination, Exim's, sendmail's and Exchange's relay checks)",
            .text),
        Phrase(
            #"\bRCPT first\b|\bneed RCPT command\b|\bno valid recipients\b"#, .data,
            "the reply's words: DATA before any accepted recipient (qmail-smtpd's `503 RCPT first`, Postfix's `need RCPT command` and `no valid recipients`)",
            .text),
        Phrase(
            #"message content rejected"#, .data,
            "the reply's words: Postfix's header and body checks answer after the message", .text),
        Phrase(
            #"nested MAIL command"#, .mail,
            "the reply's words: Postfix's smtpd says `nested MAIL command` only to MAIL FROM", .text),
    ]

    /// Words of the reply itself about the message's headers or content: the receiver sees them only
    /// after DATA (RFC 5321 3.3), so a reply that names them answered the message. Only the reply's
    /// text is searched (a bounce's `Message headers follow` is no reply).
    static let messageWords = try! NSRegularExpression(
        pattern:
            #"\b(?:headers?|header[- ]based|message (?:body|content)|attachments?|virus(?:es)?|malware)\b"#,
        options: [.caseInsensitive])

    static func stage(replyText: String) -> (SMTPStage, String)? {
        let range = NSRange(replyText.startIndex..., in: replyText)
        guard let match = messageWords.firstMatch(in: replyText, range: range),
            let words = Range(match.range, in: replyText)
        else { return nil }
        return (
            .data,
            "the reply's words `\(replyText[words])` are about the message, which the receiver has only after DATA (RFC 5321 3.3)"
        )
    }

    /// The stage the words of `text` name, and why. `replyOffset`, where the reply sits in `text`,
    /// prefers the phrase nearest to it among the strongest (a bounce for two recipients).
    /// `strength`, when given, keeps only the phrases of that strength.
    static func stage(in text: String, replyOffset: Int?, replyText: String?, strength: Strength? = nil) -> (
        SMTPStage, String
    )? {
        let subject = text.replacingOccurrences(of: "_", with: " ")
        let range = NSRange(subject.startIndex..., in: subject)
        var best: (phrase: Phrase, distance: Int, words: String)?
        for phrase in phrases where strength == nil || phrase.strength == strength {
            for match in phrase.regex.matches(in: subject, range: range) {
                let distance = replyOffset.map { abs(match.range.location - $0) } ?? match.range.location
                let words = Range(match.range, in: subject).map { String(subject[$0]) } ?? phrase.pattern
                if let current = best {
                    if phrase.strength < current.phrase.strength { continue }
                    if phrase.strength == current.phrase.strength, distance >= current.distance { continue }
                }
                best = (phrase, distance, words)
            }
        }
        guard let best else { return nil }
        // Postfix says `refused to talk to me` for a 5xx to HELO as for the greeting (smtp_proto.c
        // smtp_helo()): a reply about the HELO name answered HELO.
        if best.phrase.stage == .greeting, best.words.lowercased().hasPrefix("refused"), let replyText,
            replyText.range(of: #"\b(HELO|EHLO)\b"#, options: [.regularExpression, .caseInsensitive]) != nil
        {
            return (
                .helo,
                "Postfix's `refused to talk to me` with a reply about the HELO name (smtp_proto.c says so for a HELO that is not 2xx too)"
            )
        }
        return (best.phrase.stage, "\(best.phrase.why): `\(best.words)`")
    }
}
