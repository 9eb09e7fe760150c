/// One SMTP reply (RFC 5321 4.2): a three-digit code, an optional enhanced status code
/// (RFC 3463, announced by ENHANCEDSTATUSCODES, RFC 2034) and one or more lines of text.
public struct SMTPReply: Sendable, Hashable, CustomStringConvertible, Codable {
    public var code: Int
    /// `x.y.z` without the code, or nil when the reply carries none.
    public var enhanced: String?
    /// The text of each line, without code, separator, enhanced code or CRLF.
    public var lines: [String]

    public init(code: Int, enhanced: String? = nil, lines: [String]) {
        self.code = code
        self.enhanced = enhanced
        self.lines = lines.isEmpty ? [""] : lines
    }

    public init(code: Int, enhanced: String? = nil, _ text: String) {
        self.init(code: code, enhanced: enhanced, lines: [text])
    }

    /// The lines joined with a space: what reports show and `expect.text` matches.
    public var text: String { lines.joined(separator: " ") }

    public var isPositive: Bool { (200..<400).contains(code) }
    public var isTransientFailure: Bool { (400..<500).contains(code) }
    public var isPermanentFailure: Bool { (500..<600).contains(code) }

    /// The reply as sent on the wire: `250-first\r\n250 last\r\n`, the enhanced code on every line.
    public var wireFormat: String {
        let codeText = String(code)
        var out = ""
        out.reserveCapacity(lines.reduce(0) { $0 + $1.utf8.count + 8 + (enhanced?.utf8.count ?? 0) })
        for index in lines.indices {
            out += codeText
            out += index == lines.count - 1 ? " " : "-"
            if let enhanced {
                out += enhanced
                if !lines[index].isEmpty { out += " " }
            }
            out += lines[index]
            out += "\r\n"
        }
        return out
    }

    /// `550 5.7.25 text`, one line.
    public var description: String {
        [String(code), enhanced, text].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
    }

    /// Splits a leading `class.subject.detail` enhanced code off a reply line (RFC 3463 2),
    /// when its class matches the reply code's first digit.
    public static func splitEnhanced(_ line: String, code: Int) -> (enhanced: String?, text: String) {
        let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
        guard let first = parts.first else { return (nil, line) }
        let components = first.split(separator: ".", omittingEmptySubsequences: false)
        guard components.count == 3,
              components.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let klass = Int(components[0]), klass == code / 100, [2, 4, 5].contains(klass)
        else { return (nil, line) }
        return (String(first), parts.count > 1 ? String(parts[1]) : "")
    }
}

/// Where in an SMTP session a reply came (the `stage` of the scenario format).
public enum SMTPStage: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    case connect
    case greeting
    case helo
    case mail
    case rcpt
    /// The reply to DATA itself or to the final dot.
    case data

    public var description: String { rawValue }
}
