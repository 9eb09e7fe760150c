import Foundation
import SMTPProtocol

/// Replies as client libraries and mail clients print them when they drop or move the code:
/// .NET's `SmtpException` ("Mailbox unavailable. The server response was: 5.7.1 ..."), MailKit's
/// `StatusCode: MailboxUnavailable`, Roundcube's `SMTP Error (550): ... (5.7.1 ...)`, Python
/// smtplib's `(550, b'...')` tuples, and a reply after the words that introduce one.
enum LibraryReplies {
    /// `System.Net.Mail.SmtpStatusCode` and MailKit's `SmtpStatusCode`: the names, and the phrases
    /// .NET's `SmtpException` prints for them, with their codes.
    static let statusCodes: [(name: String, phrase: String, code: Int)] = [
        ("ServiceNotAvailable", "Service not available, closing transmission channel", 421),
        ("MailboxBusy", "Mailbox busy", 450),
        ("LocalErrorInProcessing", "Local error in processing", 451),
        ("InsufficientStorage", "Insufficient system storage", 452),
        ("ClientNotPermitted", "Client does not have permission to submit mail to this server", 454),
        ("CommandUnrecognized", "Syntax error, command unrecognized", 500),
        ("SyntaxError", "Syntax error in parameters or arguments", 501),
        ("CommandNotImplemented", "Command not implemented", 502),
        ("BadCommandSequence", "Bad sequence of commands", 503),
        ("CommandParameterNotImplemented", "Command parameter not implemented", 504),
        (
            "MustIssueStartTlsFirst",
            "The SMTP server requires a secure connection or the client was not authenticated", 530
        ),
        ("MailboxUnavailable", "Mailbox unavailable", 550),
        ("UserNotLocalTryAlternatePath", "User not local; please try a different path", 551),
        ("ExceededStorageAllocation", "Exceeded storage allocation", 552),
        ("MailboxNameNotAllowed", "Mailbox name not allowed", 553),
        ("TransactionFailed", "Transaction failed", 554),
    ]

    /// .NET's `<phrase>. The server response was: <enhanced> <text>`, or MailKit's message with its
    /// `StatusCode`.
    static func dotNet(_ text: String) -> (SMTPReply, String)? {
        for status in statusCodes {
            let pattern =
                NSRegularExpression.escapedPattern(for: status.phrase) + #"\.?\s+The server response was:\s*(.*)$"#
            if let range = text.range(of: pattern, options: [.regularExpression, .caseInsensitive]) {
                // The server's text, without a stack trace that an unfolded paste joined to it.
                let rest = String(text[range]).replacingOccurrences(
                    of: #"^.*?The server response was:\s*"#, with: "", options: [.regularExpression, .caseInsensitive]
                )
                .replacingOccurrences(of: #"\s+at\s+[A-Za-z_][\w.`<>]*[.(].*$"#, with: "", options: .regularExpression)
                return (
                    reply(status.code, rest),
                    ".NET's `\(status.phrase)` (SmtpStatusCode.\(status.name), \(status.code)) with the server's text"
                )
            }
        }
        if let range = text.range(of: #"StatusCode\s*[:=]\s*(\w+)"#, options: .regularExpression) {
            let name =
                text[range].split(whereSeparator: { $0 == ":" || $0 == "=" }).last?.trimmingCharacters(in: .whitespaces)
                ?? ""
            guard let status = statusCodes.first(where: { $0.name == name }) else { return nil }
            // MailKit's message is the server's text (`5.7.1 ...`), on the exception's first line.
            let message =
                text.range(of: #"SmtpCommandException:\s*([^\n]*)"#, options: .regularExpression)
                .map {
                    String(text[$0]).replacingOccurrences(
                        of: #"^SmtpCommandException:\s*"#, with: "", options: .regularExpression)
                }?
                .replacingOccurrences(
                    of: #"\s+(?:ErrorCode|StatusCode|at)\b.*$"#, with: "", options: .regularExpression) ?? ""
            return (
                reply(status.code, message),
                "MailKit's `StatusCode: \(name)` (\(status.code)) with the exception's message"
            )
        }
        return nil
    }

    private static func reply(_ code: Int, _ text: String) -> SMTPReply {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let written = ReplyText.reply(Substring(trimmed)), written.code == code { return written }
        let split = SMTPReply.splitEnhanced(trimmed, code: code)
        return SMTPReply(code: code, enhanced: split.enhanced, split.text)
    }

    /// PHPMailer's `SMTP server error: DATA END command failed Detail: 5.7.60 text SMTP code: 550`:
    /// the text and the code apart.
    static func phpMailerDetail(_ text: String) -> (SMTPReply, String)? {
        guard let range = text.range(of: #"Detail:\s*(.*?)\s*SMTP code:\s*[245]\d\d"#, options: .regularExpression)
        else { return nil }
        let found = String(text[range])
        let code = Int(found.suffix(3))!
        let detail = found.replacingOccurrences(of: #"^Detail:\s*"#, with: "", options: .regularExpression)
            .replacingOccurrences(of: #"\s*SMTP code:\s*[245]\d\d$"#, with: "", options: .regularExpression)
        var foundReply = reply(code, detail)
        // `Additional SMTP info: 5.7.1` after the code is the enhanced code (SMTP::getError()'s
        // `smtp_code_ex`), when the detail did not start with it.
        let after = text[range.upperBound...]
        if foundReply.enhanced == nil,
            let info = after.range(
                of: #"^\s*Additional SMTP info:\s*[245]\.\d{1,3}\.\d{1,3}"#, options: .regularExpression),
            let enhanced = EnhancedCode(
                String(after[info].split(separator: ":").last ?? "").trimmingCharacters(in: .whitespaces)),
            enhanced.klass == code / 100
        {
            foundReply = SMTPReply(code: code, enhanced: enhanced.text, foundReply.text)
        }
        return (foundReply, "PHPMailer's `Detail:` with its `SMTP code: \(code)`")
    }

    /// A sending service's event with the code and the text in fields of their own (Mailgun's
    /// `"delivery-status": {"code": 550, "message": "5.7.1 ...", "description": ""}`).
    static func jsonStatus(_ text: String) -> (SMTPReply, String)? {
        guard let codeRange = text.range(of: #""code"\s*:\s*"?[245]\d\d\b"#, options: .regularExpression),
            let code = Int(text[codeRange].suffix(3))
        else { return nil }
        // The object the code is in: the text up to its closing brace.
        let start = text[..<codeRange.lowerBound].lastIndex(of: "{") ?? text.startIndex
        let object = String(text[start...].prefix { $0 != "}" })
        for key in ["message", "description"] {
            let pattern = "\"" + key + #""\s*:\s*"((?:[^"\\]|\\.)*)""#
            guard let regex = try? NSRegularExpression(pattern: pattern),
                let match = regex.firstMatch(in: object, range: NSRange(object.startIndex..., in: object)),
                let range = Range(match.range(at: 1), in: object)
            else { continue }
            let value = String(object[range]).replacingOccurrences(of: #"\""#, with: "\"").trimmingCharacters(
                in: .whitespaces)
            if value.isEmpty { continue }
            return (reply(code, value), "the event's `\"code\": \(code)` with its `\"\(key)\"`")
        }
        return nil
    }

    /// Rust lettre's error: its Display `permanent error (554): text`, or its Debug form
    /// `Code { severity: PermanentNegativeCompletion, category: MailSystem, detail: Four }`, which
    /// names the three digits (RFC 5321 4.2.1: the first the severity, the second the category).
    static func lettre(_ text: String) -> (SMTPReply, String)? {
        if let range = text.range(
            of: #"\b(?:permanent|transient) error \(([245]\d\d)\)(?::[ \t]*[^\n]*)?"#, options: .regularExpression)
        {
            let found = String(text[range])
            guard let open = found.firstIndex(of: "("), let code = Int(found[found.index(after: open)...].prefix(3))
            else { return nil }
            let rest = found.range(of: "): ").map { String(found[$0.upperBound...]) } ?? ""
            return (reply(code, ReplyText.cleaned(rest)), "lettre's `\(found.prefix(24))...` (the code in parentheses)")
        }
        let severities = ["TransientNegativeCompletion": 4, "PermanentNegativeCompletion": 5]
        let categories = [
            "Syntax": 0, "Information": 1, "Connections": 2, "Unspecified3": 3, "Unspecified4": 4, "MailSystem": 5,
        ]
        let details = ["Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine"]
        guard
            let range = text.range(
                of: #"severity:\s*(\w+),\s*category:\s*(\w+),\s*detail:\s*(\w+)"#, options: .regularExpression)
        else { return nil }
        let fields = text[range].split(separator: ",").map {
            $0.split(separator: ":").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        }
        guard fields.count == 3, let severity = severities[fields[0]], let category = categories[fields[1]],
            let detail = details.firstIndex(of: fields[2])
        else { return nil }
        let code = severity * 100 + category * 10 + detail
        let codeWords =
            "lettre's `Code { severity: \(fields[0]), category: \(fields[1]), detail: \(fields[2]) }` (\(code))"
        // lettre's `Response` keeps the reply's lines after the code: `message: ["5.7.1 text"]` (a
        // Debug form that may escape its quotes).
        if let lines = text[range.upperBound...].range(
            of: #"message:\s*\[\s*\\?"((?:[^"\\]|\\[^"])*)\\?""#, options: .regularExpression)
        {
            let quoted = text[lines].drop { $0 != "\"" }.dropFirst()
            let body = quoted.hasSuffix("\\\"") ? quoted.dropLast(2) : quoted.dropLast()
            if let found = ReplyText.reply(Substring("\(code) " + body)) {
                return (
                    SMTPReply(code: code, enhanced: found.enhanced, ReplyText.cleaned(found.text)),
                    codeWords + " with its `message` lines"
                )
            }
        }
        return (SMTPReply(code: code, enhanced: nil, ""), codeWords.dropLast() + "; lettre keeps no text)")
    }

    /// Roundcube's `SMTP Error (550): Failed to add recipient "..." (5.7.1 <...>: text).`, also in its
    /// translations (`Error SMTP (451): (...)`, `SMTP-Fehler (550): ...`) and with a paste's markup after it.
    static func roundcube(_ text: String) -> (SMTPReply, String)? {
        let trimmed = text.trimmingCharacters(in: CharacterSet(charactersIn: " \t*_`'\""))
        guard
            let range = trimmed.range(
                of:
                    #"(?:SMTP[ -](?:Error|error|Fehler|Erreur|Errore|Fout)|(?:Error|Erreur|Errore|Fehler|Fout) SMTP) \(([245]\d\d)\):[^(]*\((.*)\)\.?\s*$"#,
                options: .regularExpression)
        else { return nil }
        let found = String(trimmed[range])
        guard let codeStart = found.firstIndex(of: "("),
            let code = Int(found[found.index(after: codeStart)...].prefix(3))
        else { return nil }
        guard let open = found.range(of: "): ")?.upperBound, let inner = found[open...].firstIndex(of: "(") else {
            return nil
        }
        var body = String(found[found.index(after: inner)...])
        while let last = body.last, last == "." || last == " " { body.removeLast() }
        if body.hasSuffix(")") { body.removeLast() }
        return (reply(code, body), "Roundcube's `SMTP Error (\(code))` with the server's text in parentheses")
    }

    /// A reply printed without its three-digit code: an enhanced code after the words that introduce
    /// a reply (`RCPT TO <r> failed: 5.7.1 <r>: Relay access denied`), else a text whose code an RFC
    /// or an MTA fixes (`Relay access denied (in reply to RCPT TO command)`), in a paragraph a paste
    /// wrapped. The code is left to `CodelessReply`.
    static func codeless(_ paragraphs: [String]) -> (text: String, enhanced: EnhancedCode?, paragraph: String)? {
        let pattern =
            #"(?:said|failed|error|Error|rejected|reply|response|responded(?: with)?|[A-Za-z]Exception)\s*:\s*['"(]?\s*([245]\.\d{1,3}\.\d{1,3})\s+(\S.*)$"#
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return nil }
        for paragraph in paragraphs {
            guard let match = regex.firstMatch(in: paragraph, range: NSRange(paragraph.startIndex..., in: paragraph)),
                let codeRange = Range(match.range(at: 1), in: paragraph),
                let textRange = Range(match.range(at: 2), in: paragraph),
                let enhanced = EnhancedCode(String(paragraph[codeRange]))
            else { continue }
            var text = String(paragraph[textRange])
            if let cut = text.range(of: #"\s*\(in reply to [^)]*\)"#, options: .regularExpression) {
                text = String(text[..<cut.lowerBound])
            }
            if let opening = paragraph[..<codeRange.lowerBound].last(where: { "'\"(".contains($0) }),
                paragraph[..<codeRange.lowerBound].hasSuffix(String(opening)),
                let close = text.firstIndex(of: opening == "(" ? ")" : opening)
            {
                text = String(text[..<close])
            }
            text = ReplyText.cleaned(text)
            guard !text.isEmpty else { continue }
            return (text, enhanced, paragraph)
        }
        // A reply quoted from its enhanced code on (`"5.7.1 Unfortunately, messages from [ADDR] weren't sent. ..."`).
        for paragraph in paragraphs {
            guard
                let range = paragraph.range(of: #"^\s*['"]?[245]\.\d{1,3}\.\d{1,3}\s+\S"#, options: .regularExpression)
            else { continue }
            let quote = paragraph[range].first { $0 == "'" || $0 == "\"" }
            var said = paragraph.drop { $0 == " " || $0 == "\t" || $0 == "'" || $0 == "\"" }
            guard let enhanced = EnhancedCode(String(said)) else { continue }
            said = said.dropFirst(enhanced.text.count).drop { $0 == " " }
            var text = String(said)
            if let quote, let close = text.firstIndex(of: quote) { text = String(text[..<close]) }
            text = ReplyText.cleaned(text)
            if !text.isEmpty { return (text, enhanced, paragraph) }
        }
        for paragraph in paragraphs {
            let range = NSRange(paragraph.startIndex..., in: paragraph)
            for entry in CodelessReply.known {
                guard let match = entry.regex.firstMatch(in: paragraph, range: range),
                    let found = Range(match.range, in: paragraph)
                else { continue }
                return (String(paragraph[found]), nil, paragraph)
            }
        }
        return nil
    }

    /// A reply after the words that introduce one, in a paragraph whose lines a paste or a bounce
    /// wrapped (collapsed to one line): `to me: 554 ...`, `said: 550 ...`, `with message "550 ..."`,
    /// `responded with: "421 ..."`, `answer: 550 ...`, a code and a bar before the whole reply (DokuWiki's smtp plugin:
    /// `Got: 503 | 503 Bad sequence of commands`), a diagnostic's type (`#5.1.1 SMTP; 550 ...`); up to Postfix's `(in reply to ...)` or the end
    /// of a quotation.
    static func introduced(_ paragraphs: [String]) -> (SMTPReply, String)? {
        introducedIn(paragraphs)
    }

    /// A reply whose code and enhanced code are each labelled (`ERROR_CODE :550, ERROR_CODE :5.1.1 text`; Zoho
    /// labels the text alone when there is no enhanced code: `ERROR_CODE :550, ERROR_CODE :The email ...`), or
    /// a 4xx/5xx reply that opens a quotation in prose (`which says "554 Message not allowed - [299]"`).
    static func labelledOrQuoted(_ paragraphs: [String]) -> (SMTPReply, String)? {
        let labelled =
            #"\b(?i:error[_ ]?code|reply code|code)\s*[:=]\s*([245]\d\d)\s*,\s*(?i:error[_ ]?code|status|code)\s*[:=]\s*(?:([245]\.\d{1,3}\.\d{1,3})\s+)?(.*)$"#
        let quoted = #"(?:^|[\s(:])["“'`]([45]\d\d[ -][^"“”'`\n]{3,})["”'`]"#
        for paragraph in paragraphs {
            if let regex = try? NSRegularExpression(pattern: labelled),
                let match = regex.firstMatch(in: paragraph, range: NSRange(paragraph.startIndex..., in: paragraph)),
                let whole = Range(match.range, in: paragraph),
                let codeRange = Range(match.range(at: 1), in: paragraph), let code = Int(paragraph[codeRange]),
                let textRange = Range(match.range(at: 3), in: paragraph)
            {
                // Zoho labels the text as it labels the code (`ERROR_CODE :550, ERROR_CODE :The email
                // you sent ...`); the enhanced code between them is optional.
                let enhanced = Range(match.range(at: 2), in: paragraph).flatMap { EnhancedCode(String(paragraph[$0])) }
                var text = String(paragraph[textRange]).trimmingCharacters(in: .whitespaces)
                if let last = text.last, last == "\"" || last == "'" { text.removeLast() }
                let found = paragraph[whole]
                let labelsTwice = found.range(
                    of: #"(?i)error[_ ]?code\s*[:=].*error[_ ]?code\s*[:=]"#, options: .regularExpression)
                if !text.isEmpty, enhanced != nil || labelsTwice != nil {
                    return (
                        SMTPReply(code: code, enhanced: enhanced?.text, ReplyText.cleaned(text)),
                        "the labelled code\(enhanced == nil ? "" : " and enhanced code") in `\(found.prefix(50))...`"
                    )
                }
            }
            if let range = paragraph.range(of: quoted, options: .regularExpression) {
                let inner = paragraph[range].drop { !"\"“'`".contains($0) }.dropFirst().dropLast()
                if let found = ReplyText.reply(Substring(inner)), found.code >= 400 {
                    return (
                        SMTPReply(code: found.code, enhanced: found.enhanced, ReplyText.cleaned(found.text)),
                        "the reply quoted in `\(paragraph.prefix(60))...`"
                    )
                }
            }
        }
        return nil
    }

    /// The introducing words may be a few words ahead of the colon (Go's `error while closing the
    /// WriteCloser: 554 ...`).
    private static func introducedIn(_ paragraphs: [String]) -> (SMTPReply, String)? {
        let pattern =
            #"(?:said|to me|returned|response was|with message|server message|message|responded(?: with)?|answer|server response|Server Response|The error that the other server returned was|error|Error|failed|failure|rejected|reply|Reason|reason|[A-Za-z]Exception|\b[245]\d\d\s*\||\b(?i:smtp);|\b(?:error|Error|failed|failure)\b[^:'"()\[\]]{1,60}(?=:)|\b(?:Mail|Rcpt|Data|Hello)(?=: ))\s*:?\s*['"(]?\s*([245]\d\d(?:[ -]|$).*)$"#
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return nil }
        var bare: (SMTPReply, String)?
        for paragraph in paragraphs {
            guard let match = regex.firstMatch(in: paragraph, range: NSRange(paragraph.startIndex..., in: paragraph)),
                let range = Range(match.range(at: 1), in: paragraph)
            else { continue }
            var text = String(paragraph[range])
            let opening = paragraph[..<range.lowerBound].last { "'\"(".contains($0) }
            if let cut = text.range(of: #"\s*\(in reply to [^)]*\)"#, options: .regularExpression) {
                text = String(text[..<cut.lowerBound])
            }
            if let opening, let close = text.dropFirst(4).firstIndex(of: opening == "(" ? ")" : opening) {
                let closing: Character = opening == "(" ? ")" : opening
                if text[..<close].dropFirst(4).allSatisfy(\.isWhitespace),
                    let innerClose = text[text.index(after: close)...].firstIndex(of: closing)
                {
                    // The reply's own text is a quotation (Symfony's `with message "550 "envelope sender
                    // not allowed ...""`): the reply runs to the end of that one.
                    text = String(text[...innerClose])
                } else {
                    text = String(text[..<close])
                }
            }
            guard let found = ReplyText.reply(Substring(text)) else { continue }
            let reply = SMTPReply(code: found.code, enhanced: found.enhanced, ReplyText.cleaned(found.text))
            let why = "the reply after the words that introduce it in `\(paragraph.prefix(60))...`"
            // A code alone (`Error Code: 550`) gives way to a later whole reply (`with message "550 ..."`).
            if reply.text.isEmpty, found.enhanced == nil {
                bare = bare ?? (reply, why)
                continue
            }
            return (reply, why)
        }
        return bare
    }
}
