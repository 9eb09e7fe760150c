import Foundation

/// A whole message (RFC 5322 with RFC 2045-2049 MIME), as an `.eml` file or one message of an
/// mbox holds a bounce: its parts decoded (quoted-printable, base64) and laid out as the text
/// readers read, the delivery-status part (RFC 3464) first.
struct MIMEMessage {
    /// Header fields in order, unfolded; names as written.
    var headers: [(name: String, value: String)]
    /// The decoded body of a single-part message.
    var body: String
    var parts: [MIMEMessage]

    /// A part's media type in lower case (`text/plain` when the message has none, RFC 2045 5.2).
    var contentType: String {
        let value = header("Content-Type") ?? "text/plain"
        return (value.split(separator: ";").first.map(String.init) ?? "text/plain").trimmingCharacters(in: .whitespaces)
            .lowercased()
    }

    func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// Whether `text` is a whole message: an mbox `From ` line or header fields first, and MIME
    /// or the fields of a mail (not a pasted bounce text that starts with a line or two of its own).
    static func looksLikeMessage(_ text: String) -> Bool {
        var lines = ReplyText.lines(text).prefix(200).drop { $0.trimmingCharacters(in: .whitespaces).isEmpty }
        if lines.first?.hasPrefix("From ") == true { lines = lines.dropFirst() }
        var names: Set<String> = []
        for line in lines {
            if line.isEmpty { break }
            if line.first == " " || line.first == "\t" { continue }
            guard let colon = line.firstIndex(of: ":"), colon > line.startIndex,
                line[..<colon].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
            else { return false }
            names.insert(line[..<colon].lowercased())
        }
        let mailFields: Set<String> = ["received", "return-path", "message-id", "date", "from", "to", "subject"]
        return names.contains("content-type") || names.contains("mime-version")
            || names.intersection(mailFields).count >= 3
    }

    init(_ text: String) {
        var lines = ReplyText.lines(text)[...]
        while let first = lines.first, first.trimmingCharacters(in: .whitespaces).isEmpty { lines = lines.dropFirst() }
        if lines.first?.hasPrefix("From ") == true { lines = lines.dropFirst() }
        var headers: [(String, String)] = []
        while let line = lines.first, !line.isEmpty {
            lines = lines.dropFirst()
            if line.first == " " || line.first == "\t", !headers.isEmpty {
                headers[headers.count - 1].1 += " " + line.trimmingCharacters(in: .whitespaces)
            } else if let colon = line.firstIndex(of: ":") {
                headers.append(
                    (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
            } else {
                // Not a header field: the body starts here (a part without headers).
                lines = [line] + lines
                break
            }
        }
        if lines.first?.isEmpty == true { lines = lines.dropFirst() }
        self.headers = headers
        self.parts = []
        self.body = ""
        let raw = lines.joined(separator: "\n")
        let type = contentType
        if type.hasPrefix("multipart/") {
            // The boundary the header names; a message whose parts use another one (a relay rewrote
            // the header) is split at the first `--X` line of its body; with none its body is text.
            let named = Self.parameter("boundary", of: header("Content-Type") ?? "")
            var split = named.map { Self.split(raw, boundary: $0) } ?? []
            if split.isEmpty,
                let line = ReplyText.lines(raw).first(where: { $0.hasPrefix("--") && $0.count > 2 && !$0.contains(" ") }
                )
            {
                split = Self.split(raw, boundary: String(line.dropFirst(2)))
            }
            parts = split.isEmpty ? [MIMEMessage("Content-Type: text/plain\n\n" + raw)] : split.map(MIMEMessage.init)
        } else if type == "message/rfc822" || type == "message/global" {
            parts = [MIMEMessage(Self.decode(raw, encoding: header("Content-Transfer-Encoding")))]
        } else {
            body = Self.decode(raw, encoding: header("Content-Transfer-Encoding"))
        }
    }

    /// The text the readers read: the notice's own fields (who it went to, its subject), then the
    /// delivery-status parts, the human-readable parts, and the returned message's header fields
    /// (its Return-Path is the envelope sender), never the returned body.
    var readableText: String {
        // A bounce forwarded as an attachment (`message/rfc822`): the bounce is what is read, then
        // the words of whoever forwarded it.
        if let forwarded = forwardedBounce {
            let note = flattened().filter { !$0.isStatus && !$0.isHeaders }.map(\.text)
            return ([forwarded.readableText] + note).joined(separator: "\n")
        }
        var out: [String] = []
        for name in ["From", "To", "Subject", "Date", "X-Failed-Recipients"] {
            if let value = header(name) { out.append("\(name): \(value)") }
        }
        out.append("")
        let leaves = flattened()
        for leaf in leaves where leaf.isStatus { out.append(leaf.text); out.append("") }
        for leaf in leaves where !leaf.isStatus && !leaf.isHeaders { out.append(leaf.text); out.append("") }
        for leaf in leaves where leaf.isHeaders { out.append(leaf.text); out.append("") }
        return out.joined(separator: "\n")
    }

    /// Whether this message is a bounce itself: a report (RFC 6522), a delivery-status part, or a
    /// notice from a mailer daemon by its sender or subject.
    var isBounce: Bool {
        if hasStatus { return true }
        let daemon = #"(?i)mailer-daemon|postmaster|mail delivery (?:system|subsystem)"#
        let subject =
            #"(?i)undeliver|returned mail|delivery status notification|failure notice|mail delivery failed|delivery failure|non.?delivery"#
        // `Fwd: Returned mail: ...` is someone's message about a bounce, not the bounce.
        let forwarded = header("Subject")?.range(of: #"(?i)\bfwd?:"#, options: .regularExpression) != nil
        return header("From")?.range(of: daemon, options: .regularExpression) != nil
            || !forwarded && header("Subject")?.range(of: subject, options: .regularExpression) != nil
    }

    /// The text parts of the attached messages (a gateway's notice that attaches the MTA's own
    /// bounce as a plain message): read only when the message's own text tells nothing.
    var attachedTexts: String {
        func texts(_ message: MIMEMessage, attached: Bool) -> [String] {
            let type = message.contentType
            if type == "message/rfc822" || type == "message/global" {
                return message.parts.flatMap { texts($0, attached: true) }
            }
            if !message.parts.isEmpty { return message.parts.flatMap { texts($0, attached: attached) } }
            return attached && type.hasPrefix("text/") ? [message.body] : []
        }
        return texts(self, attached: false).joined(separator: "\n\n")
    }

    /// Whether this message holds a delivery status of its own (not in an attached message).
    var hasStatus: Bool {
        contentType == "multipart/report" || flattened().contains(where: \.isStatus)
    }

    /// The bounce this message carries as an attached message, when it has no status of its own: a
    /// user's forward (any attached bounce), or a notice that wraps the bounce it got (a gateway's
    /// `Mail could not be delivered` around the MTA's report: an attached report only).
    var forwardedBounce: MIMEMessage? {
        guard !hasStatus else { return nil }
        let strong = isBounce
        func attached(_ message: MIMEMessage) -> MIMEMessage? {
            let type = message.contentType
            if type == "message/rfc822" || type == "message/global" {
                return message.parts.first { strong ? $0.hasStatus : $0.isBounce }
                    ?? message.parts.lazy.compactMap(attached).first
            }
            return message.parts.lazy.compactMap(attached).first
        }
        return attached(self)
    }

    private struct Leaf {
        var text: String
        var isStatus = false
        var isHeaders = false
    }

    private func flattened(returned: Bool = false) -> [Leaf] {
        if !parts.isEmpty {
            let type = contentType
            if type == "message/rfc822" || type == "message/global" {
                // The returned message: its header fields only.
                return parts.map {
                    Leaf(text: $0.headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n"), isHeaders: true)
                }
            }
            return parts.flatMap { $0.flattened(returned: returned) }
        }
        switch contentType {
        case "message/delivery-status", "message/global-delivery-status":
            return [Leaf(text: body, isStatus: true)]
        case "text/rfc822-headers", "text/global-headers":
            return [Leaf(text: body, isHeaders: true)]
        case let type where type.hasPrefix("text/"):
            return [Leaf(text: body)]
        default:
            return []
        }
    }

    /// A Content-Type parameter (`boundary="..."`).
    static func parameter(_ name: String, of value: String) -> String? {
        for piece in value.split(separator: ";").dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == name else { continue }
            return pair[1].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return nil
    }

    /// The body parts between `--boundary` lines (RFC 2046 5.1.1), without preamble and epilogue.
    static func split(_ text: String, boundary: String) -> [String] {
        var parts: [String] = []
        var current: [Substring]?
        for line in ReplyText.lines(text) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed == "--" + boundary + "--" {
                if let current { parts.append(current.joined(separator: "\n")) }
                current = nil
                break
            }
            if trimmed == "--" + boundary {
                if let current { parts.append(current.joined(separator: "\n")) }
                current = []
                continue
            }
            current?.append(line)
        }
        if let current { parts.append(current.joined(separator: "\n")) }
        return parts
    }

    /// The body with its transfer encoding undone (RFC 2045 6.7 quoted-printable, 6.8 base64).
    static func decode(_ text: String, encoding: String?) -> String {
        switch encoding?.trimmingCharacters(in: .whitespaces).lowercased() {
        case "quoted-printable"?:
            return quotedPrintable(text)
        case "base64"?:
            let compact = text.filter { !$0.isWhitespace }
            guard let data = Data(base64Encoded: compact, options: .ignoreUnknownCharacters) else { return text }
            return String(decoding: data, as: UTF8.self)
        default:
            return text
        }
    }

    static func quotedPrintable(_ text: String) -> String {
        var bytes: [UInt8] = []
        let lines = ReplyText.lines(text)
        for (index, line) in lines.enumerated() {
            var characters = Array(line.utf8)
            // Trailing white space is not part of the data (RFC 2045 6.7 rule 3).
            while let last = characters.last, last == 0x20 || last == 0x09 { characters.removeLast() }
            var soft = false
            var position = 0
            while position < characters.count {
                let byte = characters[position]
                if byte == UInt8(ascii: "=") {
                    if position == characters.count - 1 { soft = true; break }
                    if let high = hexValue(characters[safe: position + 1]),
                        let low = hexValue(characters[safe: position + 2])
                    {
                        bytes.append(high << 4 | low)
                        position += 3
                        continue
                    }
                }
                bytes.append(byte)
                position += 1
            }
            if !soft, index < lines.count - 1 { bytes.append(UInt8(ascii: "\n")) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8?) -> UInt8? {
        guard let byte else { return nil }
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        default: return nil
        }
    }
}

extension Array {
    fileprivate subscript(safe index: Int) -> Element? {
        indices.contains(index) ? self[index] : nil
    }
}

/// An mbox file (the `From ` line format mail programs store mailboxes in): its messages.
public enum Mailbox {
    /// The messages of `text`, each with its `From ` line, `>From ` escapes undone; the whole
    /// text as one message when it is no mbox.
    public static func messages(_ text: String) -> [String] {
        let lines = ReplyText.lines(text)
        guard lines.first(where: { !$0.isEmpty })?.hasPrefix("From ") == true else { return [text] }
        var messages: [[Substring]] = []
        var previousEmpty = true
        for line in lines {
            // A `From ` line after an empty line (or at the start) begins a message (RFC 4155), as
            // does one in the full `From sender Mon Jan  1 00:00:00 2024` form after any line.
            if line.hasPrefix("From "), previousEmpty || line.range(of: fromLine, options: .regularExpression) != nil {
                messages.append([line])
            } else if !messages.isEmpty {
                var kept = line
                if kept.hasPrefix(">From ") { kept = kept.dropFirst() }
                messages[messages.count - 1].append(kept)
            }
            previousEmpty = line.isEmpty
        }
        return messages.map { $0.joined(separator: "\n") }
    }

    private static let fromLine =
        #"^From \S+ +[A-Z][a-z]{2} [A-Z][a-z]{2} +\d{1,2} \d\d:\d\d(:\d\d)? (\d{4}|[A-Z]{3,4} \d{4})"#

    /// A one-line account of a message: its date and subject, for choosing one.
    public static func summary(_ message: String) -> String {
        let parsed = MIMEMessage(message)
        let subject = parsed.header("Subject") ?? "(no subject)"
        let date = parsed.header("Date").map { " (\($0))" } ?? ""
        return subject + date
    }
}
