/// A zone-file line that could not be read, with the column (1-based) where the problem starts.
public struct ZoneSyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public var column: Int

    public init(_ message: String, column: Int) {
        self.message = message
        self.column = column
    }

    public var description: String { message }
}

/// Reads the scenario format's record lines: `OWNER [TTL] [IN] TYPE RDATA` (RFC 1035 5.1 presentation
/// format, one record per line, no `$ORIGIN`, names fully qualified with the trailing dot optional).
/// A PTR owner may be an IP address, meaning its reverse name.
public enum ZoneLine {
    public static let defaultTTL: UInt32 = 300

    public static func parse(_ line: String) throws(ZoneSyntaxError) -> ResourceRecord {
        var tokens = try tokenize(line)
        guard let ownerToken = tokens.first else { throw ZoneSyntaxError("empty record line", column: 1) }
        tokens.removeFirst()
        var ttl = defaultTTL
        if let first = tokens.first, !first.quoted, let value = parseTTL(first.text) {
            ttl = value
            tokens.removeFirst()
        }
        if let first = tokens.first, !first.quoted, first.text.uppercased() == "IN" {
            tokens.removeFirst()
            // `OWNER IN TTL TYPE` is legal too.
            if let next = tokens.first, !next.quoted, let value = parseTTL(next.text) {
                ttl = value
                tokens.removeFirst()
            }
        } else if let first = tokens.first, ["CH", "HS", "CS"].contains(first.text.uppercased()) {
            throw ZoneSyntaxError("class \(first.text) is not supported: only IN", column: first.column)
        }
        guard let typeToken = tokens.first else {
            throw ZoneSyntaxError(
                "missing record type after \(ownerToken.text) (expected A, AAAA, PTR, MX, TXT, CNAME, NS, SOA or TLSA)",
                column: line.count + 1)
        }
        tokens.removeFirst()
        guard let type = RecordType(rawValue: typeToken.text.uppercased()) else {
            throw ZoneSyntaxError(
                "unknown record type \"\(typeToken.text)\" (expected A, AAAA, PTR, MX, TXT, CNAME, NS, SOA or TLSA)",
                column: typeToken.column)
        }
        let owner = try parseOwner(ownerToken, type: type)
        let data = try parseData(type, tokens, endColumn: line.count + 1)
        return ResourceRecord(owner: owner, ttl: ttl, data: data)
    }

    struct Token {
        var text: String
        var bytes: [UInt8]
        var quoted: Bool
        var column: Int
    }

    static func tokenize(_ line: String) throws(ZoneSyntaxError) -> [Token] {
        let chars = Array(line.utf8)
        var tokens: [Token] = []
        var index = 0
        while index < chars.count {
            let byte = chars[index]
            if byte == 0x20 || byte == 0x09 {
                index += 1
                continue
            }
            if byte == 0x3b { break }  // `;` starts a comment
            let start = index
            var bytes: [UInt8] = []
            let quoted = byte == 0x22
            if quoted { index += 1 }
            var closed = !quoted
            while index < chars.count {
                let c = chars[index]
                if quoted && c == 0x22 {
                    closed = true
                    index += 1
                    break
                }
                if !quoted && (c == 0x20 || c == 0x09 || c == 0x3b) { break }
                if !quoted && c == 0x22 {
                    throw ZoneSyntaxError("quote inside an unquoted word", column: index + 1)
                }
                if c == 0x5c {
                    // RFC 1035 5.1: \X is X, \DDD is the byte with decimal value DDD.
                    guard index + 1 < chars.count else {
                        throw ZoneSyntaxError("line ends with a lone backslash", column: index + 1)
                    }
                    let next = chars[index + 1]
                    if (0x30...0x39).contains(next) {
                        guard index + 3 < chars.count,
                            chars[(index + 1)...(index + 3)].allSatisfy({ (0x30...0x39).contains($0) }),
                            let value = UInt8(String(decoding: chars[(index + 1)...(index + 3)], as: UTF8.self))
                        else {
                            throw ZoneSyntaxError(
                                "bad escape: \\DDD needs three digits from 000 to 255", column: index + 1)
                        }
                        bytes.append(value)
                        index += 4
                    } else {
                        bytes.append(next)
                        index += 2
                    }
                    continue
                }
                bytes.append(c)
                index += 1
            }
            guard closed else { throw ZoneSyntaxError("unterminated quoted string", column: start + 1) }
            tokens.append(
                Token(text: String(decoding: bytes, as: UTF8.self), bytes: bytes, quoted: quoted, column: start + 1))
        }
        return tokens
    }

    /// A TTL in seconds, or with BIND's units (`1h30m`, `2d`).
    static func parseTTL(_ text: String) -> UInt32? {
        if let value = UInt32(text) { return value }
        var total: UInt64 = 0
        var number: UInt64? = nil
        for char in text.lowercased() {
            if let digit = char.wholeNumberValue {
                number = (number ?? 0) * 10 + UInt64(digit)
                guard number! < UInt64(UInt32.max) else { return nil }
            } else {
                let unit: UInt64
                switch char {
                case "s": unit = 1
                case "m": unit = 60
                case "h": unit = 3600
                case "d": unit = 86400
                case "w": unit = 604800
                default: return nil
                }
                guard let value = number else { return nil }
                total += value * unit
                number = nil
            }
        }
        guard number == nil, total > 0, total <= UInt64(UInt32.max) else { return nil }
        return UInt32(total)
    }

    static func parseOwner(_ token: Token, type: RecordType) throws(ZoneSyntaxError) -> String {
        if let address = IPAddress(token.text) {
            guard type == .ptr else {
                throw ZoneSyntaxError(
                    "an address as owner (\(token.text)) is allowed only for PTR records", column: token.column)
            }
            return address.reverseName
        }
        return try parseName(token, what: "owner")
    }

    static func parseName(_ token: Token, what: String) throws(ZoneSyntaxError) -> String {
        let text = token.text
        guard !token.quoted, !text.isEmpty else {
            throw ZoneSyntaxError("\(what) must be a domain name", column: token.column)
        }
        if text == "." { return "." }
        let normal = DNSName.normalize(text)
        guard !normal.contains(".."), !normal.hasPrefix("."),
            normal.split(separator: ".").allSatisfy({ (1...63).contains($0.utf8.count) }),
            normal.utf8.count <= 253,
            normal.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f })
        else { throw ZoneSyntaxError("\(what) \"\(text)\" is not a valid domain name", column: token.column) }
        return normal
    }

    static func parseData(_ type: RecordType, _ tokens: [Token], endColumn: Int) throws(ZoneSyntaxError) -> RecordData {
        func expect(_ count: Int, _ shape: String) throws(ZoneSyntaxError) {
            guard tokens.count == count else {
                let column = tokens.count > count ? tokens[count].column : endColumn
                throw ZoneSyntaxError("\(type) expects \(shape), found \(tokens.count) field(s)", column: column)
            }
        }
        switch type {
        case .a, .aaaa:
            try expect(1, "one address")
            guard let address = IPAddress(tokens[0].text), address.family == (type == .a ? .ipv4 : .ipv6) else {
                throw ZoneSyntaxError(
                    "\"\(tokens[0].text)\" is not an \(type == .a ? "IPv4" : "IPv6") address", column: tokens[0].column)
            }
            return type == .a ? .a(address) : .aaaa(address)
        case .ptr, .cname, .ns:
            try expect(1, "one domain name")
            let name = try parseName(tokens[0], what: "target")
            return type == .ptr ? .ptr(name) : type == .cname ? .cname(name) : .ns(name)
        case .mx:
            try expect(2, "a preference and an exchange (MX 10 mx.example.test.)")
            guard let preference = UInt16(tokens[0].text) else {
                throw ZoneSyntaxError(
                    "MX preference \"\(tokens[0].text)\" is not a number from 0 to 65535", column: tokens[0].column)
            }
            return .mx(preference: preference, exchange: try parseName(tokens[1], what: "MX exchange"))
        case .txt:
            guard !tokens.isEmpty else {
                throw ZoneSyntaxError("TXT expects one or more quoted strings", column: endColumn)
            }
            for token in tokens where token.bytes.count > 255 {
                throw ZoneSyntaxError(
                    "a TXT character-string holds at most 255 bytes (this one has \(token.bytes.count)); split it into several quoted strings",
                    column: token.column)
            }
            return .txt(tokens.map(\.bytes))
        case .soa:
            try expect(7, "MNAME RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM")
            var numbers: [UInt32] = []
            for token in tokens[2...] {
                guard let value = UInt32(token.text) ?? parseTTL(token.text) else {
                    throw ZoneSyntaxError("SOA field \"\(token.text)\" is not a number", column: token.column)
                }
                numbers.append(value)
            }
            return .soa(
                mname: try parseName(tokens[0], what: "SOA MNAME"), rname: try parseName(tokens[1], what: "SOA RNAME"),
                serial: numbers[0], refresh: numbers[1], retry: numbers[2], expire: numbers[3], minimum: numbers[4])
        case .tlsa:
            return try parseTLSA(tokens, endColumn: endColumn)
        }
    }

    /// `USAGE SELECTOR MATCHING DATA` (RFC 6698 2.2): the data in hex (which may be split into
    /// several words), or `receiver-key` / `receiver-cert` for the receiver's certificate,
    /// `authority-key` / `authority-cert` for its issuer's.
    static func parseTLSA(_ tokens: [Token], endColumn: Int) throws(ZoneSyntaxError) -> RecordData {
        guard tokens.count >= 4 else {
            let shape = "USAGE SELECTOR MATCHING DATA (TLSA 3 1 1 receiver-key)"
            throw ZoneSyntaxError("TLSA expects \(shape), found \(tokens.count) field(s)", column: endColumn)
        }
        var fields: [UInt8] = []
        for (token, what) in zip(tokens.prefix(3), ["certificate usage", "selector", "matching type"]) {
            guard !token.quoted, let value = UInt8(token.text) else {
                throw ZoneSyntaxError(
                    "TLSA \(what) \"\(token.text)\" is not a number from 0 to 255", column: token.column)
            }
            fields.append(value)
        }
        let rest = tokens.dropFirst(3)
        let data: TLSAData
        switch rest.first!.text.lowercased() {
        case "receiver-key" where rest.count == 1: data = .receiverKey
        case "receiver-cert" where rest.count == 1: data = .receiverCert
        case "authority-key" where rest.count == 1: data = .authorityKey
        case "authority-cert" where rest.count == 1: data = .authorityCert
        default:
            var bytes: [UInt8] = []
            for token in rest {
                let digits = Array(token.text.utf8)
                guard !token.quoted, digits.count.isMultiple(of: 2),
                    digits.allSatisfy({ (0x30...0x39).contains($0) || (0x41...0x46).contains($0 & 0xdf) })
                else {
                    throw ZoneSyntaxError(
                        "TLSA data \"\(token.text)\" is neither hex (an even number of 0-9, a-f) nor receiver-key, receiver-cert, authority-key or authority-cert",
                        column: token.column)
                }
                var index = 0
                while index < digits.count {
                    bytes.append(UInt8(String(decoding: digits[index...(index + 1)], as: UTF8.self), radix: 16)!)
                    index += 2
                }
            }
            data = .bytes(bytes)
        }
        return .tlsa(usage: fields[0], selector: fields[1], matching: fields[2], data: data)
    }
}
