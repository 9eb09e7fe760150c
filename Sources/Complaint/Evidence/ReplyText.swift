import DNSCore
import Foundation
import SMTPProtocol

/// Pieces that several evidence formats share: replies, stages, addresses in brackets and angles.
enum ReplyText {
    /// `450 4.7.25 text` (or `450-4.7.25 text`, or `450 text`) at the start of `text`.
    static func reply(_ text: Substring) -> SMTPReply? {
        let trimmed = text.drop(while: { $0 == " " || $0 == "\t" })
        let chars = Array(trimmed.prefix(4))
        guard chars.count >= 3, chars[0..<3].allSatisfy(\.isASCII), let code = Int(String(chars[0..<3])),
            (200...599).contains(code),
            chars.count == 3 || chars[3] == " " || chars[3] == "-" || chars[3] == ":" || chars[3] == "."
        else { return nil }
        // `554: Dialup/transient IP not allowed` (T-Online's text as pasted), `553. To send mail, ...`
        // (a server that ends the code with a period): the mark is no part of the text.
        if chars.count == 4, chars[3] == ":" || chars[3] == ".",
            !(trimmed.dropFirst(4).first?.isWhitespace ?? true)
        {
            return nil
        }
        var rest = String(trimmed.dropFirst(chars.count).drop(while: { $0 == " " }))
        // `550 - Requested action not taken` (Apache James): the dash only separates.
        if chars.count == 4, chars[3] == " ", rest.hasPrefix("- ") { rest.removeFirst(2) }
        // Python's bytes for the text after the code (verify_email's `550 - b'5.7.1 Service ...'`).
        if rest.range(of: #"^b'[245]\.\d{1,3}\.\d{1,3}\s"#, options: .regularExpression) != nil {
            rest.removeFirst(2)
            if rest.hasSuffix("'") { rest.removeLast() }
        }
        // Exchange 2003 quotes the reply after the code: `550-'5.7.1 text'`.
        if let first = rest.first, first == "'" || first == "\"",
            rest.dropFirst().range(of: #"^[245]\.\d{1,3}\.\d{1,3}\s"#, options: .regularExpression) != nil
        {
            rest.removeFirst()
        }
        // `550 #5.1.0 Address rejected.`: an enhanced code written with a leading `#`.
        if rest.range(of: #"^#[245]\.\d{1,3}\.\d{1,3}\s"#, options: .regularExpression) != nil { rest.removeFirst() }
        // `554 5.7.9: Message not accepted for policy reasons` (Yahoo's help page): a colon after the
        // enhanced code only separates it from the text.
        if let colon = rest.range(of: #"^[245]\.\d{1,3}\.\d{1,3}:(?=\s|$)"#, options: .regularExpression) {
            rest.remove(at: rest.index(before: colon.upperBound))
        }
        // A sentence that quotes a reply by its codes alone (`with the status 550 5.5.3. I tried`,
        // `(550 5.1.1)`): what follows the mark is the sentence's, not the reply's text.
        if let end = rest.range(of: #"^[245]\.\d{1,3}\.\d{1,3}[.,;)](?=\s|$)"#, options: .regularExpression) {
            rest = String(rest[..<rest.index(before: end.upperBound)])
        }
        var split = SMTPReply.splitEnhanced(rest, code: code)
        // qmail writes the enhanced code in parentheses after the text (qmail-smtpd.c: `503 RCPT
        // first (#5.5.1)`); one of the reply's class is the enhanced code.
        if split.enhanced == nil, let hash = qmailEnhanced(split.text), hash.first == String(code).first {
            split.enhanced = hash
        }
        var body = split.text
        // A log that escapes the reply's line breaks (Exim's `...this\n550-5.7.1 message ...`): each
        // escaped break before the next line's code is a break.
        body = body.replacingOccurrences(
            of: #"(?:\\r)?\\n(?=\#(code)[- ])"#, with: " ", options: .regularExpression)
        // A multi-line reply flattened onto one line (Postfix's Diagnostic-Code and bounce text keep
        // each line's `550-5.7.1` prefix): drop the inner prefixes.
        let inner =
            "\\s\(code)[- ]" + (split.enhanced.map { NSRegularExpression.escapedPattern(for: $0) + "\\s" } ?? "")
        body = body.replacingOccurrences(of: inner, with: " ", options: .regularExpression)
        return SMTPReply(code: code, enhanced: split.enhanced, body.trimmingCharacters(in: .whitespaces))
    }

    /// The reply a gateway quotes in its own: Exchange Online's after `->` (`550 5.7.514 ... -> 554
    /// 5.7.1 text`, with its enhanced code), Exchange 2003's after `#X.Y.Z smtp;`; nil when there is none.
    static func forwarded(_ reply: SMTPReply) -> SMTPReply? {
        // Exchange 2003 quotes the remote server's reply after `#X.Y.Z smtp;` inside its own
        // (`554 5.0.0 <mx.example.test #5.0.0 smtp; 554 Sending address not accepted>`).
        if let marker = reply.text.range(
            of: #"#[245]\.\d{1,3}\.\d{1,3}\s+smtp;\s*(?=[245]\d\d[ -])"#,
            options: [.regularExpression, .caseInsensitive]),
            let inner = ReplyText.reply(reply.text[marker.upperBound...])
        {
            return SMTPReply(code: inner.code, enhanced: inner.enhanced, cleaned(inner.text))
        }
        guard
            let arrow = reply.text.range(
                of: #"\s->\s*(?=[245]\d\d[ -][245]\.\d{1,3}\.\d{1,3}\s)"#, options: .regularExpression),
            let inner = ReplyText.reply(reply.text[arrow.upperBound...]), inner.enhanced != nil
        else { return nil }
        return SMTPReply(code: inner.code, enhanced: inner.enhanced, cleaned(inner.text))
    }

    /// The enhanced code qmail puts at the end of its text: `(#5.5.1)`.
    static func qmailEnhanced(_ text: String) -> String? {
        guard let range = text.range(of: #"\(#[245]\.\d{1,3}\.\d{1,3}\)"#, options: .regularExpression) else {
            return nil
        }
        return String(text[range].dropFirst(2).dropLast())
    }

    /// The first reply found anywhere in `line`: a code at a word boundary followed by an enhanced code,
    /// or a code that starts the line.
    static func replyAnywhere(_ line: String) -> SMTPReply? {
        if let direct = reply(Substring(line)) { return direct }
        // Not after an ASCII letter, digit or dot; a code glued to other script is still one (`投递失败550 5.7.25`).
        guard
            let regex = try? NSRegularExpression(
                pattern: #"(?<![A-Za-z0-9_.])([245]\d\d)[ -]([245]\.\d{1,3}\.\d{1,3})(?:\s|[:.,;)](?=\s|$)|$)"#)
        else { return nil }
        guard let match = regex.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)),
            let range = Range(match.range, in: line)
        else { return nil }
        return reply(line[range.lowerBound...])
    }

    /// A reply found inside parentheses (`(reason: 452 4.2.2 Over quota)`) without the closing ones
    /// that belong to the text around it.
    /// The reply's text without what a paste joined to it: a stack trace's frames (`at
    /// SMTPConnection._formatError (...)`, `at System.Net.Mail...`), Postfix's `(in reply to ...
    /// command)`, and unbalanced closing marks.
    static func cleaned(_ text: String) -> String {
        let cut = text.replacingOccurrences(
            of: #"\s+at\s+(?:new\s+|async\s+)?[A-Za-z_$][\w$<>`]*\.[\w.$<>`]*\s*\(.*$"#, with: "",
            options: .regularExpression
        )
        .replacingOccurrences(of: #"\s*\(in reply to [^)]*\)\)*\s*$"#, with: "", options: .regularExpression)
        // Exchange 2007's `#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##`.
        .replacingOccurrences(of: #"\s+##\s*$"#, with: "", options: .regularExpression)
        return balanced(cut)
    }

    static func balanced(_ text: String) -> String {
        var out = text
        while true {
            if out.hasSuffix(")"), out.filter({ $0 == ")" }).count > out.filter({ $0 == "(" }).count {
                out.removeLast()
            } else if out.hasSuffix("]"), out.filter({ $0 == "]" }).count > out.filter({ $0 == "[" }).count {
                // Gmail's `[mx.example.test. 192.0.2.10: 421 4.7.0 Try again later.]`.
                out.removeLast()
            } else if out.hasSuffix(">"), out.filter({ $0 == ">" }).count > out.filter({ $0 == "<" }).count {
                // Exchange 2003's `<mail.sender.test #5.5.0 smtp;550 5.7.1 <b@example.test>: text>`.
                out.removeLast()
            } else if let last = out.last, last == "\"" || last == "'", out.filter({ $0 == last }).count % 2 == 1 {
                // The closing quote of a quotation the reply sat in (`... "SMTP error ...: 550 text"`).
                out.removeLast()
            } else {
                return out.trimmingCharacters(in: .whitespaces)
            }
        }
    }

    /// Postfix's `(in reply to RCPT TO command)`, Exim's `after RCPT TO:<...>`: the stage the words name.
    static func stage(command: String) -> SMTPStage? {
        let upper = command.uppercased()
        if upper.contains("END OF DATA") || upper.contains("END-OF-MESSAGE") || upper.hasPrefix("DATA")
            || upper.contains("AFTER DATA") || upper == "BDAT"
        {
            return .data
        }
        if upper.hasPrefix("RCPT") { return .rcpt }
        if upper.hasPrefix("MAIL") { return .mail }
        if upper.hasPrefix("EHLO") || upper.hasPrefix("HELO") || upper.hasPrefix("LHLO") { return .helo }
        if upper.contains("INITIAL CONNECTION") || upper.contains("GREETING") || upper.hasPrefix("CONNECT")
            || upper.hasPrefix("BANNER")
        {
            return .greeting
        }
        return nil
    }

    /// Every `[ADDR]` (or `[IPv6:ADDR]`) in `text` that is an IP address, in order.
    static func bracketedAddresses(_ text: String) -> [IPAddress] {
        var out: [IPAddress] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "[") {
            let after = rest[rest.index(after: open)...]
            guard let close = after.firstIndex(of: "]") else { break }
            var inside = after[..<close]
            if inside.lowercased().hasPrefix("ipv6:") { inside = inside.dropFirst(5) }
            if let address = IPAddress(inside), !out.contains(address) { out.append(address) }
            rest = after[after.index(after: close)...]
        }
        return out
    }

    /// `name[addr]` (Postfix's client and relay notation; a port may follow) at the start of `text`.
    static func hostAndAddress(_ text: Substring) -> (name: String, address: IPAddress)? {
        guard let open = text.firstIndex(of: "["), let close = text[open...].firstIndex(of: "]") else { return nil }
        let name = String(text[..<open])
        guard !name.contains(" "), let address = IPAddress(text[text.index(after: open)..<close]) else { return nil }
        return (name, address)
    }

    /// The text between `<` and `>` right after `key` (`from=<a@b>`, `RCPT TO:<a@b>`), case-insensitive.
    static func angle(after key: String, in text: String) -> String? {
        guard let range = text.range(of: key + "<", options: [.caseInsensitive]) else { return nil }
        let rest = text[range.upperBound...]
        guard let close = rest.firstIndex(of: ">") else { return nil }
        return String(rest[..<close])
    }

    /// The value of `key=` up to the next space or comma (`relay=mx.example.test[2001:db8::10]:25,`).
    static func value(of key: String, in text: String) -> Substring? {
        guard let range = text.range(of: key + "=") else { return nil }
        let rest = text[range.upperBound...]
        return rest.prefix { $0 != "," && $0 != " " }
    }

    /// Joins continuation lines (starting with white space) onto the line before, as RFC 5322 2.2.3
    /// unfolds header fields and as Postfix and Exim indent wrapped bounce text.
    static func unfold(_ lines: [Substring]) -> [String] {
        var out: [String] = []
        for line in lines {
            if let first = line.first, first == " " || first == "\t", !out.isEmpty {
                out[out.count - 1] += " " + line.trimmingCharacters(in: .whitespaces)
            } else if let last = out.last,
                last.range(of: #"(?<![\d.])[245]\d\d[ -]?$"#, options: .regularExpression) != nil,
                line.range(of: #"^[245]\.\d{1,3}\.\d{1,3}\s"#, options: .regularExpression) != nil
            {
                // A reply wrapped between its code and its enhanced code (`with message "550` /
                // `5.7.1 Command rejected`): one reply.
                out[out.count - 1] = last.trimmingCharacters(in: .whitespaces) + " " + line
            } else {
                out.append(String(line))
            }
        }
        return out
    }

    /// Lines of `text` without CR.
    static func lines(_ text: String) -> [Substring] {
        text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map {
            $0.hasSuffix("\r") ? $0.dropLast() : $0
        }
    }

    /// An email address's domain, lower-cased (nil for the null sender or a bare local part).
    static func domain(of address: String) -> String? {
        guard let at = address.lastIndex(of: "@") else { return nil }
        let domain = DNSName.normalize(address[address.index(after: at)...])
        return domain.isEmpty ? nil : domain
    }
}
