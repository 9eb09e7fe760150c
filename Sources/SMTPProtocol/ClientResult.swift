/// One line of a client session's transcript.
public struct SMTPClientTranscriptLine: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Direction: String, Sendable, Hashable, Codable {
        /// Sent by the client.
        case client
        /// Received from the server.
        case server
        /// A remark of the client's (connection events, fallbacks, timeouts).
        case note
    }

    /// Seconds since the start of the delivery (or of the session, for a bare state machine).
    public var offset: Double
    public var direction: Direction
    public var text: String

    public init(offset: Double, direction: Direction, text: String) {
        self.offset = offset
        self.direction = direction
        self.text = text
    }

    /// swaks style: `<- ` for the server, ` -> ` for the client, `=== ` for notes.
    public var description: String {
        switch direction {
        case .server: "<- \(text)"
        case .client: " -> \(text)"
        case .note: "=== \(text)"
        }
    }
}

/// What became of one recipient in one SMTP session.
public struct SMTPClientRecipientStatus: Sendable, Hashable, Codable {
    public var address: String
    /// The reply to `RCPT TO`, nil when the session ended before it.
    public var rcptReply: SMTPReply?
    /// accepted: the message was taken for this recipient; rejected: it must bounce;
    /// tempfailed: it may be tried at another address.
    public var outcome: AttemptResult
    /// Where its fate was decided.
    public var stage: SMTPStage
    /// The reply that decided it; nil when the connection broke or timed out.
    public var reply: SMTPReply?

    public init(address: String, rcptReply: SMTPReply?, outcome: AttemptResult, stage: SMTPStage, reply: SMTPReply?) {
        self.address = address
        self.rcptReply = rcptReply
        self.outcome = outcome
        self.stage = stage
        self.reply = reply
    }
}

/// The end of one SMTP session (one mail transaction).
public struct SMTPClientResult: Sendable, Hashable, Codable {
    /// By the class of `reply`; tempfailed when there was no reply.
    public var outcome: AttemptResult
    /// Where the deciding reply came (or where the session broke).
    public var stage: SMTPStage
    /// The deciding reply: the one that ended the session, or with no recipient accepted the
    /// reply to the first `RCPT TO`.
    public var reply: SMTPReply?
    /// Timeout, lost connection or malformed reply, in words.
    public var error: String?
    /// Per recipient, in envelope order.
    public var recipients: [SMTPClientRecipientStatus]
    /// EHLO keywords the server announced (upper case, without parameters).
    public var extensions: [String]
    /// True when the client fell back from EHLO to HELO.
    public var usedHELO: Bool
    /// The session's TLS; nil when it ran in plaintext.
    public var tls: TLSSessionFacts?

    public init(
        outcome: AttemptResult, stage: SMTPStage, reply: SMTPReply?, error: String? = nil,
        recipients: [SMTPClientRecipientStatus], extensions: [String] = [], usedHELO: Bool = false,
        tls: TLSSessionFacts? = nil
    ) {
        self.tls = tls
        self.outcome = outcome
        self.stage = stage
        self.reply = reply
        self.error = error
        self.recipients = recipients
        self.extensions = extensions
        self.usedHELO = usedHELO
    }
}
