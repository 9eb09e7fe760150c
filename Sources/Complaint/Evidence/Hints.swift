import DNSCore
import Foundation
import SMTPProtocol
import Scenario

/// What the words around a reply tell when the format itself does not: the stage (qmail's
/// `failed after I sent the message`, a client library's `command DATA`), the outcome the sender
/// recorded, and the client address a provider names in its text (`IP=...`, `for ADDR`).
enum Hints {
    private struct StageWords {
        var pattern: String
        var stage: SMTPStage
        var why: String
    }

    /// In order: the first that matches decides. Case-insensitive.
    private static let stageWords: [StageWords] = [
        // qmail-remote's own words (qmail-remote.c): one message per stage of the session.
        StageWords(pattern: #"failed[ _]after[ _]I[ _]sent[ _]the[ _]message"#, stage: .data, why: "qmail-remote's words for a reply to the end of the message"),
        StageWords(pattern: #"failed[ _]on[ _]DATA[ _]command"#, stage: .data, why: "qmail-remote's words for a reply to DATA"),
        StageWords(pattern: #"does[ _]not[ _]like[ _]recipient"#, stage: .rcpt, why: "qmail-remote's words for a reply to RCPT TO"),
        StageWords(pattern: #"but[ _]sender[ _]was[ _]rejected"#, stage: .mail, why: "qmail-remote's words for a reply to MAIL FROM"),
        StageWords(pattern: #"but[ _]my[ _]name[ _]was[ _]rejected"#, stage: .helo, why: "qmail-remote's words for a reply to HELO"),
        StageWords(pattern: #"but[ _]greeting[ _]failed"#, stage: .greeting, why: "qmail-remote's words for a greeting that is not 220"),
        // Postfix's smtp client (smtp_proto.c smtp_helo()).
        StageWords(pattern: #"refused to talk to me"#, stage: .greeting, why: "Postfix's words for a greeting that is not 220"),
        // Client libraries' errors name the command they sent: HaskellNet `cannot execute command DATA`,
        // Nodemailer `Data command failed` / `Message failed` (its reply to the end of the message) /
        // `Invalid greeting` / `all recipients were rejected`, PHPMailer `DATA END command failed`,
        // Python smtplib's exception classes.
        StageWords(pattern: #"\bcommand\s+["']?DATA\b|\bDATA(\s+END)?\s+command\s+failed|\bdata not accepted|\bMessage failed:|SMTPDataError|\bcommand:\s*'DATA'|after end of data|end of DATA command"#, stage: .data, why: "the error names the DATA command or the end of the message"),
        StageWords(pattern: #"\bcommand\s+["']?RCPT\b|\bRCPT( TO)?\s+command\s+failed|all recipients were rejected|SMTPRecipientsRefused|\bcommand:\s*'RCPT"#, stage: .rcpt, why: "the error names the RCPT TO command"),
        StageWords(pattern: #"\bcommand\s+["']?MAIL\b|\bMAIL( FROM)?\s+command\s+failed|SMTPSenderRefused|\bcommand:\s*'MAIL"#, stage: .mail, why: "the error names the MAIL FROM command"),
        StageWords(pattern: #"\bcommand\s+["']?(EHLO|HELO)\b|\b(EHLO|HELO)\s+command\s+failed|SMTPHeloError"#, stage: .helo, why: "the error names the EHLO/HELO command"),
        // Postfix's `Recipient address rejected:` comes only from recipient restrictions, at RCPT;
        // sendmail logs the ruleset (`ruleset=check_rcpt`); Exim's 501 for a bad HELO.
        StageWords(pattern: #"Recipient address rejected|ruleset=check_rcpt"#, stage: .rcpt, why: "Postfix's `Recipient address rejected` (recipient restrictions, at RCPT) or sendmail's check_rcpt ruleset"),
        StageWords(pattern: #"ruleset=check_mail"#, stage: .mail, why: "sendmail's check_mail ruleset"),
        StageWords(pattern: #"invalid HELO argument"#, stage: .helo, why: "Exim's reply to a bad HELO argument"),
        StageWords(pattern: #"Invalid greeting|SMTPConnectError|\bgreeting\b.{0,20}\b(failed|rejected|refused)|after initial connection"#, stage: .greeting, why: "the error is about the server's greeting"),
    ]

    /// Words of provider front ends that answer the connection itself (no command was sent yet).
    private static let greetingTexts = #"No SMTP service|ESMTP Service not available|not allowed to connect|connection (refused|rejected|not accepted)|^IP=\S+ - |\((DIAL|BL|RBL|RL)\)\s*$|Dialup/transient IP"#

    /// The stage the words of `text` name, with why.
    static func stage(in text: String) -> (SMTPStage, String)? {
        for words in stageWords where text.range(of: words.pattern, options: [.regularExpression, .caseInsensitive]) != nil {
            return (words.stage, words.why)
        }
        return nil
    }

    /// The greeting, when the reply text is one that front ends answer connections with.
    static func greetingStage(replyText: String) -> String? {
        guard let range = replyText.range(of: greetingTexts, options: [.regularExpression, .caseInsensitive]) else { return nil }
        return "the reply text `\(replyText[range])`, which front ends answer the connection itself with (no command sent yet)"
    }

    /// How the sending MTA ended the delivery, from a bounce's or a notice's own words.
    static func outcome(in text: String) -> (DeliveryOutcome, String)? {
        let deferred = [
            #"THIS IS A WARNING ONLY"#, #"Delivery (has been )?delayed"#, #"has not yet been delivered"#, #"could not be delivered for more than"#,
            #"will (be retried|retry|continue to try)"#, #"status=deferred"#,
        ]
        let bounced = [
            #"could not be delivered to one or more recipients"#, #"permanent(ly)? (error|fatal)"#, #"Delivery has failed"#,
            #"I'm not going to try again"#, #"I couldn't deliver"#, #"Undelivered Mail Returned"#, #"status=bounced"#,
            #"Mail delivery failed"#, #"could not be delivered"#,
        ]
        for pattern in deferred where text.range(of: pattern, options: [.regularExpression, .caseInsensitive]) != nil {
            return (.deferred, "the notice's words matching `\(pattern)` (a delay notice: the sender is still trying)")
        }
        for pattern in bounced where text.range(of: pattern, options: [.regularExpression, .caseInsensitive]) != nil {
            return (.bounced, "the notice's words matching `\(pattern)` (a non-delivery report)")
        }
        return nil
    }

    /// Addresses a reply text names without brackets: `IP=192.0.2.1`, `ip=...;`, `for 2001:db8::1`,
    /// `ip: 192.0.2.1`. Tokens that parse as addresses, in order.
    static func bareAddresses(_ text: String) -> [IPAddress] {
        var out: [IPAddress] = []
        let separators = CharacterSet(charactersIn: "0123456789abcdefABCDEF:.").inverted
        for token in text.components(separatedBy: separators) where token.count >= 7 {
            let trimmed = token.trimmingCharacters(in: CharacterSet(charactersIn: ".:"))
            guard trimmed.contains(".") || trimmed.contains(":") else { continue }
            // A dotted IPv4 address or an IPv6 address with at least two colons.
            if let address = IPAddress(trimmed), !out.contains(address),
               address.family == .ipv4 ? trimmed.split(separator: ".").count == 4 : trimmed.filter({ $0 == ":" }).count >= 2 {
                out.append(address)
            }
        }
        return out
    }

    /// `IPv6` named in the text (`message sent over IPv6`, `IPv6 sending guidelines`).
    static func mentionsIPv6(_ text: String) -> Bool {
        text.range(of: "IPv6", options: .caseInsensitive) != nil
    }

    /// Python smtplib's exceptions print a reply as a tuple: `(550, b'5.7.26 text')`.
    static func tupleReply(_ lines: [String]) -> (SMTPReply, String)? {
        let pattern = #"\(([245]\d\d),\s*b?(['"])(.*?)\2\)"#
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return nil }
        for line in lines {
            guard let match = regex.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)),
                  let code = Range(match.range(at: 1), in: line), let text = Range(match.range(at: 3), in: line),
                  let reply = ReplyText.reply(Substring("\(line[code]) \(line[text].replacingOccurrences(of: "\\n", with: " "))"))
            else { continue }
            return (reply, line)
        }
        return nil
    }

    /// The first reply after the words client libraries and logs put before one (`received 550 ...`,
    /// `response=554 ...`, `Remote host said: 550 ...`, `returned '550 ...`), with the lines after it
    /// that continue it (`5.7.1 more text` with the same enhanced code, or `550-...`).
    static func markedReply(_ lines: [String]) -> (SMTPReply, String)? {
        let marker = #"(?:said:|received|response[=:]\s*'?|returned\s*'|reject=|failed:|error:|Error:|rejected:|with:)\s*([245]\d\d[ :-])"#
        guard let regex = try? NSRegularExpression(pattern: marker, options: [.caseInsensitive]) else { return nil }
        for (index, line) in lines.enumerated() {
            guard let match = regex.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)),
                  let start = Range(match.range(at: 1), in: line),
                  let first = ReplyText.reply(line[start.lowerBound...])
            else { continue }
            var texts = [first.text]
            var next = index + 1
            while next < lines.count {
                let candidate = lines[next].trimmingCharacters(in: .whitespaces)
                if let enhanced = first.enhanced, candidate.hasPrefix(enhanced + " ") {
                    texts.append(String(candidate.dropFirst(enhanced.count + 1)))
                } else if candidate.hasPrefix("\(first.code)"), let more = ReplyText.reply(Substring(candidate)) {
                    texts.append(more.text)
                } else {
                    break
                }
                next += 1
            }
            var text = texts.joined(separator: " ")
            for quote in ["'", "\""] where text.hasSuffix(quote) { text.removeLast() }
            return (SMTPReply(code: first.code, enhanced: first.enhanced, text.trimmingCharacters(in: .whitespaces)), line)
        }
        return nil
    }
}
