import Crypto
import DNSCore
import Foundation

/// `--mask`: addresses and names replaced by stand-ins, the same stand-in for the same input
/// throughout a report, keyed by a secret (`--mask-key`, or one made for the run) so that the
/// originals cannot be found by trying every address. IPv4 addresses become addresses of the
/// documentation networks (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24; past 768 of them, the
/// benchmarking network 198.18.0.0/15), IPv6 addresses addresses of 2001:db8::/32, names
/// `m` + 8 hex digits + `.test`.
public final class Masker: @unchecked Sendable {
    private let key: SymmetricKey
    private let lock = NSLock()
    private var ipv4: [IPAddress: IPAddress] = [:]
    private var usedIPv4: Set<IPAddress> = []

    public init(key: String?) {
        if let key {
            self.key = SymmetricKey(data: SHA256.hash(data: Data(key.utf8)))
        } else {
            self.key = SymmetricKey(size: .bits256)
        }
    }

    private func digest(_ text: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: key))
    }

    public func address(_ address: IPAddress) -> IPAddress {
        if address.family == .ipv6 {
            let hash = digest("6/" + address.description)
            return IPAddress(bytes: [0x20, 0x01, 0x0d, 0xb8] + hash.prefix(12))!
        }
        return lock.withLock {
            if let known = ipv4[address] { return known }
            let hash = digest("4/" + address.description)
            let documentation: [[UInt8]] = [[192, 0, 2], [198, 51, 100], [203, 0, 113]]
            var slot = (Int(hash[0]) << 8 | Int(hash[1])) % 768
            var chosen: IPAddress?
            for _ in 0..<768 {
                let candidate = IPAddress(bytes: documentation[slot / 256] + [UInt8(slot % 256)])!
                if !usedIPv4.contains(candidate) {
                    chosen = candidate
                    break
                }
                slot = (slot + 1) % 768
            }
            if chosen == nil {
                var index = (Int(hash[2]) << 16 | Int(hash[3]) << 8 | Int(hash[4])) % 131_072
                while chosen == nil {
                    let candidate = IPAddress(bytes: [
                        198, UInt8(18 + index / 65_536), UInt8((index / 256) % 256), UInt8(index % 256),
                    ])!
                    if !usedIPv4.contains(candidate) { chosen = candidate }
                    index = (index + 1) % 131_072
                }
            }
            ipv4[address] = chosen!
            usedIPv4.insert(chosen!)
            return chosen!
        }
    }

    /// A host or domain name.
    public func name(_ name: String) -> String {
        let normal = DNSName.normalize(name)
        guard !normal.isEmpty, normal != "<>" else { return name }
        if normal.hasSuffix(".census.test") || normal == "census.test" { return normal }
        let hash = digest("n/" + normal)
        return "m" + hash.prefix(4).map { String(format: "%02x", $0) }.joined() + ".test"
    }

    /// A mail address: its local part and domain, each masked.
    public func mailAddress(_ address: String) -> String {
        guard !address.isEmpty else { return address }
        guard let at = address.lastIndex(of: "@") else { return name(address) }
        let local = String(address[..<at])
        let hash = digest("l/" + local)
        return "u" + hash.prefix(3).map { String(format: "%02x", $0) }.joined() + "@"
            + name(String(address[address.index(after: at)...]))
    }

    /// A HELO: an address literal keeps its form, a name is masked.
    public func helo(_ helo: String) -> String {
        if helo.hasPrefix("[") && helo.hasSuffix("]") {
            var inner = String(helo.dropFirst().dropLast())
            let v6 = inner.lowercased().hasPrefix("ipv6:")
            if v6 { inner = String(inner.dropFirst(5)) }
            if let literal = IPAddress(inner) { return "[" + (v6 ? "IPv6:" : "") + address(literal).description + "]" }
        }
        if let literal = IPAddress(helo) { return address(literal).description }
        return name(helo)
    }

    /// Free text (a reply): every address in it masked, and every name in `names`.
    public func text(_ text: String, names: [String] = []) -> String {
        var out = ""
        var token = ""
        func flush() {
            guard !token.isEmpty else { return }
            let trimmed = token.trimmingCharacters(in: CharacterSet(charactersIn: ".,;"))
            if let address = IPAddress(trimmed), trimmed.contains(".") || trimmed.contains(":") {
                out += token.replacingOccurrences(of: trimmed, with: self.address(address).description)
            } else {
                out += token
            }
            token = ""
        }
        for character in text {
            if character.isHexDigit || character == "." || character == ":" {
                token.append(character)
            } else {
                flush()
                out.append(character)
            }
        }
        flush()
        for original in names.sorted(by: { $0.count > $1.count }) where !original.isEmpty {
            out = out.replacingOccurrences(of: original, with: name(original), options: .caseInsensitive)
        }
        return out
    }

    /// The report with every address, name and sender masked.
    public func mask(_ report: CensusReport) -> CensusReport {
        var report = report
        var names: Set<String> = []
        for group in report.groups {
            for example in group.examples {
                if let helo = example.helo { names.insert(helo) }
                if let sender = example.sender, let at = sender.lastIndex(of: "@") {
                    names.insert(String(sender[sender.index(after: at)...]))
                }
            }
            for domain in group.domains.keys where domain != "<>" { names.insert(domain) }
        }
        let known = Array(names)
        func example(_ example: ClientExample) -> ClientExample {
            var example = example
            example.addresses = example.addresses.map { IPAddress($0).map { self.address($0).description } ?? $0 }
            example.helo = example.helo.map(helo)
            example.sender = example.sender.map(mailAddress)
            return example
        }
        report.groups = report.groups.map { group in
            var group = group
            group.examples = group.examples.map(example)
            group.domains = Dictionary(
                group.domains.map { ($0.key == "<>" ? "<>" : name($0.key), $0.value) },
                uniquingKeysWith: { a, b in
                    Weight(
                        clients: a.clients + b.clients, sessions: a.sessions + b.sessions,
                        messages: a.messages + b.messages)
                })
            group.outcomes = group.outcomes.mapValues { outcome in
                var outcome = outcome
                outcome.reply = text(outcome.reply, names: known)
                outcome.reason = outcome.reason.map { text($0, names: known) }
                return outcome
            }
            return group
        }
        report.policies = report.policies.map { policy in
            var policy = policy
            policy.byReason = policy.byReason?.map { row in
                var row = row
                row.name = text(row.name, names: known)
                row.examples = row.examples?.map(example)
                return row
            }
            policy.byDomain = policy.byDomain?.map { row in
                var row = row
                if row.name != "<>" { row.name = name(row.name) }
                return row
            }
            return policy
        }
        return report
    }
}
