import DNSCore
import Foundation
import SMTPProtocol
import Scenario

/// RFC 3464 delivery status notifications: the per-message and per-recipient fields of the
/// `message/delivery-status` part, completed from the human-readable part (Postfix names the
/// stage there, `(in reply to RCPT TO command)`, and the MX's address, `host mx[addr] said:`).
enum DeliveryStatus {
    /// True when `text` has the fields of a delivery-status part (RFC 3464 2.2, 2.3).
    static func looksLikeDSN(_ lines: [String]) -> Bool {
        lines.contains { line in
            let lower = line.lowercased()
            return lower.hasPrefix("final-recipient:") || lower.hasPrefix("diagnostic-code:")
                || lower.hasPrefix("reporting-mta:")
                || lower.contains("report-type=delivery-status") || lower.contains("report-type=\"delivery-status\"")
        }
    }

    static func read(_ raw: [Substring]) -> Result<Evidence, ReaderMiss> {
        let lines = ReplyText.unfold(raw)
        guard looksLikeDSN(lines) else {
            return .failure(
                ReaderMiss("no `Final-Recipient:`, `Diagnostic-Code:` or `Reporting-MTA:` field (RFC 3464 2.2, 2.3)"))
        }
        var evidence = Evidence(source: .deliveryStatus)
        func field(_ name: String) -> (line: String, value: String)? {
            for line in lines where line.lowercased().hasPrefix(name.lowercased() + ":") {
                return (line, line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces))
            }
            return nil
        }
        /// `type; value` (RFC 3464 2.1.2 address-type / diagnostic-type), the value part.
        func typed(_ value: String) -> String {
            guard let semicolon = value.firstIndex(of: ";") else { return value }
            return value[value.index(after: semicolon)...].trimmingCharacters(in: .whitespaces)
        }
        if let (line, value) = field("Diagnostic-Code"), value.lowercased().hasPrefix("smtp"),
            let reply = ReplyText.reply(Substring(typed(value)))
        {
            evidence.setReply(reply, from: "`\(line.prefix(60))...`")
        }
        if let (line, value) = field("Final-Recipient") ?? field("Original-Recipient") {
            evidence.addRecipient(typed(value), from: "`\(line)`")
        }
        if let (line, value) = field("Remote-MTA") {
            // `dns; mx.example.test` or `dns; mx.example.test [192.0.2.10]`.
            let remote = typed(value)
            let name = remote.prefix { $0 != " " && $0 != "[" }
            evidence.setReceiverName(String(name), from: "`\(line)`")
            if let address = ReplyText.bracketedAddresses(remote).first {
                evidence.setReceiverAddress(address, from: "`\(line)`")
            }
        }
        if let (line, value) = field("X-Postfix-Sender") {
            evidence.setMailFrom(typed(value), from: "`\(line)`")
        }
        if let (line, value) = field("Reporting-MTA") {
            evidence.setHelo(
                typed(value), from: "`\(line)`: an MTA says HELO with the name it reports as (Postfix's myhostname)",
                inferred: true)
        }
        BounceText.complete(&evidence, lines: lines)
        // RFC 3464 2.3.3 Action and 2.3.4 Status: `failed` with a 4.x.x status is a delivery that was
        // deferred until the queue lifetime ran out (a 5xx greeting under smtp_skip_5xx_greeting keeps
        // class 4); `failed` with 5.x.x bounced at once.
        if let (line, action) = field("Action") {
            let status = field("Status").flatMap { EnhancedCode($0.value) }
            switch action.lowercased() {
            case "failed" where status?.klass == 4:
                evidence.setOutcome(
                    .deferred,
                    from:
                        "`\(line)` with `Status: \(status!.text)`: class 4, so each attempt was deferred until the message expired"
                )
            case "failed": evidence.setOutcome(.bounced, from: "`\(line)`")
            case "delayed": evidence.setOutcome(.deferred, from: "`\(line)`")
            case "delivered", "relayed", "expanded": evidence.setOutcome(.delivered, from: "`\(line)`")
            default: break
            }
        }
        if evidence.reply == nil, let (line, value) = field("Status"), let enhanced = EnhancedCode(value) {
            // No Diagnostic-Code: the Status class is all there is (RFC 3464 2.3.4).
            let code = enhanced.klass == 4 ? 450 : 550
            // A Diagnostic-Code of another type (`X-Notes; ...`, `unknown; No such domain.`) is the
            // reporting MTA's own words, the only text there is.
            let words = field("Diagnostic-Code").map { typed($0.value) } ?? ""
            evidence.reply = SMTPReply(code: code, enhanced: enhanced.text, words)
            evidence.note(
                .reply, "\(code) \(enhanced.text)",
                from: "`\(line)` (no Diagnostic-Code: the code is \(code) for class \(enhanced.klass))", inferred: true)
        }
        guard evidence.reply != nil else {
            return .failure(
                ReaderMiss("a delivery status without a `Diagnostic-Code: smtp; CODE ...` or a `Status:` field"))
        }
        return .success(evidence)
    }
}

/// `X.Y.Z` of RFC 3463.
struct EnhancedCode {
    var klass: Int
    var text: String

    init?(_ value: String) {
        let token = value.split(separator: " ").first.map(String.init) ?? ""
        let parts = token.split(separator: ".")
        guard parts.count == 3, let klass = Int(parts[0]), [2, 4, 5].contains(klass),
            parts.allSatisfy({ Int($0) != nil })
        else { return nil }
        self.klass = klass
        self.text = token
    }
}

/// Bounce messages in plain text: Postfix's (`<r>: host mx[addr] said: REPLY (in reply to X command)`),
/// Exim's (`SMTP error from remote mail server after RCPT TO:<r>: REPLY`), or any text with a reply
/// line such as a provider's (`550-5.7.1 ...` lines, `Remote Server returned '550 5.7.1 ...'`).
enum BounceText {
    static func read(_ raw: [Substring]) -> Result<Evidence, ReaderMiss> {
        let lines = ReplyText.unfold(raw)
        var evidence = Evidence(source: .bounceText)
        complete(&evidence, lines: lines)
        guard evidence.reply != nil else {
            return .failure(
                ReaderMiss(
                    "no `host ... said: CODE ...`, no `SMTP error from remote mail server after ...`, and no line with a 4xx/5xx reply and an enhanced status code"
                ))
        }
        return .success(evidence)
    }

    /// Fills what the text tells and `evidence` does not have yet.
    static func complete(_ evidence: inout Evidence, lines: [String]) {
        for line in joinedSaid(lines) where line.contains(" said: ") || line.contains("refused to talk to me: ") {
            // A report of a delivery that went through (qmail's `Remote host said: 250 ok`) is no refusal.
            if let said = line.range(of: #"(?:said|to me): "#, options: .regularExpression),
                let reply = ReplyText.reply(line[said.upperBound...]), reply.code < 400
            {
                continue
            }
            if PostfixLog.readSaid(line, into: &evidence, source: "the bounce text `\(line.prefix(70))...`") {
                if let match = line.range(of: #"^\s*<[^>]+>:"#, options: .regularExpression) {
                    let address = line[match].trimmingCharacters(in: CharacterSet(charactersIn: " \t<>:"))
                    evidence.addRecipient(address, from: "the bounce text's `<\(address)>:`")
                }
                break
            }
        }
        // Exim's line, or its paragraph when a paste put the reply on a line of its own (not indented).
        let exim =
            lines.filter { EximLog.isSMTPError($0) }
            + paragraphs(lines).filter { EximLog.isSMTPError($0) }
        for line in exim {
            if EximLog.readSMTPError(line, into: &evidence) {
                if let match = line.range(of: #"host (\S+) \[([^\]]+)\]"#, options: .regularExpression) {
                    let words = line[match].split(separator: " ")
                    if words.count == 3 {
                        evidence.setReceiverName(String(words[1]), from: "the bounce text's `\(line[match])`")
                        if let address = IPAddress(words[2].dropFirst().dropLast()) {
                            evidence.setReceiverAddress(address, from: "the bounce text's `\(line[match])`")
                        }
                    }
                }
                break
            }
        }
        if evidence.reply == nil { genericReply(&evidence, lines: lines) }
        for line in lines {
            let lower = line.lowercased()
            if lower.hasPrefix("x-failed-recipients:") {
                for address in line.dropFirst("x-failed-recipients:".count).split(separator: ",") {
                    evidence.addRecipient(address.trimmingCharacters(in: .whitespaces), from: "`\(line)`")
                }
            }
        }
        // The returned message's Return-Path is the original envelope sender; the bounce's own is `<>`.
        for line in lines where line.lowercased().hasPrefix("return-path:") {
            if let path = ReplyText.angle(after: "", in: String(line.dropFirst("return-path:".count))), !path.isEmpty {
                evidence.setMailFrom(path, from: "the returned message's `\(line)`", inferred: true)
            }
        }
        // A bounce goes to the envelope sender of the message it returns.
        if evidence.mailFrom == nil, let to = lines.first(where: { $0.lowercased().hasPrefix("to:") }) {
            let value = to.dropFirst(3).trimmingCharacters(in: .whitespaces)
            let address = ReplyText.angle(after: "", in: value) ?? value
            if address.contains("@") {
                evidence.setMailFrom(
                    address, from: "the bounce's `\(to)` (a bounce goes to the envelope sender)", inferred: true)
            }
        }
        let library =
            LibraryReplies.dotNet(lines.joined(separator: "\n")) ?? LibraryReplies.roundcube(
                lines.joined(separator: " "))
            ?? LibraryReplies.phpMailerDetail(lines.joined(separator: " ")) ?? LibraryReplies.jsonStatus(
                lines.joined(separator: " "))
            ?? LibraryReplies.lettre(lines.joined(separator: "\n"))
        if evidence.reply == nil, let (reply, why) = library {
            evidence.setReply(reply, from: why)
        }
        if evidence.reply == nil, let (reply, line) = Hints.markedReply(lines) {
            evidence.setReply(reply, from: "the reply in `\(line.prefix(60))...`")
        }
        if evidence.reply == nil, let (reply, line) = Hints.tupleReply(lines) {
            evidence.setReply(reply, from: "the reply tuple in `\(line.prefix(60))...` (Python smtplib)")
        }
        if evidence.reply == nil { lineStartReply(&evidence, lines: lines) }
        // The words that introduce a reply on its own line first, then across a paste's line breaks
        // (`... refused to talk` / `to me: 554 ...`).
        if evidence.reply == nil,
            let (reply, why) = LibraryReplies.introduced(lines) ?? LibraryReplies.introduced(paragraphs(lines))
        {
            evidence.setReply(reply, from: why)
        }
        if evidence.reply == nil,
            let (labelled, why) = LibraryReplies.labelledOrQuoted(lines)
                ?? LibraryReplies.labelledOrQuoted(paragraphs(lines))
        {
            var reply = labelled
            // A labelled text that a mail client wrapped (`ERROR_CODE :The email you sent` / `has an
            // invalid DKIM signature ...`, maybe quoted with `> `) goes on to the end of its paragraph.
            let unquoted = lines.map {
                $0.replacingOccurrences(of: #"^\s*(?:>\s?)+"#, with: "", options: .regularExpression)
            }
            if let (whole, _) = LibraryReplies.labelledOrQuoted(paragraphs(unquoted)), whole.code == reply.code,
                whole.enhanced == reply.enhanced, whole.text.count > reply.text.count, whole.text.hasPrefix(reply.text)
            {
                reply = whole
            }
            evidence.setReply(reply, from: why)
        }
        // Swift Mailer's and Symfony's `Expected response code 354 but got code "503"` without the
        // reply's text (AbstractSmtpTransport::assertResponseCode): the code it got is the reply's.
        if evidence.reply == nil,
            let line = lines.first(where: {
                $0.range(of: #"\bbut got code "?[45]\d\d\b"#, options: .regularExpression) != nil
            }),
            let range = line.range(of: #"\bbut got code "?[45]\d\d\b"#, options: .regularExpression),
            let code = Int(String(line[range].filter(\.isNumber).suffix(3)))
        {
            evidence.setReply(
                SMTPReply(code: code, enhanced: nil, ""),
                from: "`\(line.prefix(70))`, the code the library got (no reply text shown)")
        }
        // A reply quoted without its code: the code the text fixes, else RFC 5321's for its class and stage.
        if evidence.reply == nil,
            let found = LibraryReplies.codeless(lines) ?? LibraryReplies.codeless(paragraphs(lines))
        {
            let known = CodelessReply.known(found.text, enhanced: found.enhanced)
            let stage =
                known?.stage.map { ($0, "the reply's text, which \(known!.why) answers \($0) with") }
                ?? StageWords.stage(in: found.paragraph, replyOffset: nil, replyText: found.text)
            let (code, why) = CodelessReply.code(text: found.text, enhanced: found.enhanced, stage: stage?.0)
            evidence.setReply(
                SMTPReply(code: code, enhanced: found.enhanced?.text, found.text),
                from:
                    "`\(found.paragraph.prefix(60))...`, which quotes the reply without its code; the code is \(code): \(why)",
                inferred: true)
            if let (stage, why) = stage { evidence.setStage(stage, from: why, inferred: true) }
        }
    }

    /// Runs of non-empty lines, each collapsed to one line.
    static func paragraphs(_ lines: [String]) -> [String] {
        InputText(lines.joined(separator: "\n")).paragraphs
    }

    /// Postfix's `host H[A] said: REPLY (in reply to X command)` as one line, also when a paste lost
    /// the indentation of its wrapped lines (which `unfold` would have joined): a line with `said:`
    /// takes the lines after it up to the one that ends with `command)`.
    static func joinedSaid(_ lines: [String]) -> [String] {
        var out: [String] = []
        var index = 0
        while index < lines.count {
            var line = lines[index]
            // A wrap may also put `said:` first on its line (`(host mx[192.0.2.6]` / `said: 554 ...`):
            // the host it belongs to is on the line above.
            if line.trimmingCharacters(in: .whitespaces).hasPrefix("said:"), let above = out.popLast() {
                line = above + " " + line.trimmingCharacters(in: .whitespaces)
            }
            let hasSaid =
                line.contains(" said:") || line.hasSuffix("refused to talk") || line.contains("refused to talk to me:")
            if hasSaid, !line.contains("(in reply to") || !line.contains("command)"),
                let end = lines[(index + 1)...].prefix(6).firstIndex(where: { $0.contains("command)") }),
                !lines[(index + 1)...end].contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty })
            {
                line = ([line] + lines[(index + 1)...end].map { $0.trimmingCharacters(in: .whitespaces) }).joined(
                    separator: " ")
                index = end
            } else if line.hasSuffix("said:") || line.hasSuffix("to me:"), index + 1 < lines.count {
                line += " " + lines[index + 1].trimmingCharacters(in: .whitespaces)
                index += 1
            }
            // `said: 550-5.7.1 ...` then lines `550-5.7.1 ...` up to `550 5.7.1 ...` (qmail's and swaks'
            // multi-line replies): one reply.
            if let said = line.range(of: #"(said|to me): [245]\d\d-"#, options: .regularExpression) {
                let code = String(line[line.index(said.upperBound, offsetBy: -4)...].prefix(3))
                while index + 1 < lines.count {
                    let next = lines[index + 1].trimmingCharacters(in: .whitespaces)
                    guard next.hasPrefix(code + "-") || next.hasPrefix(code + " ") else { break }
                    line += " " + next
                    index += 1
                    if next.hasPrefix(code + " ") { break }
                }
            }
            out.append(line)
            index += 1
        }
        return out
    }

    /// The first 4xx/5xx reply that starts a line, without an enhanced code (`554 IP=... (DIAL)`,
    /// `550 inconsistent or no DNS PTR record ...`), with its continuation lines.
    static func lineStartReply(_ evidence: inout Evidence, lines: [String]) {
        for (index, line) in lines.enumerated() {
            // A reply quoted as a string, maybe as a field's value (`data: '550-...'`): the key and
            // the quotes are no part of it.
            var trimmed = line.trimmingCharacters(in: .whitespaces)
            // The recipient before the reply (`<b@example.test>: 550 unknown user`, Exim's and
            // mxlogic's list of failed addresses).
            if let recipient = trimmed.range(
                of: #"^<[^<>\s]+@[^<>\s]+>:\s+(?=[45]\d\d\s)"#, options: .regularExpression)
            {
                trimmed = String(trimmed[recipient.upperBound...])
            }
            let quoted = trimmed.range(of: #"^(?:[A-Za-z_]+:\s*)?['"]"#, options: .regularExpression)
            if let quoted { trimmed = String(trimmed[quoted.upperBound...]) }
            trimmed = trimmed.trimmingCharacters(in: CharacterSet.whitespaces.union(CharacterSet(charactersIn: "'\"")))
            guard let first = ReplyText.reply(Substring(trimmed)), first.code >= 400 else { continue }
            var texts = [first.text]
            var continues = trimmed.dropFirst(3).first == "-"
            var next = index + 1
            while continues, next < lines.count {
                let candidate = lines[next].trimmingCharacters(
                    in: CharacterSet.whitespaces.union(CharacterSet(charactersIn: "'\"")))
                guard candidate.hasPrefix("\(first.code)"), let more = ReplyText.reply(Substring(candidate)) else {
                    break
                }
                texts.append(more.text)
                continues = candidate.dropFirst(3).first == "-"
                next += 1
            }
            // Postfix's `(in reply to ... command)` after the reply is no part of it, nor the
            // closing quote of a quoted one.
            var text = ReplyText.cleaned(texts.joined(separator: " "))
            if quoted != nil {
                text = text.replacingOccurrences(of: #"['"][,;]?\s*$"#, with: "", options: .regularExpression)
            }
            evidence.setReply(
                SMTPReply(code: first.code, enhanced: first.enhanced, text),
                from: "the reply line `\(trimmed.prefix(60))...`")
            return
        }
    }

    /// The first 4xx/5xx reply with an enhanced code in the text, with its continuation lines
    /// (`550-5.7.1 ...` then `550 5.7.1 ...`), joined.
    static func genericReply(_ evidence: inout Evidence, lines: [String]) {
        // The server's replies alone, one per line: a `354` after a refusal means the transaction went
        // on (RFC 5321 3.3: DATA gets 354 only after an accepted recipient), so the refusals before it
        // ended nothing, and a refusal after it answered the message (RFC 5321 4.3.2).
        let goAhead = lines.firstIndex {
            $0.range(of: #"(?:^|[\]>:]\s*|\s{2,})354[ -]\S"#, options: .regularExpression) != nil
        }
        let refusal = { (line: String) -> Bool in
            guard let found = ReplyText.replyAnywhere(line) else { return false }
            return found.code >= 400 && found.enhanced != nil
        }
        var start = 0
        if let goAhead, lines[..<goAhead].contains(where: refusal), lines[(goAhead + 1)...].contains(where: refusal) {
            start = goAhead + 1
            evidence.setStage(
                .data,
                from:
                    "the refusal after the server's `354`, which answers the message (RFC 5321 4.3.2); the refusals before the 354 ended nothing"
            )
        }
        for (index, line) in lines.enumerated() where index >= start {
            guard let first = ReplyText.replyAnywhere(line), first.code >= 400, first.enhanced != nil else { continue }
            var texts = [first.text]
            let start = line.range(of: "\(first.code)")?.lowerBound ?? line.startIndex
            var continues = line[start...].dropFirst(3).first == "-"
            var next = index + 1
            while next < lines.count {
                let candidate = lines[next].trimmingCharacters(in: .whitespaces)
                if continues, candidate.hasPrefix("\(first.code)"), let more = ReplyText.reply(Substring(candidate)) {
                    texts.append(more.text)
                    continues = candidate.dropFirst(3).first == "-"
                } else if let enhanced = first.enhanced, candidate.hasPrefix(enhanced + " ") {
                    // A client library's message keeps each line's enhanced code but not the reply code.
                    texts.append(String(candidate.dropFirst(enhanced.count + 1)))
                } else {
                    break
                }
                next += 1
            }
            var text = ReplyText.cleaned(texts.joined(separator: " "))
            // `Remote Server returned '550 5.7.1 text'`: the closing quote is not part of the reply.
            // The same for a reply in a JSON string (`"diagnosticCode": "smtp; 550 5.7.1 text",`).
            for quote in ["'", "\""]
            where line.range(of: "\(quote)(smtp; ?)?\(first.code)", options: .regularExpression) != nil {
                // A JSON string ends at its first unescaped quote (the fields after it were unfolded
                // onto the same line); a reply in single quotes may hold apostrophes (`isn't`).
                if quote == "\"", let end = text.range(of: #"(?<!\\)""#, options: .regularExpression) {
                    text = String(text[..<end.lowerBound])
                }
                while let last = text.last, ",}] ".contains(last) { text.removeLast() }
                if text.hasSuffix(quote) { text.removeLast() }
            }
            evidence.setReply(
                SMTPReply(code: first.code, enhanced: first.enhanced, text),
                from: "the reply line `\(line.prefix(60))...`")
            return
        }
    }
}
