import DNSCore
import Delivery
import SMTPProtocol

/// What an Exim 4 sender's main log says about one delivery: `H=NAME [ADDR]` errors of hosts it
/// went past, and per recipient `=>` (delivered), `**` (bounced) or `==` (deferred), each naming
/// the host of its last try.
///
///     H=mx.example.test [2001:db8::10]: SMTP error from remote mail server after RCPT TO:<bob@example.test>: 450 4.7.25 ...
///     H=mx.example.test [2001:db8::10] Connection refused
///     1tXYZ-000A-00 => bob@example.test R=dnslookup T=remote_smtp H=mx.example.test [192.0.2.10] C="250 2.0.0 Ok"
public struct EximDeliveryLog: SenderLog {
    public static var mta: String { "Exim" }
    public private(set) var attempts: [DeliveryAttempt] = []
    public private(set) var statuses: [SenderLogStatus] = []

    public init(lines: [String]) {
        for line in lines { read(line) }
    }

    private mutating func read(_ line: String) {
        // `->` is a further recipient of the same delivery as the `=>` line before it.
        for (marker, outcome) in [(" => ", DeliveryOutcome.delivered), (" -> ", .delivered), (" ** ", .bounced), (" == ", .deferred)] {
            guard let range = line.range(of: marker) else { continue }
            let rest = line[range.upperBound...]
            let recipient = String(rest.prefix { $0 != " " }).trimmingAngles()
            var index: Int?
            if let attempt = Self.attempt(in: rest, delivered: outcome == .delivered) {
                if let last = attempts.last, statuses.last?.attemptIndex == attempts.count - 1 || lastLineWasHostError,
                   last.remoteAddress == attempt.remoteAddress, last.stage == attempt.stage, last.result == attempt.result {
                    index = attempts.count - 1
                } else {
                    attempts.append(attempt)
                    index = attempts.count - 1
                }
            }
            else if lastLineWasHostError, let last = attempts.last, last.result == .unreachable {
                // `== RCPT ... defer (101): Network is unreachable` after the host's own line.
                index = attempts.count - 1
            }
            lastLineWasHostError = false
            statuses.append(SenderLogStatus(recipient: recipient, outcome: outcome, text: String(rest), attemptIndex: index))
            return
        }
        if let range = line.range(of: " H="), let attempt = Self.attempt(in: line[range.lowerBound...], delivered: false) {
            // One line per recipient refused at RCPT: those of one session are one attempt.
            if lastLineWasHostError, attempt.stage == .rcpt, let last = attempts.last, last.stage == .rcpt,
               last.remoteAddress == attempt.remoteAddress {
                return
            }
            attempts.append(attempt)
            lastLineWasHostError = true
        }
    }

    private var lastLineWasHostError = false

    /// The try that `H=NAME [ADDR]...` describes.
    static func attempt(in text: Substring, delivered: Bool) -> DeliveryAttempt? {
        guard let h = text.range(of: "H=") else { return nil }
        let afterH = text[h.upperBound...]
        guard let open = afterH.firstIndex(of: "["), let close = afterH[open...].firstIndex(of: "]"),
              let address = IPAddress(String(afterH[afterH.index(after: open)..<close])) else { return nil }
        let host = String(afterH[..<open]).trimmingCharacters()
        var tail = afterH[afterH.index(after: close)...]
        // "]:25" — the port.
        if tail.hasPrefix(":"), tail.dropFirst().first?.isNumber == true { tail = tail.dropFirst().drop { $0.isNumber } }
        if delivered {
            var reply: SMTPReply?
            if let c = tail.range(of: "C=\"") {
                reply = SMTPReply(logged: String(tail[c.upperBound...].prefix { $0 != "\"" }))
            }
            return DeliveryAttempt(family: address.family, localAddress: nil, remoteAddress: address, remoteHost: host,
                                   stage: .data, reply: reply ?? SMTPReply(code: 250, "accepted"), result: .accepted, recipients: [])
        }
        if let error = tail.range(of: "SMTP error from remote mail server after ") {
            let after = tail[error.upperBound...]
            let stage = stage(after)
            guard let colon = after.range(of: ": ", options: []), let reply = SMTPReply(logged: String(after[colon.upperBound...])) else { return nil }
            return DeliveryAttempt(family: address.family, localAddress: nil, remoteAddress: address, remoteHost: host,
                                   stage: stage, reply: reply, result: reply.code >= 500 ? .rejected : .tempfailed, recipients: [])
        }
        let lower = tail.lowercased()
        if lower.contains("connection refused") || lower.contains("unreachable") || lower.contains("connection timed out") || lower.contains("no route") {
            return DeliveryAttempt(family: address.family, localAddress: nil, remoteAddress: address, remoteHost: host,
                                   stage: .connect, reply: nil, result: .unreachable, error: String(tail).trimmingCharacters(), recipients: [])
        }
        if lower.contains("timed out") || lower.contains("connection closed") || lower.contains("closed connection") || lower.contains("lost") {
            let stage: SMTPStage = lower.contains("data") ? .data : lower.contains("rcpt") ? .rcpt : lower.contains("mail from") ? .mail
                : lower.contains("ehlo") || lower.contains("helo") ? .helo : .greeting
            return DeliveryAttempt(family: address.family, localAddress: nil, remoteAddress: address, remoteHost: host,
                                   stage: stage, reply: nil, result: .tempfailed, error: String(tail).trimmingCharacters(), recipients: [])
        }
        return nil
    }

    /// "RCPT TO:<...>: 450", "MAIL FROM:<...>", "EHLO x", "initial connection", "end of data".
    static func stage(_ text: Substring) -> SMTPStage {
        let upper = text.uppercased()
        if upper.hasPrefix("RCPT") || upper.hasPrefix("PIPELINED RCPT") { return .rcpt }
        if upper.hasPrefix("MAIL") || upper.hasPrefix("PIPELINED MAIL") { return .mail }
        if upper.hasPrefix("EHLO") || upper.hasPrefix("HELO") { return .helo }
        if upper.hasPrefix("INITIAL CONNECTION") { return .greeting }
        return .data
    }
}

extension StringProtocol {
    fileprivate func trimmingCharacters() -> String {
        var s = Substring(self)
        while s.first == " " || s.first == ":" { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }

    fileprivate func trimmingAngles() -> String {
        var s = Substring(self)
        if s.hasPrefix("<"), s.hasSuffix(">") { s = s.dropFirst().dropLast() }
        return String(s)
    }
}
