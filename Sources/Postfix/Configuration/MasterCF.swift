/// The master.cf of a private instance, derived from the installed one (master(5)).
public enum MasterCF {
    /// Parameters the harness sets for smtpd alone (`-o`), over main.cf.
    ///
    /// `max_use = 1`: one connection per smtpd process. smtpd keeps DNSBL replies and resolved
    /// addresses in caches that "persist across SMTP sessions" (smtpd_check_init() in
    /// src/smtpd/smtpd_check.c); a reused process could answer a connection from what an earlier
    /// one looked up, in another case's world when an instance serves several cases
    /// (`PostfixSharing`). Set for every instance, shared or not, so that both give the same results.
    public static let smtpdOverrides: [String: String] = ["max_use": "1"]

    /// `stock` with every `inet` service removed and one smtpd on port 25 added (so nothing else
    /// listens: no submission, no smtps, no postscreen), and the chroot column set to `n` in every
    /// entry: a chroot would be the case's queue directory, which has no etc/resolv.conf, so smtpd
    /// could not resolve through the world's unbound.
    /// `options` are further `-o` options of that smtpd (`RenderedPostfixConfiguration.smtpdOptions`).
    public static func render(stock: String, options: [String: String] = [:]) -> String {
        var out = "# Written by mxharness from the installed master.cf: smtpd on port 25 only, no chroot.\n"
        out += "25        inet  n       -       n       -       -       smtpd\n"
        for (name, value) in smtpdOverrides.merging(options, uniquingKeysWith: { harness, _ in harness }).sorted(by: { $0.key < $1.key }) {
            out += "  -o \(name)=\(value)\n"
        }
        var skipping = false
        for rawLine in stock.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(rawLine)
            let trimmed = line.trimmingWhitespace()
            if trimmed.isEmpty || trimmed.hasPrefix("#") {
                if !skipping { out += line + "\n" }
                continue
            }
            if line.first == " " || line.first == "\t" {
                // `-o` options and arguments continue the entry above.
                if !skipping { out += line + "\n" }
                continue
            }
            let fields = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard fields.count >= 8 else {
                skipping = false
                out += line + "\n"
                continue
            }
            if fields[1] == "inet" {
                skipping = true
                continue
            }
            skipping = false
            out += replacingField(4, of: line, with: "n") + "\n"
        }
        return out
    }

    /// `line` with its white-space separated field number `index` replaced, the rest untouched
    /// (arguments may hold `{ ... }` values whose spacing matters).
    static func replacingField(_ index: Int, of line: String, with value: String) -> String {
        var field = -1
        var position = line.startIndex
        while position < line.endIndex {
            while position < line.endIndex, line[position] == " " || line[position] == "\t" { position = line.index(after: position) }
            guard position < line.endIndex else { break }
            var end = position
            while end < line.endIndex, line[end] != " ", line[end] != "\t" { end = line.index(after: end) }
            field += 1
            if field == index {
                return String(line[..<position]) + value + String(line[end...])
            }
            position = end
        }
        return line
    }
}
