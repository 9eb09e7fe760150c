import Foundation
import SMTPProtocol

/// The three-digit code of a reply that the input printed without it (a mail client's dialog shows
/// the server's text only): the code an RFC or an MTA fixes for that text, else the code RFC 5321
/// gives a refusal of that class at that stage.
enum CodelessReply {
    struct Known {
        var regex: NSRegularExpression
        var code: Int
        /// The one stage an MTA answers with this text, when there is one.
        var stage: SMTPStage?
        var why: String

        init(_ pattern: String, _ code: Int, _ stage: SMTPStage?, _ why: String) {
            // A table entry that does not compile is a programming error, caught by every test.
            self.regex = try! NSRegularExpression(pattern: pattern, options: [.caseInsensitive])
            self.code = code
            self.stage = stage
            self.why = why
        }
    }

    /// Texts whose code is fixed. RFC 5321's own texts come first (4.2.2: `550 Requested action not
    /// taken: mailbox unavailable`, `450 Requested mail action not taken: mailbox unavailable`).
    static let known: [Known] = [
        Known(#"Requested mail action not taken: mailbox unavailable"#, 450, nil, "RFC 5321 4.2.2's text for 450"),
        Known(#"Requested action not taken: mailbox unavailable"#, 550, nil, "RFC 5321 4.2.2's text for 550"),
        Known(#"Requested action aborted: local error in processing"#, 451, nil, "RFC 5321 4.2.2's text for 451"),
        Known(#"Requested action not taken: insufficient system storage"#, 452, nil, "RFC 5321 4.2.2's text for 452"),
        Known(
            #"Requested mail action aborted: exceeded storage allocation"#, 552, nil,
            "RFC 5321 4.2.2's text for 552"),
        Known(#"Requested action not taken: mailbox name not allowed"#, 553, nil, "RFC 5321 4.2.2's text for 553"),
        Known(
            #"\bNo SMTP service\b"#, 554, .greeting,
            "RFC 5321 3.1: a server that refuses the connection answers `554 No SMTP service here` in place of 220"),
        Known(
            #"\btoo many recipients\b"#, 452, .rcpt,
            "RFC 5321 4.5.3.1.10: `452 Too many recipients` answers the RCPT TO over the limit"),
        // Replies to a bad HELO argument: Exim's own check (smtp_in.c: `501 Syntactically invalid %s
        // argument(s)`) and Gmail's documented `501 5.5.4 HELO/EHLO argument ... invalid` and `501 5.5.4
        // Empty HELO/EHLO argument not allowed` (Gmail SMTP error reference).
        Known(
            #"Syntactically invalid (?:EHLO|HELO) argument|HELO/EHLO argument\b.{0,80}\binvalid|Empty HELO/EHLO argument"#,
            501, .helo, "the reply to a bad HELO argument (Exim's smtp_in.c, Gmail's 501 5.5.4)"),
        // Postfix (postconf(5) defaults, smtpd_check.c and smtpd.c).
        Known(
            #"Relay access denied"#, 554, .rcpt,
            "Postfix's reject_unauth_destination (relay_domains_reject_code = 554)"),
        Known(
            #"User unknown in (?:local recipient|virtual mailbox|virtual alias|relay recipient) table"#, 550, .rcpt,
            "Postfix's unknown recipient (unknown_local_recipient_reject_code and its kin = 550)"),
        Known(#"Error: queue file write error"#, 451, .data, "Postfix's smtpd after the end of the message (smtpd.c)"),
        Known(
            #"Server configuration (?:problem|error)"#, 451, nil,
            "Postfix's smtpd when a restriction's table or setting fails (smtpd_check.c: `451 4.3.5 Server configuration problem`)"
        ),
        // Providers' documented temporary refusals: Microsoft's `451 4.7.650 The mail server [ADDR] has been
        // temporarily rate limited due to IP reputation` (Exchange Online NDR reference), Gmail's
        // `421-4.7.28 ... unusual rate of unsolicited mail` (Gmail SMTP error reference).
        Known(
            #"temporarily rate limited due to IP reputation"#, 451, nil,
            "Microsoft's documented `451 4.7.650`/`4.7.651` text (Exchange Online NDR reference)"),
        Known(
            #"unusual rate of\s+(?:\d{3}[- ]\S+\s+)?unsolicited mail.*temporarily"#, 421, nil,
            "Gmail's documented `421-4.7.28` text for a rate-limited sender"),
        // qmail-smtpd.c's fixed replies (err_nogateway, err_bmf, err_size); qmail checks badmailfrom at RCPT.
        Known(
            #"list of allowe?d? rcpthosts"#, 553, .rcpt,
            "qmail-smtpd's `553 sorry, that domain isn't in my list of allowed rcpthosts`"),
        Known(
            #"envelope sender is in my badmailfrom list"#, 553, .rcpt,
            "qmail-smtpd's `553 sorry, your envelope sender is in my badmailfrom list`"),
        Known(
            #"message size exceeds my databytes limit"#, 552, .data,
            "qmail-smtpd's `552 sorry, that message size exceeds my databytes limit`"),
    ]

    /// The fixed code of `text`, when it is one of the known texts and agrees with the enhanced code's class.
    static func known(_ text: String, enhanced: EnhancedCode?) -> Known? {
        let range = NSRange(text.startIndex..., in: text)
        return known.first { entry in
            let sameClass = enhanced.map { $0.klass == entry.code / 100 } ?? true
            return sameClass && entry.regex.firstMatch(in: text, range: range) != nil
        }
    }

    /// The code, and why: the known text's, else RFC 5321's code for a refusal of the enhanced code's
    /// class at `stage` (4.2.2: 550/450 refuse a command; 4.3.2: 554 "Transaction failed" and 451
    /// refuse the message after DATA; 3.1 and 4.2.2: 554/421 refuse the connection). Without an
    /// enhanced code the refusal is taken as permanent, and the reason says so.
    static func code(text: String, enhanced: EnhancedCode?, stage: SMTPStage?) -> (code: Int, why: String) {
        if let entry = known(text, enhanced: enhanced) { return (entry.code, entry.why) }
        let klass = enhanced?.klass ?? 5
        let code: Int
        switch (stage, klass) {
        case (.greeting?, 4), (.connect?, 4): code = 421
        case (.greeting?, _), (.connect?, _): code = 554
        case (.data?, 4): code = 451
        case (.data?, _): code = 554
        case (_, 4): code = 450
        default: code = 550
        }
        let stageWords = stage.map { " at \($0)" } ?? ""
        if let enhanced {
            let refusal = "a class \(enhanced.klass) refusal\(stageWords)"
            return (code, "RFC 5321's code for \(refusal) (the enhanced code is \(enhanced.text))")
        }
        return (code, "no code and no enhanced code: a permanent refusal\(stageWords) is assumed (RFC 5321's \(code))")
    }
}
