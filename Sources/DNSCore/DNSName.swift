/// Helpers for domain names, which mxharness keeps as lower-case strings without the trailing dot.
public enum DNSName {
    /// Lower-cases and strips one trailing dot: `Mail.Sender.TEST.` becomes `mail.sender.test`.
    public static func normalize(_ name: some StringProtocol) -> String {
        var text = name.lowercased()
        if text.hasSuffix("."), text.count > 1 { text.removeLast() }
        return text
    }

    /// The fully qualified form with its trailing dot, as zone files and unbound want it.
    public static func absolute(_ name: some StringProtocol) -> String {
        let normal = normalize(name)
        return normal == "." ? "." : normal + "."
    }

    /// The name in zone-file presentation form with its trailing dot (RFC 1035 5.1): bytes outside
    /// printable ASCII, and characters a zone file or unbound.conf would read specially, as `\DDD`.
    public static func presentation(_ name: some StringProtocol) -> String {
        let absolute = absolute(name)
        if absolute == "." { return absolute }
        var out = ""
        for byte in absolute.utf8 {
            switch byte {
            case 0x21...0x7e where !"\"'();@$\\ ".utf8.contains(byte):
                out.append(Character(Unicode.Scalar(byte)))
            default:
                let digits = String(byte)
                out += "\\" + String(repeating: "0", count: 3 - digits.count) + digits
            }
        }
        return out
    }

    /// True when `name` equals `zone` or lies below it.
    public static func isSubdomain(_ name: some StringProtocol, of zone: some StringProtocol) -> Bool {
        let n = normalize(name), z = normalize(zone)
        return n == z || n.hasSuffix("." + z) || z == "."
    }

    /// RFC 1035 2.3.1 / RFC 1123 2.1 host name syntax: letters, digits and hyphens in labels of
    /// 1 to 63 characters, no label starting or ending with a hyphen, 253 characters at most.
    public static func isValidHostname(_ name: some StringProtocol) -> Bool {
        let normal = normalize(name)
        guard !normal.isEmpty, normal.utf8.count <= 253 else { return false }
        for label in normal.split(separator: ".", omittingEmptySubsequences: false) {
            guard (1...63).contains(label.utf8.count) else { return false }
            guard label.first != "-", label.last != "-" else { return false }
            guard
                label.utf8.allSatisfy({ byte in
                    (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2d || byte == 0x5f
                })
            else { return false }
        }
        return true
    }
}
