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

    /// An smtpd service on port 25: `25` (every address of inet_interfaces) or `ADDRESS:25`, with
    /// `-o` options of its own.
    public struct Service: Sendable, Hashable {
        public var name: String
        public var options: [String: String]

        public init(name: String, options: [String: String] = [:]) {
            self.name = name
            self.options = options
        }
    }

    /// `stock` with every `inet` service removed and one smtpd on port 25 added (so nothing else
    /// listens: no submission, no smtps, no postscreen), and the chroot column set to `n` in every
    /// entry: a chroot would be the case's queue directory, which has no etc/resolv.conf, so smtpd
    /// could not resolve through the world's unbound.
    /// `options` are further `-o` options of that smtpd (`RenderedPostfixConfiguration.smtpdOptions`).
    /// `services`: several port-25 smtpd services in its place (one per address, `PostfixTLS`),
    /// each with `options` and its own.
    public static func render(
        stock: String, options: [String: String] = [:], services: [Service] = [Service(name: "25")]
    ) -> String {
        var out = "# Written by mxharness from the installed master.cf: smtpd on port 25 only, no chroot.\n"
        for service in services {
            out +=
                service.name + String(repeating: " ", count: max(1, 10 - service.name.count))
                + "inet  n       -       n       -       -       smtpd\n"
            let all = options.merging(service.options) { $1 }.merging(smtpdOverrides) { _, harness in harness }
            for (name, value) in all.sorted(by: { $0.key < $1.key }) {
                out += "  -o \(name)=\(value)\n"
            }
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
            while position < line.endIndex, line[position] == " " || line[position] == "\t" {
                position = line.index(after: position)
            }
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
