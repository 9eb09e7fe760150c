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
///
/// With STARTTLS (Exim 4.96 with GnuTLS, `log_selector = +all`), seen here:
///
///     => bob@example.test ... H=mx.example.test [192.0.2.10]:25 ... X=TLS1.3:ECDHE_SECP256R1__ECDSA_SECP256R1_SHA256__AES_256_GCM:256 CV=yes DN="CN=mx.example.test" ...
///     H=mx.example.test [192.0.2.10]:25: a TLS session is required, but the server did not offer TLS support
///     == bob@example.test ... defer (-37) H=mx.example.test [192.0.2.10]:25 ... DT=1.5s: TLS session: (certificate verification failed): certificate invalid
///     TLS host defer: H=mx.example.test [192.0.2.10]:25: TLS session: (gnutls_handshake): Handshake failed
///     TLS session: (gnutls_handshake): Handshake failed: delivering unencrypted to H=mx.example.test [192.0.2.10] (not in hosts_require_tls)
///
/// `X=` and `CV=` give a delivery its TLS facts: `CV=yes` is Postfix's "Verified" where the level
/// checked the name (verify, dane) and "Trusted" where it did not (may, encrypt: the harness sets
/// `tls_verify_cert_hostnames =` there), `CV=no` "Untrusted". The `TLS host defer:` line is the
/// harness's own (the transport's `event_action`, `EximSendingMTA.tlsOptions`): Exim logs nothing
/// of a host it leaves after a failed TLS session. TLS failures read as the delivery model and
/// the Postfix sender report them, `451` at stage helo with Postfix's DSN and words (4.7.4 "TLS is
/// required, but was not offered by host ...", 4.7.5 "Cannot start TLS: handshake failure" or
/// "Server certificate not verified"), Exim's own words kept as the attempt's error. A router's
/// `host lookup did not complete` reads as Postfix's 4.4.3 "Host or domain name not found".
public struct EximDeliveryLog: SenderLog {
    public static var mta: String { "Exim" }
    public private(set) var attempts: [DeliveryAttempt] = []
    public private(set) var statuses: [SenderLogStatus] = []
    /// `sender.tls`: whether `CV=yes` means a checked name.
    let level: TLSSecurityLevel

    public init(lines: [String], level: TLSSecurityLevel = .none) {
        self.level = level
        for line in lines { read(line) }
    }

    private mutating func read(_ line: String) {
        // With -odi Exim delivers its own bounce of a refused message at once (`<= <> R=ID`, to the
        // envelope sender's MX): that is another message, whose tries are not the case's.
        if let id = Self.messageID(in: line) {
            if messageID == nil, line.contains(" <= ") {
                messageID = id
            } else if let messageID, id != messageID {
                return
            }
        }
        // `->` is a further recipient of the same delivery as the `=>` line before it.
        for (marker, outcome) in [
            (" => ", DeliveryOutcome.delivered), (" -> ", .delivered), (" ** ", .bounced), (" == ", .deferred),
        ] {
            guard let range = line.range(of: marker) else { continue }
            let rest = line[range.upperBound...]
            let recipient = String(rest.prefix { $0 != " " }).trimmingAngles()
            var index: Int?
            if let attempt = Self.attempt(in: rest, delivered: outcome == .delivered, level: level) {
                if let last = attempts.last, statuses.last?.attemptIndex == attempts.count - 1 || lastLineWasHostError,
                    last.remoteAddress == attempt.remoteAddress, last.stage == attempt.stage,
                    last.result == attempt.result
                {
                    index = attempts.count - 1
                } else {
                    attempts.append(attempt)
                    index = attempts.count - 1
                }
            } else if lastLineWasHostError, let last = attempts.last, last.result == .unreachable {
                // `== RCPT ... defer (101): Network is unreachable` after the host's own line.
                index = attempts.count - 1
            }
            lastLineWasHostError = false
            if index == nil, let lookup = tlsaLookupError, rest.contains("DANE error: tlsa lookup") {
                // No connection was made (as Postfix, which skips the address): Postfix's words and DSN.
                let text = "TLSA lookup error for \(lookup) (\(rest[rest.range(of: "DANE error: ")!.lowerBound...]))"
                statuses.append(SenderLogStatus(recipient: recipient, outcome: outcome, dsn: "4.7.5", text: text))
                return
            }
            if index == nil, outcome == .deferred, rest.contains(": host lookup did not complete") {
                // dnslookup.c: a DNS lookup of the domain's MX or of its hosts' addresses that did
                // not complete (SERVFAIL, bogus, timeout) defers the address with no DSN of Exim's;
                // read as Postfix's and the model's 4.4.3 "Host or domain name not found",
                // Exim's words kept.
                let words = rest.range(of: "R=").map { rest[$0.lowerBound...] } ?? rest
                statuses.append(
                    SenderLogStatus(
                        recipient: recipient, outcome: outcome, dsn: "4.4.3",
                        text: "Host or domain name not found (\(words))"))
                return
            }
            statuses.append(
                SenderLogStatus(recipient: recipient, outcome: outcome, text: String(rest), attemptIndex: index))
            return
        }
        if let range = line.range(of: " H="), line.contains(": DANE error: tlsa lookup"),
            let close = line[range.upperBound...].firstIndex(of: "]")
        {
            // `H=NAME [ADDR]:PORT: DANE error: tlsa lookup DEFER`: a TLSA lookup that failed (SERVFAIL,
            // bogus), no connection made.
            let name = line[range.upperBound...].prefix { $0 != " " }
            let port = line[line.index(after: close)...].dropFirst().prefix { $0.isNumber }
            tlsaLookupError = "\(name):\(port.isEmpty ? "25" : port)"
            return
        }
        if line.contains(": delivering unencrypted to H=") {
            // Exim's clear retry on the same host after a failed handshake (not in
            // hosts_require_tls): the failed session is the `TLS host defer:` attempt before it.
            lastLineWasHostError = false
            return
        }
        if let range = line.range(of: " H="),
            let attempt = Self.attempt(in: line[range.lowerBound...], delivered: false, level: level)
        {
            // One line per recipient refused at RCPT: those of one session are one attempt.
            if lastLineWasHostError, attempt.stage == .rcpt, let last = attempts.last, last.stage == .rcpt,
                last.remoteAddress == attempt.remoteAddress
            {
                return
            }
            attempts.append(attempt)
            lastLineWasHostError = true
        }
    }

    private var lastLineWasHostError = false
    /// The id of the message the case sent: that of the first `<=` line.
    private var messageID: Substring?

    /// The message id of a main log line, `DATE TIME [PID] ID ...` (`log_selector` `+pid`) or
    /// `DATE TIME ID ...`: `XXXXXX-XXXXXX-XX` (Exim 4.96) or `XXXXXX-XXXXXXXXXXX-XXXX` (4.97 on).
    static func messageID(in line: String) -> Substring? {
        let fields = line.split(separator: " ", maxSplits: 4)
        for field in fields.dropFirst(2).prefix(2) {
            let parts = field.split(separator: "-", omittingEmptySubsequences: false)
            if parts.count == 3, parts[0].count == 6, [6, 11].contains(parts[1].count),
                [2, 4].contains(parts[2].count),
                field.allSatisfy({ $0 == "-" || ($0.isASCII && ($0.isLetter || $0.isNumber)) })
            {
                return field
            }
        }
        return nil
    }
    /// `NAME:PORT` of the last host whose TLSA lookup failed.
    private var tlsaLookupError: String?

    /// The try that `H=NAME [ADDR]...` describes.
    static func attempt(in text: Substring, delivered: Bool, level: TLSSecurityLevel = .none) -> DeliveryAttempt? {
        guard let h = text.range(of: "H=") else { return nil }
        let afterH = text[h.upperBound...]
        guard let open = afterH.firstIndex(of: "["), let close = afterH[open...].firstIndex(of: "]"),
            let address = IPAddress(String(afterH[afterH.index(after: open)..<close]))
        else { return nil }
        var host = String(afterH[..<open]).trimmingCharacters()
        // `H=NAME DS [ADDR]`: Exim marks a host whose address lookup was DNSSEC-secure.
        if host.hasSuffix(" DS") { host = String(host.dropLast(3)) }
        var tail = afterH[afterH.index(after: close)...]
        // "]:25" — the port.
        if tail.hasPrefix(":"), tail.dropFirst().first?.isNumber == true {
            tail = tail.dropFirst().drop { $0.isNumber }
        }
        if delivered {
            var reply: SMTPReply?
            if let c = tail.range(of: "C=\"") {
                reply = SMTPReply(logged: String(tail[c.upperBound...].prefix { $0 != "\"" }))
            }
            var attempt = DeliveryAttempt(
                family: address.family, localAddress: nil, remoteAddress: address, remoteHost: host,
                stage: .data, reply: reply ?? SMTPReply(code: 250, "accepted"), result: .accepted, recipients: [])
            attempt.tls = tlsFacts(in: tail, level: level)
            return attempt
        }
        if let failure = tlsFailure(in: tail, host: host, address: address) {
            var attempt = DeliveryAttempt(
                family: address.family, localAddress: nil, remoteAddress: address, remoteHost: host,
                stage: .helo, reply: failure.reply, result: .tempfailed, error: failure.error, recipients: [])
            attempt.tls = failure.tls
            return attempt
        }
        if let error = tail.range(of: "SMTP error from remote mail server after ") {
            let after = tail[error.upperBound...]
            let stage = stage(after)
            guard let colon = after.range(of: ": ", options: []),
                let reply = SMTPReply(logged: String(after[colon.upperBound...]))
            else { return nil }
            return DeliveryAttempt(
                family: address.family, localAddress: nil, remoteAddress: address, remoteHost: host,
                stage: stage, reply: reply, result: reply.code >= 500 ? .rejected : .tempfailed, recipients: [])
        }
        let lower = tail.lowercased()
        if lower.contains("connection refused") || lower.contains("unreachable")
            || lower.contains("connection timed out") || lower.contains("no route")
        {
            return DeliveryAttempt(
                family: address.family, localAddress: nil, remoteAddress: address, remoteHost: host,
                stage: .connect, reply: nil, result: .unreachable, error: String(tail).trimmingCharacters(),
                recipients: [])
        }
        if lower.contains("timed out") || lower.contains("connection closed") || lower.contains("closed connection")
            || lower.contains("lost")
        {
            let stage: SMTPStage =
                lower.contains("data")
                ? .data
                : lower.contains("rcpt")
                    ? .rcpt
                    : lower.contains("mail from")
                        ? .mail
                        : lower.contains("ehlo") || lower.contains("helo") ? .helo : .greeting
            return DeliveryAttempt(
                family: address.family, localAddress: nil, remoteAddress: address, remoteHost: host,
                stage: stage, reply: nil, result: .tempfailed, error: String(tail).trimmingCharacters(), recipients: [])
        }
        return nil
    }

    /// `X=TLS1.3:CIPHER:BITS CV=yes|no|dane` of a delivery line; nil when it ran in clear.
    static func tlsFacts(in text: Substring, level: TLSSecurityLevel) -> TLSSessionFacts? {
        guard let x = text.range(of: " X=") else { return nil }
        let fields = text[x.upperBound...].prefix { $0 != " " }.split(separator: ":")
        let version = fields.first.flatMap { field in
            field.hasPrefix("TLS") ? TLSProtocolVersion(rawValue: "TLSv" + field.dropFirst(3)) : nil
        }
        let cipher = fields.count > 1 ? String(fields[1]) : nil
        var trust: TLSPeerTrust?
        if let cv = text.range(of: " CV=") {
            switch text[cv.upperBound...].prefix(while: { $0 != " " }) {
            case "dane": trust = .verified
            case "yes": trust = level == .verify || level == .secure ? .verified : .trusted
            default: trust = .untrusted
            }
        }
        return TLSSessionFacts(version: version, cipher: cipher, trust: trust)
    }

    /// One of Exim's TLS failures (smtp transport, `ERRNO_TLSREQUIRED` and `ERRNO_TLSFAILURE`) as
    /// the delivery model reports the same failure: its reply, Exim's words, and the session's facts
    /// when the certificate was seen (a failed check: "Untrusted", as Postfix's handshake completes
    /// before it says "Server certificate not verified").
    static func tlsFailure(in text: Substring, host: String, address: IPAddress) -> (
        reply: SMTPReply, error: String, tls: TLSSessionFacts?
    )? {
        let words: Substring
        if let range = text.range(of: "a TLS session is required") {
            words = text[range.lowerBound...]
            let reply = SMTPReply(
                code: 451, enhanced: "4.7.4", "TLS is required, but was not offered by host \(host)[\(address)]")
            return (reply, String(words), nil)
        }
        guard let range = text.range(of: "TLS session: ") ?? text.range(of: "TLS error on connection") else {
            return nil
        }
        words = text[range.lowerBound...]
        if words.contains("certificate verification failed") || words.contains("certificate invalid") {
            let facts = TLSSessionFacts(version: nil, cipher: nil, trust: .untrusted)
            return (SMTPReply(code: 451, enhanced: "4.7.5", "Server certificate not verified"), String(words), facts)
        }
        return (SMTPReply(code: 451, enhanced: "4.7.5", "Cannot start TLS: handshake failure"), String(words), nil)
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
