/// The limits an SMTP server session enforces. Defaults follow RFC 5321 4.5.3.1 and Postfix's
/// `smtpd(8)` defaults where the RFC sets none.
public struct SMTPServerLimits: Sendable, Hashable, Codable {
    /// A command line, CRLF included (RFC 5321 4.5.3.1.4: 512; 1000 is what the brief and most
    /// servers accept, which also covers ESMTP parameters, RFC 5321 4.5.3.1.4 last paragraph).
    public var commandLineLength: Int
    /// A text line of the message, CRLF included (RFC 5321 4.5.3.1.6).
    public var textLineLength: Int
    /// The largest message accepted, after dot-unstuffing, in bytes (announced with SIZE, RFC 1870;
    /// Postfix `message_size_limit`).
    public var messageSize: Int
    /// Recipients per message (RFC 5321 4.5.3.1.8 asks for at least 100; Postfix `smtpd_recipient_limit`).
    public var recipients: Int
    /// How long the server waits for the next command or text line (RFC 5321 4.5.3.2.7 suggests
    /// 5 minutes; Postfix `smtpd_timeout`).
    public var commandTimeout: Duration
    /// Errors (4xx/5xx replies) a session may collect before it is closed with 421
    /// (Postfix `smtpd_hard_error_limit`).
    public var errors: Int
    /// Input bytes held while the server waits for a policy verdict; a client that pipelines more
    /// than this is disconnected.
    public var pendingInput: Int

    public init(
        commandLineLength: Int = 1000, textLineLength: Int = 1000, messageSize: Int = 10_240_000,
        recipients: Int = 1000, commandTimeout: Duration = .seconds(300), errors: Int = 20,
        pendingInput: Int = 4 << 20
    ) {
        self.commandLineLength = commandLineLength
        self.textLineLength = textLineLength
        self.messageSize = messageSize
        self.recipients = recipients
        self.commandTimeout = commandTimeout
        self.errors = errors
        self.pendingInput = pendingInput
    }

    /// The longest line the framer keeps, terminator included (a text line may carry one more
    /// octet, the transparency dot of RFC 5321 4.5.2).
    public var frameLength: Int { max(commandLineLength, textLineLength + 1) }
}
