import DNSCore

/// Domain names in DNS wire form, and their canonical order (RFC 4034 6.1).
///
/// Names come as mxharness keeps them (`DNSName.normalize`: lower case, no trailing dot), where
/// a label may hold `\DDD` or `\X` escapes (a dot inside a label is `\046`).
public enum WireName {
    /// The labels of `name`, left to right, lower-cased (RFC 4034 6.2); none for the root.
    public static func labels(_ name: String) -> [[UInt8]] {
        let normal = DNSName.normalize(name)
        if normal == "." || normal.isEmpty { return [] }
        var labels: [[UInt8]] = []
        var label: [UInt8] = []
        let bytes = Array(normal.utf8)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: ".") {
                labels.append(label)
                label = []
                index += 1
                continue
            }
            if byte == UInt8(ascii: "\\"), index + 1 < bytes.count {
                let digits = bytes[(index + 1)..<min(index + 4, bytes.count)]
                if digits.count == 3, digits.allSatisfy({ (0x30...0x39).contains($0) }),
                    let value = UInt8(String(decoding: digits, as: UTF8.self))
                {
                    label.append(lowered(value))
                    index += 4
                } else {
                    label.append(lowered(bytes[index + 1]))
                    index += 2
                }
                continue
            }
            label.append(lowered(byte))
            index += 1
        }
        labels.append(label)
        return labels
    }

    /// The canonical wire form of `name` (RFC 4034 6.2: uncompressed, lower case).
    public static func wire(_ name: String) -> [UInt8] {
        var out: [UInt8] = []
        for label in labels(name) {
            out.append(UInt8(label.count))
            out += label
        }
        out.append(0)
        return out
    }

    /// The RRSIG `Labels` field (RFC 4034 3.1.3): the owner's labels, not counting the root or a
    /// leading wildcard label.
    public static func signatureLabelCount(_ name: String) -> UInt8 {
        let all = labels(name)
        let count = all.first == [UInt8(ascii: "*")] ? all.count - 1 : all.count
        return UInt8(clamping: count)
    }

    /// True when `lhs` sorts before `rhs` in canonical DNS name order (RFC 4034 6.1): label by
    /// label from the right, each label as lower-case bytes, a name before the names below it.
    public static func precedes(_ lhs: String, _ rhs: String) -> Bool {
        compare(labels(lhs), labels(rhs)) < 0
    }

    /// `names` in canonical order, each name's labels read once.
    public static func sortedCanonically(_ names: some Sequence<String>) -> [String] {
        names.map { ($0, labels($0)) }.sorted { compare($0.1, $1.1) < 0 }.map(\.0)
    }

    static func compare(_ lhs: [[UInt8]], _ rhs: [[UInt8]]) -> Int {
        var left = lhs.count - 1
        var right = rhs.count - 1
        while left >= 0 && right >= 0 {
            let a = lhs[left]
            let b = rhs[right]
            if a != b { return a.lexicographicallyPrecedes(b) ? -1 : 1 }
            left -= 1
            right -= 1
        }
        return lhs.count == rhs.count ? 0 : (lhs.count < rhs.count ? -1 : 1)
    }

    private static func lowered(_ byte: UInt8) -> UInt8 {
        (0x41...0x5a).contains(byte) ? byte + 0x20 : byte
    }
}
