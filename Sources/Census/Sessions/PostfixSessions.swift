import DNSCore
import SPF

/// Reads a receiving Postfix's log: smtpd sessions (a process's lines from `connect from` to
/// `disconnect from`), the messages they queued (`QUEUEID: client=`), the queue manager's envelope
/// sender (`QUEUEID: from=<s>, size=...`), smtpd's warnings about the client's reverse name
/// (smtpd_peer.c), reject and `warn_if_reject` lines (smtpd_check.c `log_whatsup`) and SPF results
/// a policy service logged.
struct PostfixSessions {
    struct SessionKey: Hashable {
        var host: String
        var program: String
        var pid: Int
    }

    struct QueueKey: Hashable {
        var host: String
        var id: String
    }

    struct Session {
        var address: IPAddress
        var confirmedName: String?
        var authenticated = false
        var helos: Set<String> = []
    }

    private(set) var evidence: [IPAddress: AddressEvidence] = [:]
    private var open: [SessionKey: Session] = [:]
    private var queueClient: [QueueKey: IPAddress] = [:]
    private var queueAuthenticated: Set<QueueKey> = []
    private var queueSender: [QueueKey: String] = [:]
    var authenticatedSessions = 0
    var loopbackSessions = 0
    var records = 0

    /// Whether a record is Postfix's (any `postfix*/...` program, and SPF policy services).
    static func isPostfix(_ record: LogRecord) -> Bool {
        let program = record.program
        if program.hasPrefix("postfix") || program.hasPrefix("policyd-spf") { return true }
        // Another syslog_name (`mail/smtpd`): Postfix's daemons keep their own names last.
        return program.hasSuffix("/smtpd") || program.hasSuffix("/qmgr") || program.hasSuffix("/cleanup")
    }

    mutating func take(_ record: LogRecord) {
        let program = record.program
        let component = program.split(separator: "/").last.map(String.init) ?? program
        let message = record.message
        let host = record.host ?? ""
        if message.contains("client-ip="), message.contains("identity=") {
            takeSPF(message, at: record.position)
            return
        }
        switch component {
        case "smtpd":
            records += 1
            takeSMTPD(record, host: host)
        case "qmgr":
            // `QUEUEID: from=<sender>, size=N, nrcpt=N (queue active)`
            guard let colon = message.firstIndex(of: ":") else { return }
            let id = message[..<colon]
            let rest = message[message.index(after: colon)...].drop { $0 == " " }
            guard rest.hasPrefix("from=<"), rest.contains("size="), let sender = LogText.angle("from=", in: rest) else {
                return
            }
            queueSender[QueueKey(host: host, id: String(id))] = sender
        default:
            return
        }
    }

    private mutating func takeSMTPD(_ record: LogRecord, host: String) {
        guard let pid = record.pid else { return }
        let key = SessionKey(host: host, program: record.program, pid: pid)
        let message = record.message
        if message.hasPrefix("connect from ") {
            close(key)
            guard let (name, address) = LogText.client(message.dropFirst("connect from ".count)) else { return }
            open[key] = Session(address: address, confirmedName: name == "unknown" ? nil : name)
            note(address, at: record.position)
            return
        }
        if message.hasPrefix("disconnect from ") {
            if open[key] == nil, let (name, address) = LogText.client(message.dropFirst("disconnect from ".count)) {
                open[key] = Session(address: address, confirmedName: name == "unknown" ? nil : name)
                note(address, at: record.position)
            }
            close(key)
            return
        }
        if message.hasPrefix("warning: ") {
            takeWarning(message.dropFirst("warning: ".count), at: record.position)
            return
        }
        // `QUEUEID: client=name[addr]` and `QUEUEID: reject: ...`, `NOQUEUE: reject_warning: ...`.
        guard let colon = message.firstIndex(of: ":") else { return }
        let id = message[..<colon]
        guard !id.isEmpty, !id.contains(" ") else { return }
        let rest = message[message.index(after: colon)...].drop { $0 == " " }
        if rest.hasPrefix("client=") {
            guard let (name, address) = LogText.client(rest.dropFirst("client=".count)) else { return }
            if open[key] == nil {
                open[key] = Session(address: address, confirmedName: name == "unknown" ? nil : name)
                note(address, at: record.position)
            }
            let queue = QueueKey(host: host, id: String(id))
            queueClient[queue] = address
            if rest.contains("sasl_username=") {
                open[key]?.authenticated = true
                queueAuthenticated.insert(queue)
            }
            return
        }
        // `ACTION: CMD from name[addr]: TEXT; from=<s> to=<r> proto=P helo=<h>`
        guard let actionEnd = rest.firstIndex(of: ":") else { return }
        let action = rest[..<actionEnd]
        guard
            [
                "reject", "reject_warning", "warn", "hold", "discard", "filter", "redirect", "info", "prepend", "defer",
                "defer_if_permit",
            ]
            .contains(action)
        else { return }
        let detail = rest[rest.index(after: actionEnd)...]
        guard let (name, address) = LogText.client(after: " from ", in: detail) else { return }
        if open[key] == nil {
            open[key] = Session(address: address, confirmedName: name == "unknown" ? nil : name)
            note(address, at: record.position)
        }
        var entry = evidence[address] ?? AddressEvidence(address: address)
        let helo = LogText.angle("helo=", in: detail)
        if let helo, !helo.isEmpty { open[key]?.helos.insert(helo) }
        if id != "NOQUEUE", let sender = LogText.angle("from=", in: detail) {
            let queue = QueueKey(host: host, id: String(id))
            if queueSender[queue] == nil { queueSender[queue] = sender }
        } else if let sender = LogText.angle("from=", in: detail), entry.senders[sender] == nil {
            // A sender seen only in NOQUEUE lines still names the client's envelope domain.
            entry.senders[sender] = 0
        }
        if action == "reject" || action == "reject_warning" {
            // The reply: after `name[addr]: ` up to `; from=`.
            if let colonSpace = detail.range(of: "]: ") {
                var reply = detail[colonSpace.upperBound...]
                if let tail = reply.range(of: "; from=") { reply = reply[..<tail.lowerBound] }
                entry.rejections[String(reply), default: 0] += 1
                Self.classify(reply, helo: helo, into: &entry)
            }
        }
        evidence[address] = entry
    }

    /// What a reject reply says about the client (smtpd_check.c's texts).
    static func classify(_ reply: Substring, helo: String?, into entry: inout AddressEvidence) {
        if reply.contains("cannot find your reverse hostname") {
            entry.ptrMissing = true
        }
        if reply.contains("Helo command rejected: Host not found"), let helo {
            entry.helosNotFound.insert(LogText.normalizedHELO(helo))
        }
        if let range = reply.range(of: "blocked using ") {
            let zone = reply[range.upperBound...].prefix { $0 != ";" && $0 != " " && $0 != "," }
            if !zone.isEmpty { entry.dnsbl.insert(DNSName.normalize(zone)) }
        }
    }

    /// smtpd_peer.c: `hostname N does not resolve to address A[: error]`; older Postfix:
    /// `A: hostname N verification failed: error`, `A: address not listed for hostname N`.
    private mutating func takeWarning(_ text: Substring, at position: LogPosition) {
        if text.hasPrefix("hostname "), let range = text.range(of: " does not resolve to address ") {
            let name = text[text.index(text.startIndex, offsetBy: "hostname ".count)..<range.lowerBound]
            let rest = text[range.upperBound...]
            let (addressPart, hasError) = Self.splitAddressAndError(rest)
            guard let address = IPAddress(addressPart).map(LogText.unmapped) else { return }
            setUnconfirmed(address, name: String(name), resolvesElsewhere: !hasError, at: position)
            return
        }
        if let range = text.range(of: ": address not listed for hostname ") {
            guard let address = IPAddress(text[..<range.lowerBound]).map(LogText.unmapped) else { return }
            let name = text[range.upperBound...].prefix { $0 != " " }
            setUnconfirmed(address, name: String(name), resolvesElsewhere: true, at: position)
            return
        }
        if let range = text.range(of: ": hostname "), let verify = text.range(of: " verification failed") {
            guard let address = IPAddress(text[..<range.lowerBound]).map(LogText.unmapped),
                range.upperBound <= verify.lowerBound
            else { return }
            setUnconfirmed(
                address, name: String(text[range.upperBound..<verify.lowerBound]), resolvesElsewhere: false,
                at: position)
        }
    }

    /// `2001:db8::1: Name or service not known` → (`2001:db8::1`, true); `192.0.2.1` → (`192.0.2.1`, false).
    static func splitAddressAndError(_ text: Substring) -> (Substring, Bool) {
        if let range = text.range(of: ": ") { return (text[..<range.lowerBound], true) }
        return (text.prefix { $0 != " " }, false)
    }

    private mutating func setUnconfirmed(
        _ address: IPAddress, name: String, resolvesElsewhere: Bool, at position: LogPosition
    ) {
        var entry = evidence[address] ?? AddressEvidence(address: address)
        if entry.unconfirmedName == nil { entry.unconfirmedName = (DNSName.normalize(name), resolvesElsewhere) }
        if entry.firstSeen == nil { entry.firstSeen = position }
        evidence[address] = entry
    }

    /// `Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=A; helo=H; envelope-from=S; ...`
    /// (postfix-policyd-spf-python), `Pass; identity=...` and the Perl service's `Received-SPF: pass`.
    private mutating func takeSPF(_ text: Substring, at position: LogPosition) {
        guard let ip = LogText.value("client-ip", in: text), let address = IPAddress(ip).map(LogText.unmapped),
            let identity = LogText.value("identity", in: text)
        else { return }
        var word: Substring?
        if let range = text.range(of: "Received-SPF: ") {
            word = text[range.upperBound...].prefix { $0.isLetter }
        } else {
            let first = text.prefix { $0.isLetter }
            word = first
        }
        var result = word.flatMap { SPFResult(word: $0) }
        if result == nil, text.contains("SPF fail") { result = .fail }
        guard let result else { return }
        let domain: String?
        switch identity {
        case "mailfrom":
            domain = LogText.value("envelope-from", in: text).flatMap {
                LogText.domain(of: String($0).trimmingCharacters(in: ["<", ">"]))
            }
        case "helo":
            domain = LogText.value("helo", in: text).map { LogText.normalizedHELO(String($0)) }
        default:
            domain = nil
        }
        guard let domain else { return }
        var entry = evidence[address] ?? AddressEvidence(address: address)
        entry.spf[domain] = SPFResult.worse(entry.spf[domain] ?? result, result)
        if entry.firstSeen == nil { entry.firstSeen = position }
        evidence[address] = entry
    }

    private mutating func note(_ address: IPAddress, at position: LogPosition) {
        if evidence[address] == nil {
            var entry = AddressEvidence(address: address)
            entry.firstSeen = position
            evidence[address] = entry
        } else if evidence[address]?.firstSeen == nil {
            evidence[address]?.firstSeen = position
        }
    }

    private mutating func close(_ key: SessionKey) {
        guard let session = open.removeValue(forKey: key) else { return }
        if session.address.isLoopback {
            loopbackSessions += 1
            return
        }
        if session.authenticated {
            authenticatedSessions += 1
            return
        }
        var entry = evidence[session.address] ?? AddressEvidence(address: session.address)
        entry.sessions += 1
        if let name = session.confirmedName {
            entry.confirmedNames[DNSName.normalize(name), default: 0] += 1
        } else {
            entry.unknownSessions += 1
        }
        for helo in session.helos { entry.helos[helo, default: 0] += 1 }
        evidence[session.address] = entry
    }

    /// Closes the sessions still open (a log that ends mid-session) and counts messages.
    mutating func finish() {
        for key in Array(open.keys) { close(key) }
        for (queue, address) in queueClient where !queueAuthenticated.contains(queue) && !address.isLoopback {
            var entry = evidence[address] ?? AddressEvidence(address: address)
            entry.messages += 1
            if let sender = queueSender[queue] { entry.senders[sender, default: 0] += 1 }
            evidence[address] = entry
        }
        // Addresses seen only in lines of sessions that were left out.
        evidence = evidence.filter { !$0.key.isLoopback && ($0.value.sessions > 0 || $0.value.messages > 0) }
    }
}

extension IPAddress {
    /// 127.0.0.0/8 and ::1: a content filter handing mail back, not a sender.
    var isLoopback: Bool {
        family == .ipv4 ? bytes[0] == 127 : bytes == [UInt8](repeating: 0, count: 15) + [1]
    }
}
