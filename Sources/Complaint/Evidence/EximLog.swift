import DNSCore
import Foundation
import SMTPProtocol
import Scenario

/// Exim log lines: a receiving Exim's ACL reject (`H=rdns (helo) [addr]:port I=[local]:25 F=<s>
/// rejected RCPT <r>: TEXT`, the addresses with or without angle brackets, `rejected by local_scan()` after the message, `temporarily rejected` for a `defer` verb) and a sending Exim's
/// delivery line (`== r ... H=mx [addr]: SMTP error from remote mail server after RCPT TO:<r>: REPLY`,
/// `**` for a bounce).
enum EximLog {
    private static let host = try! NSRegularExpression(
        pattern: #"H=(?:([^\s(\[]+)\s+)?(?:\(([^)]*)\)\s+)?\[([^\]]+)\](?::\d+)?"#)
    private static let action = try! NSRegularExpression(
        pattern:
            #"\b(temporarily rejected|rejected) (RCPT <?([^<>\s:]*)>?|MAIL <?([^<>\s:]*)>?|EHLO or HELO (\S+)|connection in "[^"]*" ACL|after DATA|DATA|(?:the )?message after end of data|by local_scan\(\))(?::\s*(.*))?$"#
    )
    private static let smtpError = try! NSRegularExpression(
        pattern: #"SMTP error from remote (?:mail server|mailer) after (.+?):\s+([245]\d\d[ -].*)$"#)

    /// Exim's `SMTP error from remote mail server after ...`; Exim 3 and early Exim 4 said `remote mailer`.
    static func isSMTPError(_ line: String) -> Bool {
        line.range(of: "SMTP error from remote mail server after") != nil
            || line.range(of: "SMTP error from remote mailer after") != nil
    }

    /// Exim's own check of the HELO argument logs the host without `H=` (smtp_in.c: `rejected %s
    /// from %s: syntactically invalid argument(s): %s`, the host as `name [addr]` or `[addr]`).
    private static let heloSyntax = try! NSRegularExpression(
        pattern:
            #"\brejected (EHLO|HELO) from (?:(\S+) )?\[([^\]]+)\](?::\d+)?: syntactically invalid argument\(s\):\s?(.*)$"#
    )

    static func read(_ lines: [String]) -> Result<Evidence, ReaderMiss> {
        for line in lines where line.contains("H=") {
            if let evidence = readReject(line) { return .success(evidence) }
        }
        for line in lines where line.contains("syntactically invalid") {
            if let evidence = readHeloSyntax(line) { return .success(evidence) }
        }
        // The reject's words without its `H=` (a fragment quoted in a sentence: `I was getting
        // "rejected RCPT <>: relay not permitted"`): the client is not named.
        for line in lines where !line.contains("H=") {
            if let evidence = readReject(line, hostRequired: false) { return .success(evidence) }
        }
        for line in lines where isSMTPError(line) {
            var evidence = Evidence(source: .eximDelivery)
            guard readSMTPError(line, into: &evidence) else { continue }
            // `== r`, `** r`: the recipient of a deferral or a bounce.
            if let marker = line.range(of: #"(==|\*\*) (\S+@\S+)"#, options: .regularExpression) {
                let address = line[marker].dropFirst(3)
                evidence.setOutcome(
                    line[marker].hasPrefix("**") ? .bounced : .deferred,
                    from:
                        "Exim's `\(line[marker].prefix(2))` (\(line[marker].hasPrefix("**") ? "bounced" : "deferred"))")
                evidence.addRecipient(
                    String(address.trimmingCharacters(in: CharacterSet(charactersIn: "<>"))), from: "`\(line[marker])`")
            }
            if let match = host.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) {
                if let r = Range(match.range(at: 1), in: line) {
                    evidence.setReceiverName(String(line[r]), from: "`H=\(line[r])`")
                }
                if let r = Range(match.range(at: 3), in: line), let address = IPAddress(line[r]) {
                    evidence.setReceiverAddress(address, from: "`H=... [\(address)]`")
                }
            }
            // The arrival line (`<= sender`) of the same message id carries the envelope sender.
            if let id = line.split(separator: " ").first(where: {
                $0.range(of: #"^[0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4}$"#, options: .regularExpression)
                    != nil
            }) {
                for other in lines where other.contains("\(id) <= ") {
                    if let range = other.range(of: "\(id) <= ") {
                        let sender = other[range.upperBound...].prefix { $0 != " " }
                        evidence.setMailFrom(
                            sender == "<>" ? "" : String(sender), from: "the arrival line `\(id) <= \(sender)`")
                    }
                }
            }
            return .success(evidence)
        }
        return .failure(
            ReaderMiss(
                "no `H=... [addr] ... rejected RCPT <...>: ...` line and no `SMTP error from remote mail server after ...` line"
            ))
    }

    static func readHeloSyntax(_ line: String) -> Evidence? {
        guard let match = heloSyntax.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)),
            let verbRange = Range(match.range(at: 1), in: line), let addressRange = Range(match.range(at: 3), in: line)
        else { return nil }
        let verb = String(line[verbRange])
        let said = "`rejected \(verb) from ...: syntactically invalid argument(s)`"
        var evidence = Evidence(source: .eximReject)
        if let address = IPAddress(line[addressRange]) { evidence.setClient(address, from: said) }
        if let r = Range(match.range(at: 2), in: line) { evidence.setClientName(String(line[r]), from: said) }
        if let r = Range(match.range(at: 4), in: line), !line[r].isEmpty {
            evidence.setHelo(String(line[r]), from: said)
        }
        evidence.setStage(.helo, from: said)
        evidence.reply = SMTPReply(code: 501, enhanced: nil, "Syntactically invalid \(verb) argument(s)")
        evidence.note(
            .reply, "501",
            from: "Exim's own check of the HELO argument answers 501 Syntactically invalid ... argument(s) (smtp_in.c)",
            inferred: true)
        return evidence
    }

    static func readReject(_ line: String, hostRequired: Bool = true) -> Evidence? {
        let whole = NSRange(line.startIndex..., in: line)
        guard let act = action.firstMatch(in: line, range: whole),
            let verbRange = Range(act.range(at: 1), in: line),
            let whatRange = Range(act.range(at: 2), in: line)
        else { return nil }
        let hostMatch = host.firstMatch(in: line, range: whole)
        let what = String(line[whatRange])
        // Without `H=`, only the forms that name what they refused (`rejected RCPT <r>`), which
        // prose does not write.
        guard
            hostMatch != nil
                || !hostRequired
                    && (what.hasPrefix("RCPT <") || what.hasPrefix("MAIL <") || what.hasPrefix("EHLO or HELO"))
        else { return nil }
        var evidence = Evidence(source: .eximReject)
        let hostText = hostMatch.flatMap { Range($0.range, in: line) }.map { "`\(line[$0])`" } ?? "H="
        if let hostMatch, let addressRange = Range(hostMatch.range(at: 3), in: line),
            let address = IPAddress(line[addressRange])
        {
            evidence.setClient(address, from: hostText)
        }
        let verb = String(line[verbRange])
        var text = Range(act.range(at: 6), in: line).map { String(line[$0]) } ?? ""
        // Words quoted in a sentence end at the closing quote.
        if line[..<verbRange.lowerBound].filter({ $0 == "\"" }).count % 2 == 1, let close = text.firstIndex(of: "\"") {
            text = String(text[..<close])
        }

        // Exim shows `name (helo)` when the HELO differs from the verified name, only `name` when it is the same.
        if let hostMatch {
            if let r = Range(hostMatch.range(at: 2), in: line) {
                evidence.setHelo(String(line[r]), from: "the name in parentheses of \(hostText)")
            }
            if let r = Range(hostMatch.range(at: 1), in: line) {
                evidence.setClientName(String(line[r]), from: "the verified host name of \(hostText)")
                evidence.setHelo(
                    String(line[r]), from: "\(hostText): Exim leaves the HELO out when it equals the host name",
                    inferred: true)
            } else {
                evidence.setClientName("unknown", from: "\(hostText), which has no verified host name")
            }
        }
        if let r = Range(act.range(at: 5), in: line) {
            evidence.setHelo(String(line[r]), from: "`rejected EHLO or HELO \(line[r])`")
        }
        if let r = line.range(of: #"I=\[[^\]]+\]"#, options: .regularExpression),
            let address = IPAddress(line[r].dropFirst(3).dropLast())
        {
            evidence.setReceiverAddress(address, from: "`\(line[r])` (the interface that took the connection)")
        }
        if let from = ReplyText.angle(after: "F=", in: line) { evidence.setMailFrom(from, from: "`F=<\(from)>`") }
        if let r = Range(act.range(at: 3), in: line) {
            evidence.addRecipient(String(line[r]), from: "`\(verb) RCPT <\(line[r])>`")
        }
        if let r = Range(act.range(at: 4), in: line) {
            evidence.setMailFrom(String(line[r]), from: "`\(verb) MAIL <\(line[r])>`")
        }

        let stage: SMTPStage
        if what.hasPrefix("RCPT") {
            stage = .rcpt
        } else if what.hasPrefix("MAIL") {
            stage = .mail
        } else if what.hasPrefix("EHLO") {
            stage = .helo
        } else if what.hasPrefix("connection") {
            stage = .greeting
        } else {
            stage = .data
        }
        evidence.setStage(stage, from: "`\(verb) \(what)`")

        // Exim logs the ACL's message, not the code: `deny` answers 550 (554 in the connect ACL),
        // `defer` 451, unless the message starts with its own code.
        if let written = ReplyText.reply(Substring(text)) {
            evidence.setReply(written, from: "the code at the start of Exim's logged message")
        } else if stage == .helo, text.range(of: "syntactically invalid", options: .caseInsensitive) != nil {
            // Exim's own HELO syntax check (smtp_in.c), not an ACL: "501 Syntactically invalid HELO argument(s)".
            evidence.reply = SMTPReply(
                code: 501, enhanced: nil,
                "Syntactically invalid \(what.hasPrefix("EHLO") ? "EHLO" : "HELO") argument(s)")
            evidence.note(
                .reply, "501",
                from:
                    "Exim's own check of the HELO argument answers 501 Syntactically invalid ... argument(s) (smtp_in.c)",
                inferred: true)
        } else {
            let code = verb.hasPrefix("temporarily") ? 451 : (stage == .greeting ? 554 : 550)
            evidence.reply = SMTPReply(code: code, enhanced: nil, text)
            evidence.note(
                .reply, "\(code) \(text)",
                from:
                    "`\(verb)` and the logged message: Exim's log has no reply code; an ACL `\(code == 451 ? "defer" : "deny")` answers \(code) unless its message sets another",
                inferred: true)
        }
        return evidence
    }

    /// `SMTP error from remote mail server after RCPT TO:<r>: 450 4.7.25 text` (Exim's bounce text and
    /// delivery lines); sets the reply and the stage.
    static func readSMTPError(_ text: String, into evidence: inout Evidence) -> Bool {
        guard let match = smtpError.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
            let afterRange = Range(match.range(at: 1), in: text),
            let replyRange = Range(match.range(at: 2), in: text),
            let found = ReplyText.reply(text[replyRange])
        else { return false }
        let reply = SMTPReply(code: found.code, enhanced: found.enhanced, ReplyText.cleaned(found.text))
        let after = text[afterRange].replacingOccurrences(of: "pipelined ", with: "")
        evidence.setReply(reply, from: "`SMTP error from remote mail server after \(text[afterRange])`")
        if let stage = ReplyText.stage(command: after) {
            evidence.setStage(stage, from: "`after \(text[afterRange])`")
        }
        if after.uppercased().hasPrefix("RCPT TO:"), let to = ReplyText.angle(after: "RCPT TO:", in: after) {
            evidence.addRecipient(to, from: "`after RCPT TO:<\(to)>`")
        }
        if after.uppercased().hasPrefix("MAIL FROM:"), let from = ReplyText.angle(after: "MAIL FROM:", in: after) {
            evidence.setMailFrom(from, from: "`after MAIL FROM:<\(from)>`")
        }
        if after.uppercased().hasPrefix("EHLO ") || after.uppercased().hasPrefix("HELO ") {
            evidence.setHelo(String(after.dropFirst(5)), from: "`after \(after)`")
        }
        return true
    }
}
