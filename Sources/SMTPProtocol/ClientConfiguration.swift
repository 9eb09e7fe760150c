/// What the client sends in one session.
public struct SMTPClientConfiguration: Sendable, Hashable {
    /// The EHLO/HELO argument, sent as written.
    public var helo: String
    /// Envelope sender without angle brackets; empty for the null sender `<>`.
    public var mailFrom: String
    public var recipients: [String]
    /// The full RFC 5322 message, CRLF or LF line endings.
    public var message: [UInt8]
    /// Postfix's `smtp_skip_5xx_greeting` (default yes): a 5xx greeting counts as a temporary
    /// failure of this server, so the next address is tried and the mail is deferred, not bounced.
    public var skip5xxGreeting: Bool
    /// When set, what is sent after the 354 reply, byte for byte: no line ending is changed, no
    /// dot is added (RFC 5321 4.5.2) and no end-of-data line follows; the bytes carry their own.
    /// `message` is then not sent. For SMTP-smuggling tests (bare <LF>, bare <CR>, NUL before
    /// the dot).
    public var rawData: [UInt8]?
    /// Written as soon as the connection is up, before the greeting is read: a PROXY header
    /// (`ProxyHeader.v1`/`v2`).
    public var preamble: [UInt8]?
    /// Noted in the transcript when the connection is up (what `preamble` is, who connected).
    public var preambleNote: String?
    /// Sent once after the first successful EHLO/HELO: `XCLIENT ADDR=... [NAME=...]`
    /// (`XCLIENTCommand.line`). Its 220 reply is a new greeting, answered with EHLO again.
    public var xclientLine: String?
    /// Postfix's `smtp_tls_security_level` for this session.
    public var tlsLevel: TLSSecurityLevel = .none
    /// `host[address]`, the server as Postfix's messages name it; nil: "the server".
    public var peerName: String?
    /// The server's port, for the TLS lines (`... established to host[address]:25`).
    public var peerPort: UInt16 = 25

    public init(
        helo: String, mailFrom: String, recipients: [String], message: [UInt8], skip5xxGreeting: Bool = true,
        rawData: [UInt8]? = nil
    ) {
        self.helo = helo
        self.mailFrom = mailFrom
        self.recipients = recipients
        self.message = message
        self.skip5xxGreeting = skip5xxGreeting
        self.rawData = rawData
    }
}
