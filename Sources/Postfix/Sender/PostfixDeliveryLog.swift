import DNSCore
import Delivery
import SMTPProtocol

/// What a Postfix sender's maillog says about one delivery, read line by line (smtp(8)'s
/// messages as Postfix 3.7 writes them):
///
/// - `connect to NAME[ADDR]:25: Connection refused` (or `timed out`, `Network is unreachable`):
///   an address that could not be reached;
/// - `QID: host NAME[ADDR] said: 450 4.7.25 TEXT (in reply to RCPT TO command)`: a reply that
///   sent the recipients on to the next address;
/// - `QID: host NAME[ADDR] refused to talk to me: 421 ...`: a greeting or a HELO that was not 2xx
///   (smtp_proto.c `smtp_helo()` says the same for both); which of the two is read from the
///   verbose chat lines `> NAME[ADDR]:25: EHLO ...` and `< NAME[ADDR]:25: 550 ...` (smtp_chat.c,
///   logged with `debug_peer_list` matching the server): the stage is helo when the last reply
///   before it answered EHLO, HELO or LHLO;
/// - `QID: lost connection with NAME[ADDR] while ...`, `QID: conversation with NAME[ADDR] timed
///   out while ...`: a session that broke;
/// - `QID: to=<RCPT>, relay=NAME[ADDR]:25, ..., dsn=X.Y.Z, status=sent|deferred|bounced (TEXT)`:
///   a recipient's outcome, TEXT being the last server's reply or Postfix's own reason.
///
/// With `smtp_tls_loglevel = 1` (src/tls/tls_client.c, src/smtp/smtp_proto.c):
/// - `Verified TLS connection established to NAME[ADDR]:25: TLSv1.3 with cipher ...` (or
///   Anonymous, Untrusted, Trusted): the session's TLS, given to the attempt with that address;
/// - `SSL_connect error to NAME[ADDR]:25: ...`, `certificate verification failed for NAME[ADDR]:25:
///   ...`: which server the next TLS failure is about;
/// - `QID: TLS is required, but was not offered by host NAME[ADDR]`, `QID: Cannot start TLS:
///   handshake failure`, `QID: Server certificate not verified`: a TLS failure (4.7.4, 4.7.5)
///   that sent the message on to the next address; the same texts in a status line end the
///   delivery. Postfix logs no reply code for them (the client made them up, `SMTP_RESP_FAKE`):
///   they are read as `451` with the DSN, stage `helo`, as the delivery model reports them.
public struct PostfixDeliveryLog: SenderLog {
    public static var mta: String { "Postfix" }
    /// The attempts, in log order.
    public private(set) var attempts: [DeliveryAttempt] = []
    /// Each recipient's final status line, in log order.
    public private(set) var statuses: [SenderLogStatus] = []

    public init(lines: [String], port: UInt16 = 25) {
        for line in lines { read(line, port: port) }
    }

    private var lastLineWasRCPTReply = false
    /// Greetings the verbose chat showed (each starts a session), and how many there had been
    /// when the last attempt was read: with the chat, RCPT replies of one session are those with
    /// no greeting between them, whatever else is logged between them.
    private var chatGreetings = 0
    private var chatGreetingsAtLastAttempt: Int?
    /// Per server, the commands the verbose chat shows sent and not yet answered, oldest first
    /// (MAIL, RCPT and DATA go out pipelined).
    private var pendingCommands: [IPAddress: [String]] = [:]
    /// Per server, the command the last complete reply of the verbose chat answered (nil: the
    /// greeting).
    private var lastAnswered: [IPAddress: String?] = [:]
    /// The server of the latest TLS line, and the session facts when a handshake completed.
    private var tlsPeer: (host: String, address: IPAddress, facts: TLSSessionFacts?)?

    /// Appends `attempt`, with the TLS facts logged for its address just before.
    private mutating func append(_ attempt: DeliveryAttempt) {
        var attempt = attempt
        if let peer = tlsPeer, peer.address == attempt.remoteAddress, let facts = peer.facts {
            attempt.tls = facts
            tlsPeer = nil
        }
        attempts.append(attempt)
        chatGreetingsAtLastAttempt = chatGreetings > 0 ? chatGreetings : nil
    }

    private mutating func read(_ line: String, port: UInt16) {
        guard let range = line.range(of: "postfix/smtp[") ?? line.range(of: "/smtp[") else { return }
        guard let colon = line[range.upperBound...].range(of: "]: ") else { return }
        var text = Substring(line[colon.upperBound...])
        // Strip the queue ID ("4ABCDEF: ").
        if let idEnd = text.range(of: ": "),
            text[..<idEnd.lowerBound].allSatisfy({ $0.isHexDigit || $0.isLetter || $0.isNumber }),
            !text.hasPrefix("connect to")
        {
            text = text[idEnd.upperBound...]
        }
        if readChat(text) { return }
        let previousWasRCPTReply = lastLineWasRCPTReply
        lastLineWasRCPTReply = false
        if let (host, address, facts) = Self.tlsEstablished(text) {
            tlsPeer = (host, address, facts)
        } else if let (host, address) = Self.tlsPeer(in: text) {
            tlsPeer = (host, address, nil)
        } else if let failure = Self.tlsFailure(text) {
            // A TLS failure on a server that was not the last: the server is the one named in it
            // or in the TLS lines just before.
            let named = failure.host.flatMap { name in Self.endpoint(in: Substring(name)) }
            guard let (host, address) = named ?? tlsPeer.map({ ($0.host, $0.address) }) else { return }
            append(
                DeliveryAttempt(
                    family: address.family, localAddress: nil, remoteAddress: address, remoteHost: host, port: port,
                    stage: .helo, reply: failure.reply, result: .tempfailed, error: String(text), recipients: []))
        } else if text.hasPrefix("connect to ") {
            guard let (host, address) = Self.endpoint(in: text.dropFirst("connect to ".count)) else { return }
            append(
                DeliveryAttempt(
                    family: address.family, localAddress: nil, remoteAddress: address, remoteHost: host, port: port,
                    stage: .connect, reply: nil, result: .unreachable, error: String(text), recipients: []))
        } else if text.hasPrefix("host "), let attempt = chatHostReply(text.dropFirst(5), port: port) {
            // smtp(8) logs a RCPT reply per recipient: those of one session make one attempt.
            // With the chat, a greeting between them says; without it, the lines follow each other.
            let sameSession = chatGreetingsAtLastAttempt.map { $0 == chatGreetings } ?? previousWasRCPTReply
            if attempt.stage == .rcpt, sameSession, let last = attempts.last, last.stage == .rcpt,
                last.remoteAddress == attempt.remoteAddress
            {
                lastLineWasRCPTReply = true
                return
            }
            append(attempt)
            lastLineWasRCPTReply = attempt.stage == .rcpt
        } else if text.hasPrefix("lost connection with ") || text.hasPrefix("conversation with ") {
            let rest = text.drop { $0 != " " }.dropFirst().drop { $0 != " " }.dropFirst()
            guard let (host, address) = Self.endpoint(in: rest) else { return }
            append(
                DeliveryAttempt(
                    family: address.family, localAddress: nil, remoteAddress: address, remoteHost: host, port: port,
                    stage: Self.stage(while: text), reply: nil, result: .tempfailed, error: String(text), recipients: []
                ))
        } else if text.hasPrefix("to=<") {
            readStatus(text)
        }
    }

    private mutating func readStatus(_ text: Substring) {
        let fields = Self.fields(text)
        guard let to = fields["to"], let statusWord = fields["status"]?.prefix(while: { $0 != " " }) else { return }
        let recipient = String(to.dropFirst().dropLast())
        let outcome: DeliveryOutcome
        switch statusWord {
        case "sent": outcome = .delivered
        case "bounced": outcome = .bounced
        case "deferred": outcome = .deferred
        default: return
        }
        var detail = ""
        if let open = text.range(of: "status=\(statusWord) (") {
            detail = String(text[open.upperBound...])
            if detail.hasSuffix(")") { detail.removeLast() }
        }
        let dsn = fields["dsn"] ?? ""
        var attemptIndex: Int?
        if let relay = fields["relay"], relay != "none", let (host, address) = Self.endpoint(in: Substring(relay)) {
            let attempt: DeliveryAttempt
            if outcome == .delivered {
                attempt = DeliveryAttempt(
                    family: address.family, localAddress: nil, remoteAddress: address, remoteHost: host,
                    stage: .data, reply: SMTPReply(logged: detail), result: .accepted, recipients: [])
            } else if let (hostDetail, protocolError) = Self.hostDetail(detail),
                var parsed = chatHostReply(hostDetail.dropFirst(5), port: 25)
            {
                // A reply of no error class (a 250 read where DATA wants 354) is Postfix's
                // "Protocol error" and bounces (5.5.0): the server's reply, the attempt refused.
                if protocolError { parsed.result = outcome == .bounced ? .rejected : .tempfailed }
                attempt = parsed
            } else if let failure = Self.tlsFailure(Substring(detail), dsn: dsn) {
                attempt = DeliveryAttempt(
                    family: address.family, localAddress: nil, remoteAddress: address, remoteHost: host,
                    stage: .helo, reply: failure.reply, result: outcome == .bounced ? .rejected : .tempfailed,
                    error: detail, recipients: [])
            } else {
                attempt = DeliveryAttempt(
                    family: address.family, localAddress: nil, remoteAddress: address, remoteHost: host,
                    stage: Self.stage(while: Substring(detail)), reply: nil, result: .tempfailed, error: detail,
                    recipients: [])
            }
            // Recipients of one session each get a status line: one attempt for all of them.
            let index: Int
            if let previous = statuses.last?.attemptIndex, previous == attempts.count - 1,
                attempts[previous].remoteAddress == address
            {
                index = previous
            } else {
                append(attempt)
                index = attempts.count - 1
            }
            attempts[index].recipients.append(
                SMTPClientRecipientStatus(
                    address: recipient, rcptReply: nil,
                    outcome: outcome == .delivered ? .accepted : outcome == .bounced ? .rejected : .tempfailed,
                    stage: attempt.stage, reply: attempt.reply))
            attemptIndex = index
        }
        // relay=none after `connect to ...`: the last address could not be reached.
        statuses.append(
            SenderLogStatus(
                recipient: recipient, outcome: outcome, dsn: dsn, text: detail, attemptIndex: attemptIndex,
                failedToConnect: attemptIndex == nil && detail.hasPrefix("connect to ")))
    }

    /// `Trusted TLS connection established to NAME[ADDR]:25: TLSv1.3 with cipher
    /// TLS_AES_256_GCM_SHA384 (256/256 bits) ...` (tls_client.c `tls_log_summary`).
    static func tlsEstablished(_ text: Substring) -> (String, IPAddress, TLSSessionFacts)? {
        let marker = " TLS connection established to "
        guard let range = text.range(of: marker), let trust = TLSPeerTrust(rawValue: String(text[..<range.lowerBound])),
            let (host, address) = endpoint(in: text[range.upperBound...]),
            let close = text[range.upperBound...].firstIndex(of: "]"), let colon = text[close...].range(of: ": ")
        else { return nil }
        let words = text[colon.upperBound...].split(separator: " ")
        let version = words.first.flatMap { TLSProtocolVersion(rawValue: String($0)) }
        var cipher: String?
        if words.count >= 4, words[1] == "with", words[2] == "cipher" { cipher = String(words[3]) }
        return (host, address, TLSSessionFacts(version: version, cipher: cipher, trust: trust))
    }

    /// The server of `SSL_connect error to NAME[ADDR]:25: ...` and `[server ]certificate
    /// verification failed for NAME[ADDR]:25: ...`.
    static func tlsPeer(in text: Substring) -> (String, IPAddress)? {
        for prefix in [
            "SSL_connect error to ", "certificate verification failed for ",
            "server certificate verification failed for ",
        ]
        where text.hasPrefix(prefix) {
            return endpoint(in: text.dropFirst(prefix.count))
        }
        return nil
    }

    /// One of smtp(8)'s own TLS failures (smtp_proto.c), as the reply the delivery model reports:
    /// 451 with the DSN (`dsn`, from a status line, or the one Postfix gives the text), stage
    /// helo. `host`: the `NAME[ADDR]` the text names, if any.
    static func tlsFailure(_ text: Substring, dsn: String? = nil) -> (reply: SMTPReply, host: String?)? {
        let notOffered = "TLS is required, but was not offered by host "
        let refused = "TLS is required, but host "
        let known: String
        var host: String?
        if text.hasPrefix(notOffered) {
            known = "4.7.4"
            host = String(text.dropFirst(notOffered.count))
        } else if text.hasPrefix("Cannot start TLS: ") || text == "Server certificate not verified" {
            known = "4.7.5"
        } else if text.hasPrefix(refused), let end = text.range(of: " refused to start TLS: ") {
            // The server's own reply decides (its DSN in the status line); Postfix logs its text
            // without the code: 454 or 554, the codes RFC 3207 section 4 gives a refused STARTTLS.
            host = String(text[text.index(text.startIndex, offsetBy: refused.count)..<end.lowerBound])
            // smtp_proto.c logs the reply from its fifth character on: its enhanced code, if any, stays.
            let status = dsn.flatMap { $0.isEmpty ? nil : $0 } ?? "4.7.0"
            let code = status.hasPrefix("5") ? 554 : 454
            let server =
                SMTPReply(logged: "\(code) " + text[end.upperBound...])
                ?? SMTPReply(code: code, enhanced: nil, String(text[end.upperBound...]))
            return (SMTPReply(code: code, enhanced: server.enhanced ?? status, server.text), host)
        } else {
            return nil
        }
        let code = dsn.map { $0.isEmpty ? known : $0 } ?? known
        let reply = SMTPReply(code: code.hasPrefix("5") ? 550 : 451, enhanced: code, String(text))
        return (reply, host)
    }

    /// A verbose chat line, `> NAME[ADDR]:PORT: COMMAND` or `< NAME[ADDR]:PORT: REPLY LINE`: kept to
    /// tell a refused HELO from a refused greeting. True when `text` was one.
    private mutating func readChat(_ text: Substring) -> Bool {
        guard text.hasPrefix("> ") || text.hasPrefix("< "), let (_, address) = Self.endpoint(in: text.dropFirst(2)),
            let close = text.firstIndex(of: "]"), let separator = text[close...].range(of: ": ")
        else { return false }
        let content = text[separator.upperBound...]
        if text.hasPrefix("> ") {
            let command = content.split(separator: " ", maxSplits: 1).first.map { $0.uppercased() } ?? ""
            pendingCommands[address, default: []].append(command)
        } else {
            // The last line of a reply: `NNN TEXT` or `NNN`; `NNN-TEXT` continues it.
            let characters = Array(content.prefix(4))
            guard characters.count == 3 || (characters.count == 4 && characters[3] != "-") else { return true }
            let pending = pendingCommands[address] ?? []
            if pending.isEmpty { chatGreetings += 1 }
            lastAnswered[address] = .some(pending.first)
            pendingCommands[address] = Array(pending.dropFirst())
        }
        return true
    }

    /// `hostReply(_:port:)` with a refusal's stage taken from the verbose chat: helo when the last
    /// reply from that server answered EHLO, HELO or LHLO.
    private func chatHostReply(_ text: Substring, port: UInt16) -> DeliveryAttempt? {
        guard var attempt = Self.hostReply(text, port: port) else { return nil }
        if attempt.stage == .greeting, let answered = lastAnswered[attempt.remoteAddress] ?? nil,
            ["EHLO", "HELO", "LHLO"].contains(answered)
        {
            attempt.stage = .helo
        }
        return attempt
    }

    /// A status line's `host NAME[ADDR] said: ...`, also after the `Protocol error: ` that smtp(8)
    /// puts before a server reply of neither class 4 nor 5, which it bounces with 5.5.0
    /// (smtp_trouble.c `vsmtp_fill_dsn`); true for the second.
    static func hostDetail(_ detail: String) -> (Substring, Bool)? {
        let protocolError = "Protocol error: "
        if detail.hasPrefix("host ") { return (Substring(detail), false) }
        if detail.hasPrefix(protocolError + "host ") { return (detail.dropFirst(protocolError.count), true) }
        return nil
    }

    /// `NAME[ADDR] said: 450 4.7.25 TEXT (in reply to RCPT TO command)` or
    /// `NAME[ADDR] refused to talk to me: 421 ...`.
    static func hostReply(_ text: Substring, port: UInt16) -> DeliveryAttempt? {
        guard let (host, address) = endpoint(in: text), let close = text.firstIndex(of: "]") else { return nil }
        let rest = text[text.index(after: close)...]
        let stage: SMTPStage
        var replyText: Substring
        if rest.hasPrefix(" said: ") {
            replyText = rest.dropFirst(" said: ".count)
            stage = Self.stage(inReplyTo: replyText)
            if let inReply = replyText.range(of: " (in reply to ", options: .backwards) {
                replyText = replyText[..<inReply.lowerBound]
            }
        } else if rest.hasPrefix(" refused to talk to me: ") {
            replyText = rest.dropFirst(" refused to talk to me: ".count)
            stage = .greeting
        } else {
            return nil
        }
        guard let reply = SMTPReply(logged: String(replyText)) else { return nil }
        return DeliveryAttempt(
            family: address.family, localAddress: nil, remoteAddress: address, remoteHost: host, port: port,
            stage: stage, reply: reply, result: reply.code >= 500 ? .rejected : .tempfailed, recipients: [])
    }

    /// "(in reply to RCPT TO command)" and friends (smtp_proto.c `xfer_request`).
    static func stage(inReplyTo text: Substring) -> SMTPStage {
        guard let range = text.range(of: "(in reply to ", options: .backwards) else { return .greeting }
        let command = text[range.upperBound...].uppercased()
        if command.hasPrefix("RCPT") { return .rcpt }
        if command.hasPrefix("MAIL") { return .mail }
        if command.hasPrefix("EHLO") || command.hasPrefix("HELO") || command.hasPrefix("LHLO") { return .helo }
        if command.hasPrefix("DATA") || command.hasPrefix("END OF DATA") || command.hasPrefix("END OF MESSAGE") {
            return .data
        }
        return .greeting
    }

    /// "while receiving the initial server greeting", "while sending RCPT TO", ...
    static func stage(while text: Substring) -> SMTPStage {
        let lower = text.lowercased()
        if lower.contains("greeting") { return .greeting }
        if lower.contains("ehlo") || lower.contains("helo") { return .helo }
        if lower.contains("mail from") { return .mail }
        if lower.contains("rcpt to") { return .rcpt }
        if lower.contains("data") || lower.contains("message content") { return .data }
        return .connect
    }

    /// `NAME[ADDR]` at the start of `text` (a `:PORT` after it is ignored).
    static func endpoint(in text: Substring) -> (String, IPAddress)? {
        guard let open = text.firstIndex(of: "["), let close = text[open...].firstIndex(of: "]") else { return nil }
        guard let address = IPAddress(String(text[text.index(after: open)..<close])) else { return nil }
        return (String(text[..<open]), address)
    }

    /// `name=value` fields separated by ", " up to `status=`.
    static func fields(_ text: Substring) -> [String: String] {
        var out: [String: String] = [:]
        var rest = text
        while !rest.isEmpty {
            guard let equals = rest.firstIndex(of: "=") else { break }
            let name = String(rest[..<equals]).trimmingCharacters(in: " ")
            let after = rest[rest.index(after: equals)...]
            if name == "status" {
                out[name] = String(after)
                break
            }
            let end = after.range(of: ", ")?.lowerBound ?? after.endIndex
            out[name] = String(after[..<end])
            rest = end == after.endIndex ? "" : after[after.index(end, offsetBy: 2)...]
        }
        return out
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}
