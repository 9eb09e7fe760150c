import DNSCore

/// Small pieces of YAML written by hand, so that a generated scenario can carry comments.
enum YAMLText {
    private static let reserved: Set<String> = ["", "~", "null", "true", "false", "yes", "no", "on", "off", "y", "n"]

    /// `text` as a YAML scalar: plain when that reads back as the same string, double-quoted otherwise.
    static func scalar(_ text: String) -> String {
        if isSafePlain(text) { return text }
        return quoted(text)
    }

    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    out += "\\x" + String(scalar.value, radix: 16).leftPadded(to: 2)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// True for strings YAML reads back unchanged as plain strings: no indicator first, no `: ` or ` #`,
    /// no number, boolean or null look-alike.
    static func isSafePlain(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, !reserved.contains(text.lowercased()) else { return false }
        if "-?:,[]{}#&*!|>'\"%@`".unicodeScalars.contains(first) || first == " " { return false }
        if text.hasSuffix(" ") || text.hasSuffix(":") { return false }
        if text.contains(": ") || text.contains(" #") || text.contains("\t") || text.contains("\n") { return false }
        // Flow indicators end a plain scalar inside `[...]` and `{...}` (YAML 1.2 7.3.3, ns-plain-safe-in), where
        // the writer puts recipients; a redacted address such as `a[...]r@example.test` is quoted.
        if text.contains(where: { "[]{},".contains($0) }) { return false }
        if text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value > 0x7e }) { return false }
        // Anything that could read as a number (also 1_000, 0x1f, 1e3, 12:30 sexagesimal in YAML 1.1).
        if text.allSatisfy({ $0.isNumber || ".-+_:eExXoO".contains($0) }) { return false }
        if text.contains(":") { return false }
        return true
    }

    /// True for a line of several words that YAML reads back unchanged as a plain string.
    static func isSafePlainLine(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, text.contains(" ") else { return false }
        if "-?:,[]{}#&*!|>'\"%@`".unicodeScalars.contains(first) || first == " " { return false }
        if text.hasSuffix(" ") || text.hasSuffix(":") || text.contains(": ") || text.contains(" #") { return false }
        return !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value > 0x7e })
    }

    /// A zone-file line for `dns.records`: `owner. TYPE rdata` (PTR owners as the address).
    static func record(_ record: ResourceRecord) -> String {
        let owner: String
        if record.type == .ptr, let address = IPAddress(reverseName: record.owner) {
            owner = address.description
        } else {
            owner = DNSName.presentation(record.owner)
        }
        let line = "\(owner) \(record.type) \(record.data)"
        return isSafePlainLine(line) ? line : singleQuoted(line)
    }

    static func singleQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }

    /// Comment lines: each line of `text` behind `# ` at `indent`.
    static func comment(_ text: String, indent: Int) -> [String] {
        let pad = String(repeating: " ", count: indent)
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { pad + "# " + $0 }
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
