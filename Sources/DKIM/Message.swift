/// A message split into header fields and body, as RFC 6376 needs it: each field kept exactly as
/// received (folding and all, with its CRLF), the body as the bytes after the empty line.
public struct DKIMMessage: Sendable, Hashable {
    public struct Field: Sendable, Hashable {
        /// The field name as written (before the colon, trailing whitespace removed).
        public var name: String
        /// The whole field, name through the CRLF ending its last line.
        public var raw: [UInt8]

        /// The text after the colon, CRLF of the last line removed.
        public var value: [UInt8] {
            guard let colon = raw.firstIndex(of: UInt8(ascii: ":")) else { return [] }
            var end = raw.endIndex
            if raw.count >= 2, raw[end - 2] == 13, raw[end - 1] == 10 { end -= 2 }
            return Array(raw[(colon + 1)..<max(colon + 1, end)])
        }
    }

    public var fields: [Field]
    public var body: [UInt8]

    /// Splits `bytes`. Lines ending in a bare LF are read as ending in CRLF (a message from a file);
    /// a message from SMTP already has CRLF everywhere (RFC 5321 2.3.8).
    public init(_ bytes: [UInt8]) {
        let bytes = Self.crlf(bytes)
        fields = []
        var index = 0
        var current: [UInt8] = []
        var bodyStart = bytes.count
        while index < bytes.count {
            var end = index
            while end < bytes.count, bytes[end] != 10 { end += 1 }
            let lineEnd = min(end + 1, bytes.count)
            let line = bytes[index..<lineEnd]
            if line.first == 13 && line.count <= 2 || line.first == 10 {
                bodyStart = lineEnd
                break
            }
            if let first = line.first, first == 32 || first == 9, !current.isEmpty {
                current += line
            } else {
                if !current.isEmpty { fields.append(Self.field(current)) }
                current = Array(line)
            }
            index = lineEnd
        }
        if !current.isEmpty { fields.append(Self.field(current)) }
        body = bodyStart < bytes.count ? Array(bytes[bodyStart...]) : []
    }

    private static func field(_ raw: [UInt8]) -> Field {
        let nameEnd = raw.firstIndex(of: UInt8(ascii: ":")) ?? raw.endIndex
        var name = Array(raw[..<nameEnd])
        while let last = name.last, last == 32 || last == 9 || last == 13 || last == 10 { name.removeLast() }
        // A line with no colon is no field a signature can name.
        let text = nameEnd == raw.endIndex ? "" : String(decoding: name, as: UTF8.self)
        return Field(name: text, raw: raw)
    }

    /// Every bare LF made CRLF; CRLF left alone.
    static func crlf(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.contains(10) else { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 40)
        var previous: UInt8 = 0
        for byte in bytes {
            if byte == 10 && previous != 13 { out.append(13) }
            out.append(byte)
            previous = byte
        }
        return out
    }

    /// The fields named `name` (case-insensitive), in order.
    public func fields(named name: String) -> [Field] {
        let lower = name.lowercased()
        return fields.filter { $0.name.lowercased() == lower }
    }

    /// The whole message again: fields, empty line, body.
    public var bytes: [UInt8] {
        fields.flatMap(\.raw) + [13, 10] + body
    }
}
