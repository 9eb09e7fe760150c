/// What every session of one server shares: its name, its limits and the replies made of them,
/// made once instead of per session.
public final class SMTPServerSettings: Sendable {
    public let hostname: String
    public let limits: SMTPServerLimits
    /// `220 <hostname> ESMTP`.
    let greeting: SMTPReply
    /// The EHLO reply with the extensions served (RFC 2920 PIPELINING, RFC 1870 SIZE,
    /// RFC 6152 8BITMIME, RFC 2034 ENHANCEDSTATUSCODES).
    let ehloReply: SMTPReply
    let heloReply: SMTPReply
    /// What a line ending in a bare `<LF>` does (Postfix `smtpd_forbid_bare_newline`).
    public let bareNewline: SMTPBareNewlineMode
    /// The PROXY header and XCLIENT.
    public let identity: SMTPIdentitySettings
    /// The EHLO reply to a client allowed to send XCLIENT: it lists XCLIENT last (Postfix lists it
    /// after the extensions served here).
    let ehloXCLIENTReply: SMTPReply

    public init(
        hostname: String, limits: SMTPServerLimits = .init(), bareNewline: SMTPBareNewlineMode = .normalize,
        identity: SMTPIdentitySettings = .init()
    ) {
        self.identity = identity
        self.ehloXCLIENTReply = SMTPReply(code: 250, lines: [hostname, "PIPELINING", "SIZE \(limits.messageSize)", "8BITMIME", "ENHANCEDSTATUSCODES", XCLIENTCommand.ehloKeyword])
        self.hostname = hostname
        self.limits = limits
        self.bareNewline = bareNewline
        self.greeting = SMTPReply(code: 220, lines: ["\(hostname) ESMTP"])
        self.ehloReply = SMTPReply(code: 250, lines: [hostname, "PIPELINING", "SIZE \(limits.messageSize)", "8BITMIME", "ENHANCEDSTATUSCODES"])
        self.heloReply = SMTPReply(code: 250, lines: [hostname])
    }
}
