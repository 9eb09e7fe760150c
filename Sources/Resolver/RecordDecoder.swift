import DNSCore

/// Decodes the rdata libunbound hands back (wire format, RFC 1035 3.3, without the rdlength).
enum RecordDecoder {
    static func decode(_ type: RecordType, _ bytes: [UInt8]) -> RecordData? {
        switch type {
        case .a:
            return IPAddress(bytes: bytes).flatMap { $0.family == .ipv4 ? .a($0) : nil }
        case .aaaa:
            return IPAddress(bytes: bytes).flatMap { $0.family == .ipv6 ? .aaaa($0) : nil }
        case .ptr:
            return name(bytes, at: 0).map { .ptr($0.name) }
        case .cname:
            return name(bytes, at: 0).map { .cname($0.name) }
        case .ns:
            return name(bytes, at: 0).map { .ns($0.name) }
        case .mx:
            guard bytes.count >= 3, let exchange = name(bytes, at: 2) else { return nil }
            return .mx(preference: UInt16(bytes[0]) << 8 | UInt16(bytes[1]), exchange: exchange.name)
        case .txt:
            var strings: [[UInt8]] = []
            var index = 0
            while index < bytes.count {
                let length = Int(bytes[index])
                guard index + 1 + length <= bytes.count else { return nil }
                strings.append(Array(bytes[(index + 1)..<(index + 1 + length)]))
                index += 1 + length
            }
            return .txt(strings)
        case .soa:
            guard let mname = name(bytes, at: 0), let rname = name(bytes, at: mname.end), rname.end + 20 <= bytes.count
            else { return nil }
            func u32(_ offset: Int) -> UInt32 {
                bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | UInt32($1) }
            }
            let base = rname.end
            return .soa(
                mname: mname.name, rname: rname.name, serial: u32(base), refresh: u32(base + 4), retry: u32(base + 8),
                expire: u32(base + 12), minimum: u32(base + 16))
        case .tlsa:
            guard bytes.count >= 3 else { return nil }
            return .tlsa(usage: bytes[0], selector: bytes[1], matching: bytes[2], data: .bytes(Array(bytes[3...])))
        }
    }

    /// An uncompressed wire-format name starting at `start`, normalized; nil if malformed.
    static func name(_ bytes: [UInt8], at start: Int) -> (name: String, end: Int)? {
        var labels: [String] = []
        var index = start
        while index < bytes.count {
            let length = Int(bytes[index])
            if length == 0 {
                return (labels.isEmpty ? "." : DNSName.normalize(labels.joined(separator: ".")), index + 1)
            }
            guard length < 64, index + 1 + length <= bytes.count else { return nil }
            // Raw characters, as the names mxharness keeps; only a dot inside a label needs escaping.
            let raw = String(decoding: bytes[(index + 1)..<(index + 1 + length)], as: UTF8.self)
            let label = raw.replacingOccurrences(of: ".", with: "\\046")
            labels.append(label)
            index += 1 + length
        }
        return nil
    }
}
