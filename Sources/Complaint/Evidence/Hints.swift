import DNSCore
import Foundation
import SMTPProtocol
import Scenario

/// What the words around a reply tell when the format itself does not: a front end's
/// connection-time text, the outcome the sender recorded, and the client address a provider names
/// in its text (`IP=...`, `for ADDR`). The stage's words are `StageWords`.
enum Hints {
    /// Words of provider front ends that answer the connection itself (no command was sent yet).
    /// Front ends' words for refusing the connection itself; `bizsmtp` is the Cloudmark gateway's
    /// greeting token (`554 mx.example.test bizsmtp ID Connection refused from ...`, `220 ... bizsmtp ESMTP`).
    private static let greetingTexts =
        #"\bbizsmtp\b|No SMTP service|ESMTP Service not available|not allowed to connect|connection (refused|rejected|not accepted)|^IP=\S+ - |\((DIAL|BL|RBL|RL)\)\s*$|Dialup/transient IP"#

    /// The greeting, when the reply text is one that front ends answer connections with.
    static func greetingStage(replyText: String) -> String? {
        guard let range = replyText.range(of: greetingTexts, options: [.regularExpression, .caseInsensitive]) else {
            return nil
        }
        return
            "the reply text `\(replyText[range])`, which front ends answer the connection itself with (no command sent yet)"
    }

    /// How the sending MTA ended the delivery, from a bounce's or a notice's own words.
    static func outcome(in text: String) -> (DeliveryOutcome, String)? {
        let deferred = [
            #"THIS IS A WARNING ONLY"#, #"Delivery (has been )?delayed"#, #"has not yet been delivered"#,
            #"could not be delivered for more than"#,
            #"will (be retried|retry|continue to try)"#, #"status=deferred"#, #"\bdelivery \d+: deferral:"#,
            // Exim's delivery log: `== r R=... T=... defer (...)` (a deferral; `**` is a failure).
            #"\s==\s<?[^\s<>]+@[^\s<>]+>?\s+(?:<[^>]*>\s+)?(?:R|T)="#,
        ]
        let bounced = [
            #"could not be delivered to one or more recipients"#, #"permanent(ly)? (error|fatal)"#,
            #"Delivery has failed"#,
            #"I'm not going to try again"#, #"I couldn't deliver"#, #"Undelivered Mail Returned"#, #"status=bounced"#,
            #"Mail delivery failed"#, #"could not be delivered"#, #"\bdelivery \d+: failure:"#,
            #"\s\*\*\s<?[^\s<>]+@[^\s<>]+>?\s+(?:<[^>]*>\s+)?(?:R|T)="#,
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
                address.family == .ipv4
                    ? trimmed.split(separator: ".").count == 4 : trimmed.filter({ $0 == ":" }).count >= 2
            {
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
        // `SMTPSenderRefused` adds the sender after the text: `(553, b'...', 'a@sender.test')`.
        let pattern = #"\(([245]\d\d),\s*b?(['"])(.*?)\2\s*[,)]"#
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return nil }
        for line in lines {
            guard let match = regex.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)),
                let code = Range(match.range(at: 1), in: line), let text = Range(match.range(at: 3), in: line),
                let reply = ReplyText.reply(
                    Substring("\(line[code]) \(line[text].replacingOccurrences(of: "\\n", with: " "))"))
            else { continue }
            return (reply, line)
        }
        return nil
    }

    /// The first reply after the words client libraries and logs put before one (`received 550 ...`,
    /// `response=554 ...`, `Remote host said: 550 ...`, `returned '550 ...`), with the lines after it
    /// that continue it (`5.7.1 more text` with the same enhanced code, or `550-...`).
    static func markedReply(_ lines: [String]) -> (SMTPReply, String)? {
        let marker =
            #"(?:said:|received|response[=:]\s*'?|returned\s*'|reject=|failed:|error:|Error:|rejected:|with:)\s*([245]\d\d[ :-])"#
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
            return (
                SMTPReply(
                    code: first.code, enhanced: first.enhanced,
                    ReplyText.cleaned(text.trimmingCharacters(in: .whitespaces))), line
            )
        }
        return nil
    }
}
