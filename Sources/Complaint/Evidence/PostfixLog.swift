import DNSCore
import Foundation
import SMTPProtocol
import Scenario

/// Postfix log lines: a receiving `smtpd`'s reject (smtpd_check.c `log_whatsup`:
/// `QUEUEID: reject: CMD from name[addr]: CODE ENH TEXT; from=<s> to=<r> proto=P helo=<h>`) and a
/// sending `smtp` client's delivery status (`QUEUEID: to=<r>, relay=host[addr]:25, ..., status=deferred
/// (host host[addr] said: CODE ENH TEXT (in reply to RCPT TO command))`).
enum PostfixLog {
    /// The queue id may be a placeholder (Postfix's own tests print `<queue id>`, smtpd_check.ref).
    private static let reject = try! NSRegularExpression(
        pattern:
            #"(?:NOQUEUE|[0-9A-Za-z]+|<queue id>): (reject|milter-reject): (RCPT|MAIL|DATA|END-OF-MESSAGE|BDAT|CONNECT|EHLO|HELO|VRFY|ETRN) from ([^\s\[]*)\[([^\]]+)\](?::\d+)?: (.*)$"#
    )
    /// cleanup's header and body checks (cleanup_milter.c, header_checks(5) REJECT):
    /// `QUEUEID: reject: header Subject: ... from name[addr]; from=<s> to=<r> proto=P helo=<h>: 5.7.1 text`.
    private static let contentReject = try! NSRegularExpression(
        pattern:
            #"[0-9A-Za-z]+: reject: (header|body|mime-header|nested-header) .*? from ([^\s\[;]*)\[([^\]]+)\](?::\d+)?;(.*?): ([245](?:\d\d|\.\d{1,3}\.\d{1,3}) .*)$"#
    )
    private static let keyValueTail = try! NSRegularExpression(
        pattern: #"^(?:(?:from|to|proto|helo)=(?:<[^>]*>|[^\s,]+),?\s*)+$"#)
    private static let logTag = try! NSRegularExpression(pattern: #"(\S+)\s+postfix[^\s/]*/[\w/-]+\[\d+\]:"#)

    /// Evidence from the first reject or delivery-status line of `lines`, or why there is none.
    static func read(_ given: [String]) -> Result<Evidence, ReaderMiss> {
        let lines = joinWrapped(given)
        for line in lines {
            if let evidence = readReject(line) ?? readContentReject(line) { return .success(evidence) }
        }
        for line in lines where line.contains("status=") && line.contains("to=<") {
            if let evidence = readDelivery(line, all: lines) { return .success(evidence) }
        }
        // `QUEUEID: host mx[addr] refused to talk to me: REPLY`: smtp_proto.c logs each greeting that is
        // not 220 and goes on to the next address; the status= line of the queue id tells the end.
        for line in lines
        where line.contains(" refused to talk to me: ")
            && line.range(of: #"postfix[^\s/]*/[\w/-]+\[\d+\]:"#, options: .regularExpression) != nil
        {
            var evidence = Evidence(source: .postfixDelivery)
            guard readSaid(line, into: &evidence, source: "`refused to talk to me` with the receiver's greeting") else {
                continue
            }
            if let queueID = line.range(of: #"[0-9A-Za-z]+(?=: host )"#, options: .regularExpression).map({
                String(line[$0])
            }) {
                for other in lines where other.contains("\(queueID): to=<") {
                    if let to = ReplyText.angle(after: "to=", in: other) {
                        evidence.addRecipient(to, from: "`\(queueID): to=<\(to)>`")
                    }
                    if let status = ReplyText.value(of: "status", in: other),
                        let outcome = outcome(ofStatus: String(status))
                    {
                        evidence.setOutcome(outcome, from: "`\(queueID): ... status=\(status)`")
                    }
                }
                for other in lines where other.contains("\(queueID): from=<") {
                    if let from = ReplyText.angle(after: "\(queueID): from=", in: other) {
                        evidence.setMailFrom(from, from: "the queue manager's line `\(queueID): from=<\(from)>`")
                    }
                }
            }
            if let host = syslogHost(line), host.contains(".") {
                evidence.setHelo(
                    host, from: "the sending host's syslog name (Postfix says HELO with myhostname)", inferred: true)
            }
            return .success(evidence)
        }
        return .failure(
            ReaderMiss(
                "no `reject: RCPT from name[addr]: CODE ...` (or milter-reject, or a header check's reject) line and no `to=<...>, relay=..., status=...` line"
            ))
    }

    static func readReject(_ line: String) -> Evidence? {
        let range = NSRange(line.startIndex..., in: line)
        guard let match = reject.firstMatch(in: line, range: range),
            let actionRange = Range(match.range(at: 1), in: line),
            let commandRange = Range(match.range(at: 2), in: line),
            let nameRange = Range(match.range(at: 3), in: line),
            let addressRange = Range(match.range(at: 4), in: line),
            let restRange = Range(match.range(at: 5), in: line)
        else { return nil }
        let action = String(line[actionRange])
        let command = String(line[commandRange])
        var rest = String(line[restRange])
        var evidence = Evidence(source: .postfixReject)
        let quoted = "`\(action): \(command) from \(line[nameRange])[\(line[addressRange])]`"

        // The key=value tail: after the last "; " whose remainder is only from=, to=, proto=, helo=.
        var tail = ""
        var search = rest.endIndex
        while let separator = rest.range(of: "; ", options: .backwards, range: rest.startIndex..<search) {
            let candidate = String(rest[separator.upperBound...])
            if keyValueTail.firstMatch(in: candidate, range: NSRange(candidate.startIndex..., in: candidate)) != nil {
                tail = candidate
                rest = String(rest[..<separator.lowerBound])
                break
            }
            search = separator.lowerBound
        }
        if let reply = ReplyText.reply(Substring(rest)) {
            evidence.setReply(reply, from: "the reject line's reply")
        } else if let (reply, why) = codeless(
            rest,
            logger: "cleanup logs a milter's reply after the end of the message without its code (cleanup_milter.c)")
        {
            evidence.reply = reply
            evidence.note(.reply, reply.description, from: why, inferred: true)
        } else {
            return nil
        }
        if let address = IPAddress(line[addressRange]) {
            evidence.setClient(address, from: quoted)
        }
        evidence.setClientName(String(line[nameRange]), from: quoted)
        switch command {
        case "RCPT": evidence.setStage(.rcpt, from: quoted)
        case "MAIL": evidence.setStage(.mail, from: quoted)
        case "DATA", "END-OF-MESSAGE", "BDAT": evidence.setStage(.data, from: quoted)
        case "EHLO", "HELO": evidence.setStage(.helo, from: quoted)
        case "CONNECT":
            evidence.setStage(
                .greeting, from: "\(quoted) (smtpd_delay_reject = no answers client restrictions at connect)",
                inferred: true)
        default: break
        }
        if let from = ReplyText.angle(after: "from=", in: tail) { evidence.setMailFrom(from, from: "`from=<\(from)>`") }
        if let to = ReplyText.angle(after: "to=", in: tail) { evidence.addRecipient(to, from: "`to=<\(to)>`") }
        if let helo = ReplyText.angle(after: "helo=", in: tail) { evidence.setHelo(helo, from: "`helo=<\(helo)>`") }
        if let host = syslogHost(line) {
            evidence.setReceiverName(
                host, from: "the syslog host name of the line (`\(host) postfix/...`)", inferred: true)
        }
        return evidence
    }

    /// A header or body check's reject (cleanup): the message's end is the stage.
    static func readContentReject(_ line: String) -> Evidence? {
        guard let match = contentReject.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)),
            let kindRange = Range(match.range(at: 1), in: line), let nameRange = Range(match.range(at: 2), in: line),
            let addressRange = Range(match.range(at: 3), in: line), let tailRange = Range(match.range(at: 4), in: line),
            let textRange = Range(match.range(at: 5), in: line)
        else { return nil }
        var evidence = Evidence(source: .postfixReject)
        let text = String(line[textRange])
        if let reply = ReplyText.reply(Substring(text)) {
            evidence.setReply(reply, from: "the reject line's reply")
        } else if let (reply, why) = codeless(
            text, logger: "cleanup logs a \(line[kindRange]) check's reply without its code")
        {
            evidence.reply = reply
            evidence.note(.reply, reply.description, from: why, inferred: true)
        } else {
            return nil
        }
        let quoted = "`reject: \(line[kindRange]) ... from \(line[nameRange])[\(line[addressRange])]`"
        if let address = IPAddress(line[addressRange]) { evidence.setClient(address, from: quoted) }
        evidence.setClientName(String(line[nameRange]), from: quoted)
        evidence.setStage(.data, from: "\(quoted): header and body checks answer after the message")
        let tail = String(line[tailRange])
        if let from = ReplyText.angle(after: "from=", in: tail) { evidence.setMailFrom(from, from: "`from=<\(from)>`") }
        if let to = ReplyText.angle(after: "to=", in: tail) { evidence.addRecipient(to, from: "`to=<\(to)>`") }
        if let helo = ReplyText.angle(after: "helo=", in: tail) { evidence.setHelo(helo, from: "`helo=<\(helo)>`") }
        return evidence
    }

    /// A reply logged without its three-digit code (`5.7.1 Spam message rejected`): the code
    /// Postfix answers with for such a reply. milter8.c's defaults are `550 5.7.1 Command rejected`
    /// and `451 4.7.1 Service unavailable - try again later`; rspamd's own reject text comes with
    /// 554 (its milter's default reply), and an enhanced code's class decides the rest.
    static func codeless(_ text: String, logger: String) -> (SMTPReply, String)? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let enhanced = EnhancedCode(trimmed) else { return nil }
        let body = trimmed.dropFirst(enhanced.text.count).trimmingCharacters(in: .whitespaces)
        let code: Int
        let why: String
        if enhanced.klass == 5, body.range(of: "Spam message rejected", options: .caseInsensitive) != nil {
            (code, why) = (554, "rspamd's reject text, which its milter sends as 554")
        } else if enhanced.klass == 4 {
            (code, why) = (451, "class 4: Postfix's milter tempfail reply is 451 (milter8.c)")
        } else {
            (code, why) = (550, "class 5: Postfix's milter and content reject reply is 550 (milter8.c, cleanup)")
        }
        return (SMTPReply(code: code, enhanced: enhanced.text, body), "\(logger); the code is \(code): \(why)")
    }

    static func readDelivery(_ line: String, all lines: [String]) -> Evidence? {
        guard let statusRange = line.range(of: "status=") else { return nil }
        var evidence = Evidence(source: .postfixDelivery)
        let detailStart = line[statusRange.upperBound...]
        let status = detailStart.prefix { $0 != " " && $0 != "(" }
        var detail = detailStart.dropFirst(status.count).drop { $0 == " " }
        if detail.hasPrefix("(") { detail = detail.dropFirst() }
        if detail.hasSuffix(")") { detail = detail.dropLast() }
        guard readSaid(String(detail), into: &evidence, source: "`status=\(status)` with the receiver's reply") else {
            return nil
        }
        if let outcome = outcome(ofStatus: String(status)) { evidence.setOutcome(outcome, from: "`status=\(status)`") }
        if let to = ReplyText.angle(after: "to=", in: line) { evidence.addRecipient(to, from: "`to=<\(to)>`") }
        // The queue manager's line of the same queue id carries the envelope sender.
        let queueID = line.range(of: #"[0-9A-Za-z]+(?=: to=<)"#, options: .regularExpression).map { String(line[$0]) }
        if let queueID {
            for other in lines where other.contains("\(queueID): from=<") {
                if let from = ReplyText.angle(after: "\(queueID): from=", in: other) {
                    evidence.setMailFrom(from, from: "the queue manager's line `\(queueID): from=<\(from)>`")
                }
            }
        }
        if let relay = ReplyText.value(of: "relay", in: line), let (name, address) = ReplyText.hostAndAddress(relay) {
            evidence.setReceiverName(name, from: "`relay=\(relay)`")
            evidence.setReceiverAddress(address, from: "`relay=\(relay)`")
        }
        if let host = syslogHost(line), host.contains(".") {
            evidence.setHelo(
                host, from: "the sending host's syslog name (Postfix says HELO with myhostname)", inferred: true)
        }
        return evidence
    }

    /// Postfix's account of a reply (its bounce text and its `status=` detail):
    /// `host H[A] said: CODE ENH TEXT (in reply to X command)` or `host H[A] refused to talk to me: REPLY`.
    static func readSaid(_ detail: String, into evidence: inout Evidence, source: String) -> Bool {
        let saidRange = detail.range(of: " said: ") ?? detail.range(of: " refused to talk to me: ")
        guard let saidRange else { return false }
        let hostPart = detail[..<saidRange.lowerBound]
        if let hostRange = hostPart.range(of: "host ", options: .backwards),
            let (name, address) = ReplyText.hostAndAddress(hostPart[hostRange.upperBound...])
        {
            evidence.setReceiverName(name, from: "`host \(name)[\(address)]`")
            evidence.setReceiverAddress(address, from: "`host \(name)[\(address)]`")
        }
        var replyText = String(detail[saidRange.upperBound...])
        if let inReply = replyText.range(of: #"\s*\(in reply to (.+?) command\)[\s)]*$"#, options: .regularExpression) {
            let words = replyText[inReply].replacingOccurrences(
                of: #"^\s*\(in reply to "#, with: "", options: .regularExpression
            )
            .replacingOccurrences(of: #" command\)[\s)]*$"#, with: "", options: .regularExpression)
            if let stage = ReplyText.stage(command: words) {
                evidence.setStage(stage, from: "`(in reply to \(words) command)`")
            }
            replyText = String(replyText[..<inReply.lowerBound])
        } else if detail[saidRange].contains("refused to talk") {
            // smtp_proto.c smtp_helo() says it for a greeting that is not 220 and for a HELO that is
            // not 2xx: a reply about the HELO name answered HELO.
            if replyText.range(of: #"\b(HELO|EHLO)\b"#, options: [.regularExpression, .caseInsensitive]) != nil {
                evidence.setStage(
                    .helo,
                    from:
                        "`refused to talk to me` with a reply about the HELO name (Postfix says it for a HELO that is not 2xx too, smtp_proto.c)"
                )
            } else {
                evidence.setStage(
                    .greeting, from: "`refused to talk to me` (Postfix's words for a greeting that is not 220)")
            }
        }
        guard let reply = ReplyText.reply(Substring(replyText)) else { return false }
        evidence.setReply(reply, from: source)
        return true
    }

    /// A log line that a paste wrapped (its `status=... (` not closed) joined with the lines after it
    /// until the parentheses close, at most 8 lines, none of them a log line of its own.
    static func joinWrapped(_ lines: [String]) -> [String] {
        var out: [String] = []
        var index = 0
        func balance(_ text: String) -> Int { text.reduce(0) { $0 + ($1 == "(" ? 1 : $1 == ")" ? -1 : 0) } }
        while index < lines.count {
            var line = lines[index]
            if line.contains("status="), balance(line) > 0 {
                var end = index
                var joined = line
                while balance(joined) > 0, end + 1 < lines.count, end - index < 8,
                    logTag.firstMatch(
                        in: lines[end + 1], range: NSRange(lines[end + 1].startIndex..., in: lines[end + 1])) == nil,
                    !lines[end + 1].trimmingCharacters(in: .whitespaces).isEmpty
                {
                    end += 1
                    joined += " " + lines[end].trimmingCharacters(in: .whitespaces)
                }
                if balance(joined) == 0 {
                    line = joined
                    index = end
                }
            }
            out.append(line)
            index += 1
        }
        return out
    }

    /// Postfix's `status=` word as the delivery's outcome.
    static func outcome(ofStatus status: String) -> DeliveryOutcome? {
        switch status {
        case "sent", "delivered": .delivered
        case "bounced", "expired": .bounced
        case "deferred": .deferred
        default: nil
        }
    }

    /// The host field of a syslog line in front of `postfix/...[pid]:`.
    static func syslogHost(_ line: String) -> String? {
        guard let match = logTag.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)),
            let range = Range(match.range(at: 1), in: line)
        else { return nil }
        let host = String(line[range])
        return host.contains(":") ? nil : host
    }
}

/// Why one reader did not recognise the input.
struct ReaderMiss: Error, Sendable, Hashable {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}
