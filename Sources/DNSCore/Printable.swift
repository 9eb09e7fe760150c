/// Text from outside (a client's command, a scenario file's content) made safe to print on a
/// terminal or in a log: control characters (C0, DEL, C1), invisible format characters (zero-width
/// spaces and joiners, soft hyphen, BOM) and bidirectional controls (U+202A-U+202E,
/// U+2066-U+2069, U+200E, U+200F, U+061C) are written as escapes, so nothing can move the cursor,
/// recolour the terminal, hide text or reorder it (CVE-2021-42574, "Trojan Source").
///
/// Postfix prints such bytes as `?` in its logs (`printable()`, util/printable.c); here they are
/// escaped instead, so the log still tells which character came: `\r`, `\n`, `\t`, `\0`,
/// `\x1b` for other C0 bytes and DEL, `\u{202E}` for the others.
public enum Printable {
    /// `text` with every unsafe character escaped; other text unchanged.
    public static func escaped(_ text: some StringProtocol) -> String {
        guard text.unicodeScalars.contains(where: isUnsafe) else { return String(text) }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            if isUnsafe(scalar) {
                out += escape(scalar)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Bytes as text (invalid UTF-8 as U+FFFD), escaped.
    public static func escaped(bytes: some Collection<UInt8>) -> String {
        escaped(String(decoding: Array(bytes), as: UTF8.self))
    }

    /// At most `limit` characters of `text`, escaped, on one line, with `…` when cut: for quoting
    /// content the user may not mean to show in full (a file's content in an error message).
    public static func excerpt(_ text: some StringProtocol, limit: Int = 40) -> String {
        let cut = text.count > limit
        return escaped(cut ? String(text.prefix(limit)) : String(text)) + (cut ? "…" : "")
    }

    /// True for a character that must not reach a terminal as it is.
    public static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1f, 0x7f...0x9f: return true  // C0, DEL, C1
        case 0x00ad, 0x061c, 0x180e: return true  // soft hyphen, Arabic letter mark, Mongolian vowel separator
        case 0x200b...0x200f: return true  // zero-width space/non-joiner/joiner, LRM, RLM
        case 0x2028...0x202e: return true  // line/paragraph separators, LRE RLE PDF LRO RLO
        case 0x2060...0x206f: return true  // word joiner, invisible operators, LRI RLI FSI PDI, deprecated format
        case 0xfeff: return true  // zero-width no-break space (BOM)
        case 0xfff9...0xfffb: return true  // interlinear annotation
        case 0xe0000...0xe007f: return true  // tag characters
        default: return false
        }
    }

    private static func escape(_ scalar: Unicode.Scalar) -> String {
        switch scalar.value {
        case 0x00: return "\\0"
        case 0x09: return "\\t"
        case 0x0a: return "\\n"
        case 0x0d: return "\\r"
        case 0x00...0x7f:
            let hex = String(scalar.value, radix: 16)
            return "\\x" + (hex.count < 2 ? "0" + hex : hex)
        default:
            return "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
        }
    }
}
