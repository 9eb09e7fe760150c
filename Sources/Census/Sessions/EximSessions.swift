import DNSCore

/// Reads a receiving Exim's main log: arrivals (`ID <= sender H=name (helo) [addr]`), ACL rejects
/// and warnings (`H=... [addr] F=<s> rejected RCPT <r>: text`), connections (`SMTP connection
/// from ...`, with `log_selector = +smtp_connection`) and the host lookup's failures
/// (`no host name found for IP address A`, `no IP address found for host N (during SMTP
/// connection from [A])`, logged by default: `host_lookup_failed`).
///
/// Exim names a client `H=name` only when its reverse name is verified, and `H=(helo)` otherwise.
/// Sessions are counted from connection lines when the log has them, else from process ids
/// (`+pid`), else as arrivals plus rejections (a lower bound of nothing better).
struct EximSessions {
    private(set) var evidence: [IPAddress: AddressEvidence] = [:]
    private var connections: [IPAddress: Int] = [:]
    private var pids: [IPAddress: Set<Int>] = [:]
    private var events: [IPAddress: Int] = [:]
    private var messageIDs: Set<String> = []
    private var hasConnectionLines = false
    private var hasPids = false
    private var namedHosts = 0
    private var lookupFailures = 0
    var records = 0

    static func isExim(_ record: LogRecord) -> Bool {
        record.framing == .eximMain || record.program == "exim" || record.program == "exim4"
    }

    /// Exim's message id: `1rgABC-000123-Ab` (before 4.97) or `1rgABC-00000001XYZ-ABCD`.
    static func messageID(_ word: Substring) -> Bool {
        let parts = word.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 6, (6...11).contains(parts[1].count), (2...4).contains(parts[2].count)
        else { return false }
        return parts.allSatisfy { $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } }
    }

    mutating func take(_ record: LogRecord) {
        records += 1
        var message = record.message
        // Exim's syslog lines keep its own timestamp (syslog_timestamp, true by default).
        if record.framing != .eximMain, case .record(let inner)? = LineFraming.eximMain(message, at: record.position) {
            message = inner.message
        }
        var id: Substring?
        if let space = message.firstIndex(of: " "), Self.messageID(message[..<space]) {
            id = message[..<space]
            message = message[message.index(after: space)...]
        }
        if record.pid != nil { hasPids = true }
        if message.hasPrefix("no host name found for IP address ") {
            lookupFailures += 1
            let text = message.dropFirst("no host name found for IP address ".count).prefix { $0 != " " }
            guard let address = IPAddress(text).map(LogText.unmapped) else { return }
            update(address, at: record.position) { $0.ptrMissing = true }
            return
        }
        if message.hasPrefix("no IP address found for host ") {
            lookupFailures += 1
            let name = message.dropFirst("no IP address found for host ".count).prefix { $0 != " " }
            guard let address = LogText.bracketed(message) else { return }
            update(address, at: record.position) {
                $0.unconfirmedName = $0.unconfirmedName ?? (DNSName.normalize(name), false)
            }
            return
        }
        if message.hasPrefix("SMTP connection from ") {
            hasConnectionLines = true
            let rest = message.dropFirst("SMTP connection from ".count)
            guard let host = Self.host(rest) else { return }
            // The opening line ends with the connection count; closing lines say why it ended.
            if rest.contains("(TCP/IP connection count")
                || !(rest.contains(" closed") || rest.contains(" lost") || rest.contains(" D="))
            {
                connections[host.address, default: 0] += 1
                if let pid = record.pid { pids[host.address, default: []].insert(pid) }
                update(host.address, at: record.position) { _ in }
            }
            return
        }
        // What a client did: an arrival (`ID <= sender H=...`), or an ACL's reject or warning
        // (`[ID ]H=... rejected ...`). Delivery lines (`=>`, `->`, `**`, `==`) name the remote
        // server of an outgoing delivery in their H=, not a client.
        guard message.hasPrefix("<= ") || message.hasPrefix("H=") else { return }
        guard let hRange = message.range(of: "H=") else { return }
        guard let host = Self.host(message[hRange.upperBound...]) else { return }
        if let pid = record.pid { pids[host.address, default: []].insert(pid) }
        let arrival = message.hasPrefix("<= ")
        let newMessage = arrival && id.map { messageIDs.insert(String($0)).inserted } == true
        let rejected = !arrival && message.contains(" rejected ")
        if rejected { events[host.address, default: 0] += 1 }
        update(host.address, at: record.position) { entry in
            if let helo = host.helo, !helo.isEmpty { entry.helos[helo, default: 0] += 1 }
            if let name = host.name {
                entry.confirmedNames[DNSName.normalize(name), default: 0] += 1
            } else {
                entry.unknownSessions += 1
            }
            if newMessage {
                let sender = message.dropFirst(3).prefix { $0 != " " }
                entry.messages += 1
                entry.senders[sender == "<>" ? "" : String(sender), default: 0] += 1
            } else if !arrival, let sender = LogText.angle("F=", in: message), entry.senders[sender] == nil {
                entry.senders[sender] = 0
            }
            if rejected, let range = message.range(of: " rejected ") {
                let what = message[range.upperBound...]
                let text = what.range(of: ": ").map { what[$0.upperBound...] } ?? what
                entry.rejections[String(text), default: 0] += 1
                if let zone = Self.dnsblZone(text) { entry.dnsbl.insert(zone) }
            }
        }
        if host.name != nil { namedHosts += 1 }
    }

    /// `... is in a black list at zen.spamhaus.org` (Exim's default dnslists message) or
    /// `... blocked using ZONE`.
    static func dnsblZone(_ text: Substring) -> String? {
        for marker in [" black list at ", "blocked using "] {
            if let range = text.range(of: marker) {
                let zone = text[range.upperBound...].prefix { $0 != " " && $0 != ";" && $0 != "," }
                if !zone.isEmpty { return DNSName.normalize(zone) }
            }
        }
        return nil
    }

    /// `name (helo) [addr]:port`, `name [addr]`, `(helo) [addr]`, `[addr]` (what follows `H=`).
    static func host(_ text: Substring) -> (name: String?, helo: String?, address: IPAddress)? {
        var rest = text
        var name: Substring?
        var helo: Substring?
        if rest.first != "(" && rest.first != "[" {
            let word = rest.prefix { $0 != " " }
            name = word
            rest = rest.dropFirst(word.count).drop { $0 == " " }
        }
        if rest.first == "(" {
            guard let close = rest.firstIndex(of: ")") else { return nil }
            helo = rest[rest.index(after: rest.startIndex)..<close]
            rest = rest[rest.index(after: close)...].drop { $0 == " " }
        }
        guard rest.first == "[", let close = rest.firstIndex(of: "]"),
            let address = IPAddress(rest[rest.index(after: rest.startIndex)..<close])
        else {
            return nil
        }
        // `H=name [addr]`: Exim leaves the HELO out when it is the verified name.
        return (name.map(String.init), (helo ?? name).map(String.init), LogText.unmapped(address))
    }

    private mutating func update(
        _ address: IPAddress, at position: LogPosition, _ change: (inout AddressEvidence) -> Void
    ) {
        var entry = evidence[address] ?? AddressEvidence(address: address)
        if entry.firstSeen == nil { entry.firstSeen = position }
        change(&entry)
        evidence[address] = entry
    }

    /// Sessions per client, and a note on how they were counted.
    mutating func finish() -> [String] {
        var notes: [String] = []
        for (address, var entry) in evidence {
            if address.isLoopback {
                evidence[address] = nil
                continue
            }
            // Names and unknowns were counted per line; the reverse state is what matters, so keep
            // them as they are and count sessions apart.
            if hasConnectionLines {
                entry.sessions = connections[address] ?? 0
            } else if hasPids {
                entry.sessions = pids[address]?.count ?? 0
            } else {
                entry.sessions = entry.messages + (events[address] ?? 0)
            }
            entry.sessions = max(entry.sessions, entry.messages > 0 || !entry.helos.isEmpty ? 1 : 0)
            evidence[address] = entry.sessions > 0 || entry.messages > 0 ? entry : nil
        }
        if !evidence.isEmpty, !hasConnectionLines, !hasPids {
            notes.append(
                "Exim log without `+smtp_connection` or `+pid`: its sessions are counted as arrivals plus rejections")
        }
        if !evidence.isEmpty, namedHosts == 0, lookupFailures == 0 {
            notes.append(
                "the Exim log names no client host and no failed host lookup (host_lookup is off?): its clients' reverse DNS is unknown, taken as missing; --resolver records it"
            )
        }
        return notes
    }
}

extension LogText {
    /// The first `[addr]` in `text` that is an address.
    static func bracketed(_ text: Substring) -> IPAddress? {
        var rest = text
        while let open = rest.firstIndex(of: "[") {
            let after = rest[rest.index(after: open)...]
            guard let close = after.firstIndex(of: "]") else { return nil }
            if let address = IPAddress(after[..<close]) { return unmapped(address) }
            rest = after[after.index(after: close)...]
        }
        return nil
    }
}
