/// STARTTLS on a server (RFC 3207), as Postfix's smtpd offers it.
public struct SMTPServerTLSSettings: Sendable, Hashable {
    /// Every command but EHLO, HELO, STARTTLS, NOOP, XCLIENT and QUIT is refused before TLS with
    /// `530 5.7.0 Must issue a STARTTLS command first` (`smtpd_tls_security_level = encrypt`).
    public var required: Bool
    /// How long the TLS handshake may take (Postfix `smtpd_starttls_timeout`, default 300s).
    public var handshakeTimeout: Duration

    public init(required: Bool = false, handshakeTimeout: Duration = .seconds(300)) {
        self.required = required
        self.handshakeTimeout = handshakeTimeout
    }
}
