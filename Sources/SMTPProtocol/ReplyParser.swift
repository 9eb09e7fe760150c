/// Why a server reply could not be parsed (RFC 5321 4.2).
public struct ReplyParseError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        /// The line does not start with three digits.
        case missingCode
        /// The reply code's first digit is outside 2-5 (RFC 5321 4.2.1 defines no others).
        case codeOutOfRange(Int)
        /// The fourth character is neither a space nor a hyphen.
        case badSeparator
        /// A continuation line carries another code than the first line of the reply.
        case codeChanged(expected: Int, got: Int)
        /// The reply has more lines than the parser accepts.
        case tooManyLines(limit: Int)
        /// A line is longer than the parser accepts.
        case lineTooLong(limit: Int)
    }

    public var reason: Reason
    /// The offending line as received (cut to 200 characters).
    public var line: String

    public init(reason: Reason, line: String) {
        self.reason = reason
        self.line = String(line.prefix(200))
    }

    public var description: String {
        let what: String
        switch reason {
        case .missingCode: what = "reply line does not start with a three-digit code"
        case .codeOutOfRange(let code): what = "reply code \(code) is not a 2xx, 3xx, 4xx or 5xx code"
        case .badSeparator: what = "reply code is followed by neither a space nor a hyphen"
        case .codeChanged(let expected, let got):
            what = "continuation line has code \(got), the reply started with \(expected)"
        case .tooManyLines(let limit): what = "reply has more than \(limit) lines"
        case .lineTooLong(let limit): what = "reply line is longer than \(limit) characters"
        }
        return
            "malformed SMTP reply from the server: \(what) (line: \(String(reflecting: line))); the server does not follow RFC 5321 4.2"
    }
}

/// Assembles server replies from lines: `250-first`, `250-second`, `250 last` make one reply
/// (RFC 5321 4.2.1).
///
/// Enhanced status codes (RFC 3463) are split off a line whenever the line starts with one whose
/// class matches the reply code, whether or not the server announced ENHANCEDSTATUSCODES
/// (RFC 2034): Postfix's client does the same (`dsn_valid()` on every reply in smtp_chat.c), and a
/// greeting comes before any EHLO could announce anything. The reply keeps the first line's code;
/// the same code is removed from later lines that repeat it.
public struct ReplyParser: Sendable {
    /// RFC 5321 4.5.3.1.5 allows 512 octets per reply line; servers exceed that in practice.
    public static let defaultMaximumLineLength = 4096
    public static let defaultMaximumLines = 1000

    public var maximumLineLength: Int
    public var maximumLines: Int

    private var code: Int?
    private var enhanced: String?
    private var lines: [String] = []

    public init(
        maximumLineLength: Int = ReplyParser.defaultMaximumLineLength,
        maximumLines: Int = ReplyParser.defaultMaximumLines
    ) {
        self.maximumLineLength = maximumLineLength
        self.maximumLines = maximumLines
    }

    /// True while a multi-line reply has started but not ended.
    public var isInsideReply: Bool { code != nil }

    /// Feeds one line without its CRLF. Returns the reply when this line ends it.
    /// After an error the partial reply is dropped; the caller should treat the session as broken.
    public mutating func feed(_ line: String) throws(ReplyParseError) -> SMTPReply? {
        do {
            return try parse(line)
        } catch {
            reset()
            throw error
        }
    }

    public mutating func reset() {
        code = nil
        enhanced = nil
        lines = []
    }

    private mutating func parse(_ line: String) throws(ReplyParseError) -> SMTPReply? {
        guard line.utf8.count <= maximumLineLength else {
            throw ReplyParseError(reason: .lineTooLong(limit: maximumLineLength), line: line)
        }
        let bytes = Array(line.utf8)
        guard bytes.count >= 3, bytes[0..<3].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw ReplyParseError(reason: .missingCode, line: line)
        }
        let lineCode = Int(bytes[0] - 0x30) * 100 + Int(bytes[1] - 0x30) * 10 + Int(bytes[2] - 0x30)
        guard (2...5).contains(lineCode / 100) else {
            throw ReplyParseError(reason: .codeOutOfRange(lineCode), line: line)
        }
        // A bare "250" is a last line with empty text (RFC 5321 4.2: the text is optional).
        let isLast: Bool
        if bytes.count == 3 {
            isLast = true
        } else if bytes[3] == 0x20 {
            isLast = true
        } else if bytes[3] == 0x2d {
            isLast = false
        } else {
            throw ReplyParseError(reason: .badSeparator, line: line)
        }
        if let code, code != lineCode {
            throw ReplyParseError(reason: .codeChanged(expected: code, got: lineCode), line: line)
        }
        guard lines.count < maximumLines else {
            throw ReplyParseError(reason: .tooManyLines(limit: maximumLines), line: line)
        }

        let rest = bytes.count > 4 ? String(decoding: bytes[4...], as: UTF8.self) : ""
        let split = SMTPReply.splitEnhanced(rest, code: lineCode)
        var text = rest
        if code == nil {
            // The first line decides whether the reply carries an enhanced code.
            if let found = split.enhanced {
                enhanced = found
                text = split.text
            }
        } else if let found = split.enhanced, found == enhanced {
            text = split.text
        }
        code = lineCode
        lines.append(text)

        guard isLast else { return nil }
        let reply = SMTPReply(code: lineCode, enhanced: enhanced, lines: lines)
        reset()
        return reply
    }
}
