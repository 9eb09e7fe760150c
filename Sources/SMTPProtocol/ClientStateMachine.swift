/// One SMTP session of a sending MTA as a pure state machine, after Postfix's smtp(8):
/// greeting, EHLO (HELO when EHLO is refused), MAIL FROM, one RCPT TO per recipient, DATA,
/// the dot-stuffed message, QUIT. Commands go one at a time (no PIPELINING), so every reply
/// belongs to exactly one command.
///
/// The driver feeds events with the time they happened (seconds since a start of its choice)
/// and carries out the returned action: after `.send` and `.wait` it reads (with the reply timer
/// running), after `.close` it closes the connection, and `result` is final.
public struct SMTPClientStateMachine: Sendable {
    public enum Event: Sendable, Hashable {
        /// The TCP connection is up; the greeting is next.
        case connected
        /// One line from the server, without its CRLF.
        case line(String)
        /// No complete reply within the reply timeout.
        case timedOut
        /// The server closed the connection.
        case closed
        /// A read or write failed.
        case failed(String)
        /// The TLS handshake after `.startTLS` succeeded; `failure` is why the certificate is not
        /// trusted or not matched, as Postfix logs it (nil when it is).
        case tlsEstablished(TLSSessionFacts, failure: String?)
        /// The TLS handshake after `.startTLS` failed (an alert, a protocol mismatch, the peer closed).
        case tlsFailed(String)
    }

    public enum Action: Sendable, Hashable {
        /// Keep reading.
        case wait
        /// Write these bytes, then read the reply.
        case send([UInt8])
        /// Start the TLS handshake now (the server said 220 to STARTTLS; RFC 3207 section 4.2:
        /// drop whatever else was read), then report `.tlsEstablished` or `.tlsFailed`.
        case startTLS
        /// Close the connection; the session is over.
        case close
    }

    private enum State: Sendable, Hashable {
        case connecting
        case greeting
        case ehlo
        case helo
        case xclient
        case starttls
        case handshake
        case mail
        case rcpt(Int)
        case data
        case message
        case quit
        case done
    }

    public let configuration: SMTPClientConfiguration
    public private(set) var transcript: [SMTPClientTranscriptLine] = []
    /// Set once the session's outcome is known (possibly before QUIT is answered).
    public private(set) var result: SMTPClientResult?

    private var state: State = .connecting
    private var parser = ReplyParser()
    private var rcptReplies: [SMTPReply?]
    private var decided: [SMTPClientRecipientStatus?]
    private var extensions: [String] = []
    private var usedHELO = false
    private var sentXCLIENT = false
    /// The session's TLS once the handshake succeeded.
    public private(set) var tls: TLSSessionFacts?

    public init(configuration: SMTPClientConfiguration) {
        self.configuration = configuration
        self.rcptReplies = Array(repeating: nil, count: configuration.recipients.count)
        self.decided = Array(repeating: nil, count: configuration.recipients.count)
    }

    public var isFinished: Bool { state == .done }

    public mutating func event(_ event: Event, at offset: Double) -> Action {
        switch event {
        case .connected:
            guard state == .connecting else { return .wait }
            state = .greeting
            if let text = configuration.preambleNote { note(text, at: offset) }
            if let preamble = configuration.preamble { return .send(preamble) }
            return .wait

        case .line(let text):
            transcript.append(.init(offset: offset, direction: .server, text: text))
            if state == .connecting { state = .greeting }
            guard state != .done else { return .wait }
            let reply: SMTPReply
            do {
                guard let complete = try parser.feed(text) else { return .wait }
                reply = complete
            } catch {
                if state == .quit { return finishQuietly() }
                return breakOff(error: "\(error)", at: offset)
            }
            return handle(reply, at: offset)

        case .timedOut:
            guard state != .done else { return .close }
            if state == .quit { return finishQuietly() }
            // smtp_starttls_timeout: tls_client_start() gives up like any failed handshake.
            if state == .handshake { return handshakeFailed("timeout", at: offset) }
            return breakOff(error: "conversation timed out while \(activity)", at: offset)

        case .closed:
            guard state != .done else { return .close }
            if state == .quit { return finishQuietly() }
            if state == .handshake { return handshakeFailed("lost connection", at: offset) }
            if state == .greeting || state == .connecting {
                return breakOff(
                    error: "server dropped connection without sending the initial SMTP greeting", at: offset)
            }
            return breakOff(error: "lost connection while \(activity)", at: offset)

        case .failed(let message):
            guard state != .done else { return .close }
            if state == .quit { return finishQuietly() }
            if state == .handshake { return handshakeFailed(message, at: offset) }
            return breakOff(error: "\(message) while \(activity)", at: offset)

        case .tlsEstablished(let facts, let failure):
            guard state == .handshake else { return .wait }
            return tlsEstablished(facts, failure: failure, at: offset)

        case .tlsFailed(let reason):
            guard state == .handshake else { return .wait }
            return handshakeFailed(reason, at: offset)
        }
    }

    // MARK: replies

    private mutating func handle(_ reply: SMTPReply, at offset: Double) -> Action {
        switch state {
        case .connecting, .done, .handshake:
            return .wait

        case .greeting:
            if reply.code / 100 == 2 { return sendEHLO(at: offset) }
            if reply.isPermanentFailure && configuration.skip5xxGreeting {
                // smtp_proto.c smtp_helo(): with smtp_skip_5xx_greeting the reply is handled as 4xx.
                note("5xx greeting: trying the next address, as with smtp_skip_5xx_greeting = yes", at: offset)
                return fail(.greeting, reply: reply, recipientOutcome: .tempfailed, at: offset)
            }
            return fail(.greeting, reply: reply, at: offset)

        case .ehlo:
            if reply.code / 100 == 2 {
                extensions = Self.keywords(of: reply)
                return afterEHLO(at: offset)
            }
            if reply.code == 421 { return fail(.helo, reply: reply, at: offset) }
            // smtp_proto.c smtp_helo(): any EHLO reply but 2xx and 421 turns ESMTP off and sends HELO.
            note("EHLO refused: falling back to HELO", at: offset)
            usedHELO = true
            state = .helo
            return send("HELO \(Self.clean(configuration.helo))", at: offset)

        case .helo:
            if reply.code / 100 == 2 { return afterEHLO(at: offset) }
            return fail(.helo, reply: reply, at: offset)

        case .starttls:
            if reply.code / 100 == 2 {
                state = .handshake
                return .startTLS
            }
            if configuration.tlsLevel.requiresTLS {
                // smtp_proto.c: the server's own reply decides, so a 5xx here bounces.
                var error = "TLS is required, but host \(peer) refused to start TLS: \(reply.text)"
                error = error.replacingNewlines
                note(error, at: offset)
                return fail(.helo, reply: reply, error: error, at: offset)
            }
            // "Else try to continue in plain-text mode": MAIL follows, without another EHLO.
            note("STARTTLS refused: continuing in plaintext", at: offset)
            return afterHello(at: offset)

        case .xclient:
            // Postfix XCLIENT_README: on success the server answers with its greeting, as to a new
            // connection, and the client says EHLO again; a greeting-time refusal (554, 421)
            // comes in its place. Any other reply refuses XCLIENT itself (501, 503, 550).
            if reply.code == 220 || reply.code == 554 || reply.code == 421 {
                state = .greeting
                return handle(reply, at: offset)
            }
            return fail(.helo, reply: reply, at: offset)

        case .mail:
            if reply.code / 100 == 2 { return sendRCPT(0, at: offset) }
            return fail(.mail, reply: reply, at: offset)

        case .rcpt(let index):
            guard index < configuration.recipients.count else { return fail(.rcpt, reply: reply, at: offset) }
            rcptReplies[index] = reply
            if reply.code == 421 {
                // The server is closing the session (RFC 5321 3.8): nothing after this counts.
                return fail(.rcpt, reply: reply, at: offset)
            }
            if reply.code / 100 != 2 {
                decided[index] = SMTPClientRecipientStatus(
                    address: configuration.recipients[index], rcptReply: reply,
                    outcome: Self.outcome(of: reply), stage: .rcpt, reply: reply)
            }
            if index + 1 < configuration.recipients.count { return sendRCPT(index + 1, at: offset) }
            if rcptReplies.contains(where: { $0?.code ?? 0 >= 200 && $0?.code ?? 0 < 300 }) {
                state = .data
                return send("DATA", at: offset)
            }
            // No recipient accepted: the first one's reply decides the session.
            let first = rcptReplies.first.flatMap { $0 } ?? reply
            return fail(.rcpt, reply: first, at: offset)

        case .data:
            if reply.code / 100 == 3 {
                state = .message
                if let raw = configuration.rawData {
                    transcript.append(
                        .init(
                            offset: offset, direction: .client, text: "<raw data: \(raw.count) bytes, sent as written>")
                    )
                    return .send(raw)
                }
                let size = ClientMessage.measure(configuration.message)
                transcript.append(
                    .init(
                        offset: offset, direction: .client, text: "<message: \(size.lines) lines, \(size.octets) bytes>"
                    ))
                transcript.append(.init(offset: offset, direction: .client, text: "."))
                return .send(ClientMessage.dataPayload(configuration.message))
            }
            return fail(.data, reply: reply, at: offset)

        case .message:
            if reply.code / 100 == 2 {
                finish(.data, reply: reply, outcome: .accepted, recipientOutcome: .accepted, error: nil)
                state = .quit
                return send("QUIT", at: offset)
            }
            return fail(.data, reply: reply, at: offset)

        case .quit:
            // Data sent as written may hold commands of its own (SMTP smuggling): the server then
            // answers those before QUIT. Their replies are read, not taken for QUIT's, so the
            // connection is not closed under input the server has still to read (a close with
            // unread replies resets it, and the server may lose what it had not read yet).
            if configuration.rawData != nil, reply.code != 221 { return .wait }
            return finishQuietly()
        }
    }

    // MARK: commands

    private mutating func sendEHLO(at offset: Double) -> Action {
        state = .ehlo
        return send("EHLO \(Self.clean(configuration.helo))", at: offset)
    }

    /// After EHLO or HELO: STARTTLS when the level and the server allow it (smtp_proto.c
    /// smtp_helo()); TLS required and not offered fails with 4.7.4; else on to XCLIENT or MAIL.
    private mutating func afterEHLO(at offset: Double) -> Action {
        let level = configuration.tlsLevel
        guard tls == nil, level >= .may else { return afterHello(at: offset) }
        if extensions.contains("STARTTLS") {
            state = .starttls
            return send("STARTTLS", at: offset)
        }
        if level.requiresTLS {
            return localFailure("4.7.4", "TLS is required, but was not offered by host \(peer)", at: offset, quit: true)
        }
        return afterHello(at: offset)
    }

    /// The handshake succeeded: Postfix's "... TLS connection established" line; a level that must
    /// match and a certificate that does not defers with 4.7.5 (the session is usable, so QUIT
    /// goes out over TLS); otherwise EHLO again (RFC 3207 section 4.2).
    private mutating func tlsEstablished(_ facts: TLSSessionFacts, failure: String?, at offset: Double) -> Action {
        tls = facts
        if configuration.tlsLevel.mustMatch, let failure {
            // tls_verify.c logs chain faults and name mismatches only at levels that must match.
            let prefix =
                failure.hasPrefix("num=")
                ? "server certificate verification failed for" : "certificate verification failed for"
            note("\(prefix) \(peer):\(configuration.peerPort): \(failure)", at: offset)
        }
        let trust = facts.trust ?? .untrusted
        note("\(trust) TLS connection established to \(peer):\(configuration.peerPort): \(facts)", at: offset)
        if configuration.tlsLevel.mustMatch, trust != .verified {
            return localFailure("4.7.5", "Server certificate not verified", at: offset, quit: true)
        }
        extensions = []
        return sendEHLO(at: offset)
    }

    /// smtp_proto.c: "Cannot start TLS: handshake failure" (4.7.5); the connection is in an
    /// unknown state and is dropped without QUIT. With `may` Postfix tries the same address in
    /// plaintext only for a message that waited `minimal_backoff_time` in the queue, never on a
    /// message's first attempt, which is the attempt a case makes.
    private mutating func handshakeFailed(_ reason: String, at offset: Double) -> Action {
        note("SSL_connect error to \(peer):\(configuration.peerPort): \(reason)", at: offset)
        return localFailure("4.7.5", "Cannot start TLS: handshake failure", at: offset, quit: false)
    }

    /// A failure of the client's own (Postfix's `SMTP_RESP_FAKE`): no server reply, the DSN and
    /// Postfix's reason as a made-up 451 reply; temporary, so the next address is tried.
    private mutating func localFailure(_ dsn: String, _ text: String, at offset: Double, quit: Bool) -> Action {
        note(text, at: offset)
        let reply = SMTPReply(code: 451, enhanced: dsn, text)
        finish(.helo, reply: reply, outcome: .tempfailed, recipientOutcome: .tempfailed, error: text)
        guard quit else {
            state = .done
            return .close
        }
        state = .quit
        return send("QUIT", at: offset)
    }

    /// `host[address]` as Postfix names the server (`session->namaddr`).
    private var peer: String { configuration.peerName ?? "the server" }

    /// After EHLO or HELO: XCLIENT once when configured, else MAIL.
    private mutating func afterHello(at offset: Double) -> Action {
        guard let line = configuration.xclientLine, !sentXCLIENT else { return sendMAIL(at: offset) }
        sentXCLIENT = true
        state = .xclient
        return send(line, at: offset)
    }

    private mutating func sendMAIL(at offset: Double) -> Action {
        state = .mail
        var command = "MAIL FROM:<\(Self.clean(Self.unbracketed(configuration.mailFrom)))>"
        if extensions.contains("SIZE") {
            command += " SIZE=\(configuration.rawData?.count ?? ClientMessage.measure(configuration.message).octets)"
        }
        if extensions.contains("8BITMIME"), ClientMessage.has8BitContent(configuration.rawData ?? configuration.message)
        {
            command += " BODY=8BITMIME"
        }
        return send(command, at: offset)
    }

    private mutating func sendRCPT(_ index: Int, at offset: Double) -> Action {
        guard index < configuration.recipients.count else {
            // An envelope without recipients: nothing can be delivered.
            return breakOff(error: "no recipients to send", at: offset)
        }
        state = .rcpt(index)
        return send("RCPT TO:<\(Self.clean(Self.unbracketed(configuration.recipients[index])))>", at: offset)
    }

    private mutating func send(_ command: String, at offset: Double) -> Action {
        transcript.append(.init(offset: offset, direction: .client, text: command))
        return .send(Array((command + "\r\n").utf8))
    }

    private mutating func note(_ text: String, at offset: Double) {
        transcript.append(.init(offset: offset, direction: .note, text: text))
    }

    // MARK: endings

    /// The deciding reply ended the session: every recipient still open shares its fate, then QUIT
    /// (except after 421, when the server is closing the connection itself).
    private mutating func fail(
        _ stage: SMTPStage, reply: SMTPReply, recipientOutcome: AttemptResult? = nil, error: String? = nil,
        at offset: Double
    ) -> Action {
        let outcome = Self.outcome(of: reply)
        var error = error
        if reply.code / 100 == 2 || reply.code / 100 == 3 {
            error = "protocol error: unexpected \(reply.code) reply at \(stage)"
        }
        finish(stage, reply: reply, outcome: outcome, recipientOutcome: recipientOutcome ?? outcome, error: error)
        if reply.code == 421 {
            state = .done
            return .close
        }
        state = .quit
        return send("QUIT", at: offset)
    }

    /// The connection broke or the server talked nonsense: no reply decides, every open
    /// recipient may be tried elsewhere.
    private mutating func breakOff(error: String, at offset: Double) -> Action {
        note(error, at: offset)
        finish(currentStage, reply: nil, outcome: .tempfailed, recipientOutcome: .tempfailed, error: error)
        state = .done
        return .close
    }

    private mutating func finishQuietly() -> Action {
        state = .done
        return .close
    }

    private mutating func finish(
        _ stage: SMTPStage, reply: SMTPReply?, outcome: AttemptResult, recipientOutcome: AttemptResult, error: String?
    ) {
        var statuses: [SMTPClientRecipientStatus] = []
        for (index, address) in configuration.recipients.enumerated() {
            if let status = decided[index] {
                statuses.append(status)
            } else {
                statuses.append(
                    SMTPClientRecipientStatus(
                        address: address, rcptReply: rcptReplies[index], outcome: recipientOutcome, stage: stage,
                        reply: reply))
            }
        }
        result = SMTPClientResult(
            outcome: outcome, stage: stage, reply: reply, error: error,
            recipients: statuses, extensions: extensions, usedHELO: usedHELO, tls: tls)
    }

    private var currentStage: SMTPStage {
        switch state {
        case .connecting, .greeting: .greeting
        case .ehlo, .helo, .xclient, .starttls, .handshake: .helo
        case .mail: .mail
        case .rcpt: .rcpt
        case .data, .message, .quit, .done: .data
        }
    }

    /// Postfix's wording for where a session broke ("... while receiving the initial server greeting").
    private var activity: String {
        switch state {
        case .connecting, .greeting: "receiving the initial server greeting"
        case .ehlo: "performing the EHLO handshake"
        case .helo: "performing the HELO handshake"
        case .xclient: "sending XCLIENT"
        case .starttls: "receiving the STARTTLS response"
        case .handshake: "performing the TLS handshake"
        case .mail: "sending MAIL FROM"
        case .rcpt: "sending RCPT TO"
        case .data: "sending DATA command"
        case .message: "sending end of data -- message may be sent more than once"
        case .quit, .done: "sending QUIT"
        }
    }

    // MARK: helpers

    static func outcome(of reply: SMTPReply) -> AttemptResult {
        switch reply.code / 100 {
        case 4: .tempfailed
        default: .rejected
        }
    }

    /// EHLO keywords from the second line on (RFC 5321 4.1.1.1), upper-cased, parameters dropped.
    static func keywords(of reply: SMTPReply) -> [String] {
        reply.lines.dropFirst().compactMap { line in
            line.split(whereSeparator: { $0 == " " || $0 == "=" }).first.map { $0.uppercased() }
        }
    }

    /// CR and LF in an argument would end the command early and inject another one.
    static func clean(_ argument: String) -> String {
        String(argument.unicodeScalars.filter { $0 != "\r" && $0 != "\n" })
    }

    static func unbracketed(_ address: String) -> String {
        var text = Substring(address.trimmingSpaces)
        if text.hasPrefix("<") && text.hasSuffix(">") && text.count >= 2 {
            text = text.dropFirst().dropLast()
        }
        return String(text)
    }
}

extension String {
    /// smtp_proto.c `translit(resp->str, "\n", " ")`.
    fileprivate var replacingNewlines: String {
        String(map { $0 == "\n" || $0 == "\r\n" ? " " : $0 })
    }

    fileprivate var trimmingSpaces: String {
        var slice = Substring(self)
        while slice.first == " " { slice = slice.dropFirst() }
        while slice.last == " " { slice = slice.dropLast() }
        return String(slice)
    }
}
