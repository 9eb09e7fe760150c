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
        String(unsafeUninitializedCapacity: wireLength) { writeWire(into: UnsafeMutableRawBufferPointer($0)) }
    }

    /// How many bytes `wireFormat` has.
    public var wireLength: Int {
        let prefix = Self.codeLength(code) + 1 + (enhanced.map { $0.utf8.count } ?? 0)
        return lines.reduce(0) { total, line in
            total + prefix + (enhanced != nil && !line.isEmpty ? 1 : 0) + line.utf8.count + 2
        }
    }

    /// Writes `wireFormat` into `out` (at least `wireLength` bytes) and returns how many bytes it
    /// wrote: a server can put a reply straight into its output buffer, without the String.
    public func writeWire(into out: UnsafeMutableRawBufferPointer) -> Int {
        var codeText = String(code)
        let enhanced = self.enhanced
        var at = 0
        func put(_ text: inout String) {
            at += text.withUTF8 { bytes in
                UnsafeMutableRawBufferPointer(rebasing: out[at...]).copyBytes(from: bytes)
                return bytes.count
            }
        }
        for index in lines.indices {
            put(&codeText)
            out[at] = index == lines.count - 1 ? UInt8(ascii: " ") : UInt8(ascii: "-")
            at += 1
            if var code = enhanced {
                put(&code)
                if !lines[index].isEmpty {
                    out[at] = UInt8(ascii: " ")
                    at += 1
                }
            }
            var line = lines[index]
            put(&line)
            out[at] = 0x0d
            out[at + 1] = 0x0a
            at += 2
        }
        return at
    }

    private static func codeLength(_ code: Int) -> Int {
        (100...999).contains(code) ? 3 : String(code).utf8.count
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
            components.allSatisfy({
                !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber)
            }),
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
