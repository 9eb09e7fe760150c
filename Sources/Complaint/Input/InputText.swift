import Foundation

/// A pasted input as the readers see it: without the markup a web page, an issue tracker or a
/// mail client put around it, without an e-mail quotation's `> `, and in the forms the readers
/// search (lines, unfolded lines, paragraphs collapsed to one line each).
struct InputText {
    /// The lines after clean-up, CR removed.
    var lines: [Substring]

    init(_ text: String) {
        let cleaned = Self.qmailReports(Self.jsonDialogues(Self.withoutMarkup(text)))
        lines = Self.withoutReturnedBody(Self.unquoted(ReplyText.lines(cleaned)))
    }

    /// A text bounce returns the message after a line of its own (Exim's `------ This is a copy of
    /// the message, including all the headers. ------`, qmail's `--- Below this line is a copy of
    /// the message.`, sendmail's `----- Original message follows -----`): the copy's header fields
    /// stay (its Return-Path is the envelope sender), its body is the sender's words and goes.
    static func withoutReturnedBody(_ lines: [Substring]) -> [Substring] {
        let marker =
            #"(?i)^\s*-{2,}\s*(?:This is a copy of the (?:message|body)|Below this line is a copy of the message|Original message follows|Message header follows|Unsent message below)"#
        guard let start = lines.firstIndex(where: { $0.range(of: marker, options: .regularExpression) != nil }) else {
            return lines
        }
        var out = Array(lines[...start])
        let bodyOnly = lines[start].range(of: "copy of the body", options: .caseInsensitive) != nil
        guard !bodyOnly else { return out }
        var index = start + 1
        while index < lines.count, lines[index].trimmingCharacters(in: .whitespaces).isEmpty { index += 1 }
        while index < lines.count, !lines[index].trimmingCharacters(in: .whitespaces).isEmpty {
            out.append(lines[index])
            index += 1
        }
        return out
    }

    /// A dialogue logged as a JSON array of strings (an address verifier's
    /// `{"mx.example.test":["220 ...","HELO ...","250 ...","MAIL FROM:<>","550 ..."]}`): one line per
    /// element, unescaped, when the elements hold a command and a reply.
    static func jsonDialogues(_ text: String) -> String {
        let string = #""(?:[^"\\]|\\.)*""#
        guard text.contains("\",\""),
            let array = try? NSRegularExpression(pattern: #"\[\s*"# + string + #"(?:\s*,\s*"# + string + #")+\s*\]"#),
            let element = try? NSRegularExpression(pattern: string)
        else { return text }
        let out = NSMutableString(string: text)
        for match in array.matches(in: text, range: NSRange(text.startIndex..., in: text)).reversed() {
            guard let range = Range(match.range, in: text) else { continue }
            let found = String(text[range])
            let elements = element.matches(in: found, range: NSRange(found.startIndex..., in: found)).compactMap {
                item -> String? in
                guard let r = Range(item.range, in: found) else { return nil }
                return String(found[r].dropFirst().dropLast())
                    .replacingOccurrences(of: #"\\(["\\/])"#, with: "$1", options: .regularExpression)
            }
            guard elements.contains(where: Transcript.isCommand),
                elements.contains(where: { ReplyText.reply(Substring($0)) != nil })
            else { continue }
            out.replaceCharacters(in: match.range, with: "\n" + elements.joined(separator: "\n") + "\n")
        }
        return out as String
    }

    /// qmail-send logs a delivery's report as one word, `_` for each space and `/` after each line
    /// (`delivery 12: failure: 192.0.2.10_does_not_like_recipient./Remote_host_said:_550_.../Giving_up_on_192.0.2.10./`),
    /// and users paste that word as it is, often wrapped by their mail client (`.../G` / `iving_up_on_...`).
    /// The report as qmail-remote wrote it, one line per line. A `/` inside the remote's text (a
    /// URL) stays: only one before the next part of the report (`Remote host said:`, `Giving up
    /// on`, ...) or at the end ends a line.
    static func qmailReports(_ text: String) -> String {
        let markers =
            #"(?:_does_not_like_recipient\.|Remote_host_said:_|Giving_up_on_|_but_sender_was_rejected\.|"#
            + #"_but_greeting_failed\.|_but_my_name_was_rejected\.|_failed_after_I_sent_the_message\.|_failed_on_DATA_command\.)"#
        guard text.range(of: markers, options: .regularExpression) != nil else { return text }
        var lines = text.components(separatedBy: "\n")
        var out: [String] = []
        var index = 0
        while index < lines.count {
            var line = lines[index]
            index += 1
            guard let word = line.range(of: #"\S+$"#, options: .regularExpression),
                line[word].range(of: markers, options: .regularExpression) != nil
            else {
                out.append(line)
                continue
            }
            // The wrapped rest of the word: lines without white space, up to the final `/`.
            while !line.hasSuffix("/"), index < lines.count, !lines[index].isEmpty,
                lines[index].rangeOfCharacter(from: .whitespaces) == nil
            {
                line += lines[index]
                index += 1
            }
            guard let last = line.range(of: #"\S+$"#, options: .regularExpression) else { continue }
            let head = String(line[..<last.lowerBound])
            let report = String(line[last])
            let parts = report.replacingOccurrences(
                of: #"/(?=Remote_host_said|Giving_up_on|I'm_not_going|Sorry|Connected_to|CNAME_lookup|Unable_to|$)"#,
                with: "\n", options: .regularExpression
            )
            .replacingOccurrences(of: "_", with: " ")
            .components(separatedBy: "\n").filter { !$0.isEmpty }
            if !head.trimmingCharacters(in: .whitespaces).isEmpty {
                out.append(head.trimmingCharacters(in: .whitespaces))
            }
            out.append(contentsOf: parts)
        }
        lines = out
        return lines.joined(separator: "\n")
    }

    /// Continuation lines joined to the line before (`ReplyText.unfold`).
    var unfolded: [String] { ReplyText.unfold(lines) }

    /// Each run of non-empty lines as one line, white space collapsed: a reply or a phrase that a
    /// paste or a bounce wrapped (`(in reply to RCPT TO` / `command)`) reads as one.
    var paragraphs: [String] {
        var out: [String] = []
        var current: [String] = []
        for line in lines {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty {
                if !current.isEmpty { out.append(current.joined(separator: " ")) }
                current = []
            } else {
                current.append(trimmed)
            }
        }
        if !current.isEmpty { out.append(current.joined(separator: " ")) }
        return out.map(Self.collapsed)
    }

    /// The whole input as one line.
    var whole: String { paragraphs.joined(separator: " ") }

    /// Runs of white space as one space.
    static func collapsed(_ text: String) -> String {
        text.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }

    // MARK: Clean-up

    /// Lines without the `> ` of an e-mail quotation, when most lines have it (a bounce pasted from a
    /// reply); other text as it is. The indentation after the marker stays: it is what `unfold`
    /// joins wrapped lines by.
    static func unquoted(_ lines: [Substring]) -> [Substring] {
        let nonEmpty = lines.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        let quoted = nonEmpty.filter { $0.hasPrefix("> ") || $0 == ">" }
        // A dialogue's `> ` marks the client's lines: quoted only when no line answers in kind.
        let replies = nonEmpty.filter { $0.hasPrefix("< ") }
        guard !nonEmpty.isEmpty, quoted.count * 2 > nonEmpty.count, replies.isEmpty else { return lines }
        return lines.map { line in
            var rest = line
            while rest.hasPrefix("> ") || rest == ">" { rest = rest.dropFirst(rest == ">" ? 1 : 2) }
            return rest
        }
    }

    /// The text without HTML tags and entities, Markdown links and code marks, BBCode, and the link
    /// markup mail clients add after a host name (`mx.example.test<http://mx.example.test>`):
    /// what is left is what the MTA wrote.
    static func withoutMarkup(_ text: String) -> String {
        var out = text
        // HTML: line breaks first, then every tag of the markup a page or a mail client uses
        // (not `<a@b>` or `<name>` of SMTP, which have no tag name of this list).
        let lineBreaks = #"(?i)<br\s*/?>|</p>|</div>|</tr>|</li>|</pre>"#
        out = out.replacingOccurrences(of: lineBreaks, with: "\n", options: .regularExpression)
        let tags =
            #"(?i)</?(a|p|div|span|pre|code|b|i|u|em|strong|font|tt|blockquote|table|tbody|thead|tr|td|th|li|ul|ol|html|body|head|br|hr|wbr|small|big|center|h[1-6])(\s[^<>]*)?/?>"#
        out = out.replacingOccurrences(of: tags, with: "", options: .regularExpression)
        // Link markup after a name: `mx.example.test<http://mx.example.test>`, `<mailto:...>`.
        out = out.replacingOccurrences(
            of: #"[ \t]*<(?:https?|mailto|ftp):[^<>\s]*>"#, with: "", options: .regularExpression)
        // A mail address that Markdown made a mailto link of (`<[u@example.test](mailto:u@example.test)>`)
        // is the address alone: the brackets are the link's, not the MTA's.
        out = out.replacingOccurrences(
            of: #"\[([^\[\]\s@]+@[^\[\]\s]+)\]\(mailto:\1\)"#, with: "$1", options: .regularExpression)
        // Markdown links `[text](url)` keep their text; a bracketed address stays bracketed.
        out = out.replacingOccurrences(
            of: #"\[([^\[\]\n]*)\]\((?:https?|mailto):[^()\s]*\)"#, with: "[$1]", options: .regularExpression)
        // A bracket that only held link text of a name (`[mx.example.test]`) before another
        // bracket (`[mx.example.test][192.0.2.1]`) is the name itself.
        out = out.replacingOccurrences(
            of: #"\[([A-Za-z0-9][A-Za-z0-9.-]*[A-Za-z])\](?=\[)"#, with: "$1", options: .regularExpression)
        // A forum's BBCode around a piece (`[email]bob@example.test[/email]`, `[color=blue]...[/color]`)
        // keeps the piece, and a wiki's attribute line under a quotation (kramdown's `{.is-info}`) goes.
        let bbCode = #"(?i)\[/?(?:email|url|color|b|i|u|code|quote|size|font|php|noparse|icode)(?:=[^\]\n]*)?\]"#
        out = out.replacingOccurrences(of: bbCode, with: "", options: .regularExpression)
        out = out.replacingOccurrences(
            of: #"(?m)^[ \t]*\{[:.#][^{}\n]*\}[ \t]*$"#, with: "", options: .regularExpression)
        // Code marks around pieces (`` `550 5.7.1` ``) and fences.
        out = out.replacingOccurrences(of: #"(?m)^\s*```[A-Za-z]*\s*$"#, with: "", options: .regularExpression)
        // A reply in an inline code span (``Saw `550 5.4.1 text` in the wild``) ends with the span.
        out = out.replacingOccurrences(
            of: #"`([245]\d\d[ -][^`\n]*)`[ \t]*"#, with: "$1\n", options: .regularExpression)
        out = out.replacingOccurrences(of: "`", with: "")
        // A reply quoted as a program's string: `'554-...\r\n554 ...\r\n'` has its line breaks escaped.
        out = out.replacingOccurrences(of: "\\r\\n", with: "\n")
        // HTML entities a page leaves in a quoted reply.
        for (entity, character) in [
            ("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&#39;", "'"), ("&#039;", "'"), ("&apos;", "'"),
            ("&nbsp;", " "), ("&#160;", " "), ("&amp;", "&"),
        ] {
            out = out.replacingOccurrences(of: entity, with: character, options: .caseInsensitive)
        }
        // Non-breaking and other wide spaces, and typographic quotes and dashes, that a web page or
        // a word processor puts in place of the MTA's own characters.
        out = String(
            out.unicodeScalars.map { scalar -> Character in
                switch scalar.value {
                case 0xA0, 0x2007, 0x202F, 0x2002, 0x2003, 0x2009: " "
                case 0x2018, 0x2019, 0x201B, 0x2032: "'"
                case 0x201C, 0x201D, 0x201F, 0x2033: "\""
                case 0x2013, 0x2014: "-"
                default: Character(scalar)
                }
            })
        return out
    }
}
