/// STARTTLS (RFC 3207) as Postfix's smtpd answers it (postfix-3.7.11 src/smtpd/smtpd.c
/// `starttls_cmd`, `smtpd_start_tls` and the command loop's `smtpd_tls_security_level = encrypt`
/// check).
extension SMTPServerSession {
    /// Commands smtpd accepts before TLS when TLS is required (`SMTPD_CMD_FLAG_PRE_TLS`).
    static let preTLSVerbs: Set<String> = ["EHLO", "HELO", "XCLIENT", "STARTTLS", "NOOP", "QUIT"]
    /// Every command in smtpd's table: an unknown one gets `500 ... command not recognized` first.
    static let knownVerbs: Set<String> = [
        "EHLO", "HELO", "XCLIENT", "XFORWARD", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", "BDAT", "RSET",
        "NOOP", "VRFY", "ETRN", "QUIT",
    ]

    /// `530 5.7.0 Must issue a STARTTLS command first` for a known command that needs TLS while
    /// there is none and the server requires it; nil otherwise.
    func tlsRequiredError(verb: String) -> SMTPReply? {
        guard settings.tls?.required == true, tls == nil, Self.knownVerbs.contains(verb),
            !Self.preTLSVerbs.contains(verb)
        else { return nil }
        return SMTPReply(code: 530, enhanced: "5.7.0", "Must issue a STARTTLS command first")
    }

    mutating func startTLS(_ text: String) {
        guard tls == nil else {
            return send(SMTPReply(code: 554, enhanced: "5.5.1", "Error: TLS already active"), stage: nil, command: text)
        }
        guard let settings = settings.tls else {
            return send(
                SMTPReply(code: 502, enhanced: "5.5.1", "Error: command not implemented"), stage: nil, command: text)
        }
        send(SMTPReply(code: 220, enhanced: "2.0.0", "Ready to start TLS"), stage: nil, command: text)
        // "At this point there must not be any pending plaintext": vstream_fpurge(VSTREAM_PURGE_BOTH).
        let discarded = pendingBytes
        pending.removeAll()
        pendingBytes = 0
        // helo_reset(), mail_reset(), rcpt_reset(): RFC 3207 section 4.2, the client starts again with EHLO.
        helo = nil
        transaction = nil
        body = Body()
        state = .tlsHandshake
        // smtpd_starttls_timeout runs for the handshake.
        timerArmed = true
        timerGeneration &+= 1
        handshakeTimeout = settings.handshakeTimeout
        emit(.startTLS(discardedBytes: discarded))
    }

    @usableFromInline
    mutating func tlsEstablished(_ facts: TLSSessionFacts) -> Action {
        guard case .tlsHandshake = state else { return nextAction() }
        tls = facts
        state = .commands
        timerArmed = false
        return nextAction()
    }

    @usableFromInline
    mutating func tlsFailed(_ reason: String) -> Action {
        if case .tlsHandshake = state { closeQuietly(cause: "tls:\(reason)") }
        return nextAction()
    }
}
