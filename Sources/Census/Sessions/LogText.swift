import DNSCore

/// Small readers for pieces Postfix and Exim lines share.
enum LogText {
    /// `name[addr]` (Postfix's client form; `name[addr]:port` with smtpd_client_port_logging) right
    /// after `marker` in `text`.
    static func client(after marker: String, in text: Substring) -> (name: String, address: IPAddress)? {
        guard let range = text.range(of: marker) else { return nil }
        return client(text[range.upperBound...])
    }

    /// `name[addr]` at the start of `text`.
    static func client(_ text: Substring) -> (name: String, address: IPAddress)? {
        guard let open = text.firstIndex(of: "["), let close = text[open...].firstIndex(of: "]") else { return nil }
        let name = text[text.startIndex..<open]
        guard !name.contains(" ") else { return nil }
        var inside = text[text.index(after: open)..<close]
        if inside.lowercased().hasPrefix("ipv6:") { inside = inside.dropFirst(5) }
        guard let address = IPAddress(inside) else { return nil }
        return (String(name), unmapped(address))
    }

    /// `::ffff:192.0.2.1` as the IPv4 address it carries.
    static func unmapped(_ address: IPAddress) -> IPAddress {
        guard address.family == .ipv6 else { return address }
        let bytes = address.bytes
        guard bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF else { return address }
        return IPAddress(bytes: Array(bytes[12..<16])) ?? address
    }

    /// The value in angle brackets after `key` (`from=<a@b>`, `helo=<mx.test>`).
    static func angle(_ key: String, in text: Substring) -> String? {
        guard let range = text.range(of: key + "<") else { return nil }
        let rest = text[range.upperBound...]
        guard let close = rest.firstIndex(of: ">") else { return nil }
        return String(rest[..<close])
    }

    /// `value` of `key=value` ending at `terminator` or a space.
    static func value(_ key: String, in text: Substring, until terminator: Character = ";") -> Substring? {
        var search = text[...]
        while let range = search.range(of: key + "=") {
            // A key at the start or after a space or `;`.
            if range.lowerBound == text.startIndex
                || [" ", ";", ","].contains(text[text.index(before: range.lowerBound)])
            {
                let rest = text[range.upperBound...]
                return rest.prefix { $0 != terminator && $0 != " " }
            }
            search = text[range.upperBound...]
        }
        return nil
    }

    /// The domain of an address (`a@b.test` → `b.test`), lower case; nil for the null sender or no `@`.
    static func domain(of address: String) -> String? {
        guard let at = address.lastIndex(of: "@") else { return nil }
        let domain = address[address.index(after: at)...]
        guard !domain.isEmpty else { return nil }
        return DNSName.normalize(domain)
    }

    /// A HELO name as a key: lower case, no trailing dot.
    static func normalizedHELO(_ helo: String) -> String {
        helo.hasPrefix("[") ? helo.lowercased() : DNSName.normalize(helo)
    }
}
