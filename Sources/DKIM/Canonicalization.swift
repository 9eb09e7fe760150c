/// RFC 6376 3.4: the two canonicalisation algorithms, for header fields and for the body.
public enum Canonicalization: String, Sendable, Hashable, Codable, CaseIterable {
    case simple
    case relaxed

    /// RFC 6376 3.4.1 / 3.4.2: one header field, CRLF included.
    public func header(_ field: DKIMMessage.Field) -> [UInt8] {
        switch self {
        case .simple:
            return field.raw
        case .relaxed:
            // Name lowercased, unfolded, whitespace runs made one SP, whitespace at the ends of
            // the value and around the colon removed.
            var out = Array(field.name.lowercased().utf8)
            out.append(UInt8(ascii: ":"))
            var pendingSpace = false
            var started = false
            for byte in field.value where byte != 13 && byte != 10 {
                if byte == 32 || byte == 9 {
                    pendingSpace = true
                    continue
                }
                if pendingSpace, started { out.append(32) }
                pendingSpace = false
                started = true
                out.append(byte)
            }
            out += [13, 10]
            return out
        }
    }

    /// RFC 6376 3.4.3 / 3.4.4: the body (CRLF line endings expected).
    public func body(_ body: [UInt8]) -> [UInt8] {
        switch self {
        case .simple:
            // Trailing empty lines removed; an empty body is one CRLF.
            var out = body
            if out.isEmpty { return [13, 10] }
            if !(out.count >= 2 && out[out.count - 2] == 13 && out[out.count - 1] == 10) { out += [13, 10] }
            while out.count >= 4, out[(out.count - 4)...].elementsEqual([13, 10, 13, 10]) { out.removeLast(2) }
            return out
        case .relaxed:
            var lines: [[UInt8]] = []
            var line: [UInt8] = []
            var pendingSpace = false
            var index = 0
            while index < body.count {
                let byte = body[index]
                if byte == 13, index + 1 < body.count, body[index + 1] == 10 {
                    lines.append(line)
                    line = []
                    pendingSpace = false
                    index += 2
                    continue
                }
                if byte == 32 || byte == 9 {
                    pendingSpace = true
                } else {
                    if pendingSpace { line.append(32) }
                    pendingSpace = false
                    line.append(byte)
                }
                index += 1
            }
            if !line.isEmpty { lines.append(line) }
            while let last = lines.last, last.isEmpty { lines.removeLast() }
            // RFC 6376 errata 1384: an empty body canonicalises to nothing under relaxed.
            var out: [UInt8] = []
            for line in lines { out += line; out += [13, 10] }
            return out
        }
    }
}

/// The `c=` tag: header/body algorithms, `simple/simple` when absent, body `simple` when only one is given.
public struct CanonicalizationPair: Sendable, Hashable, CustomStringConvertible {
    public var header: Canonicalization
    public var body: Canonicalization

    public init(header: Canonicalization = .simple, body: Canonicalization = .simple) {
        self.header = header
        self.body = body
    }

    public init?(tag: String) {
        let parts = tag.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2,
            let header = Canonicalization(rawValue: String(parts[0]))
        else { return nil }
        let body = parts.count == 2 ? Canonicalization(rawValue: String(parts[1])) : .simple
        guard let body else { return nil }
        self.init(header: header, body: body)
    }

    public var description: String { "\(header.rawValue)/\(body.rawValue)" }
}
