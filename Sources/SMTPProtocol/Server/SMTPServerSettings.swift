/// What every session of one server shares: its name, its limits and what a bare `<LF>` does.
public final class SMTPServerSettings: Sendable {
    public let hostname: String
    public let limits: SMTPServerLimits
    /// What a line ending in a bare `<LF>` does (Postfix `smtpd_forbid_bare_newline`).
    public let bareNewline: SMTPBareNewlineMode
    /// The PROXY header and XCLIENT.
    public let identity: SMTPIdentitySettings
    /// STARTTLS offered (and maybe required); nil: not offered (`502 5.5.1` to STARTTLS).
    public let tls: SMTPServerTLSSettings?

    public init(
        hostname: String, limits: SMTPServerLimits = .init(), bareNewline: SMTPBareNewlineMode = .normalize,
        identity: SMTPIdentitySettings = .init(), tls: SMTPServerTLSSettings? = nil
    ) {
        self.tls = tls
        self.identity = identity
        self.hostname = hostname
        self.limits = limits
        self.bareNewline = bareNewline
    }
}
