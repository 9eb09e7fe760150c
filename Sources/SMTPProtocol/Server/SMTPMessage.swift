/// A message as the server received it: the envelope and the dot-unstuffed content.
public struct SMTPMessage: Sendable, Hashable, Codable {
    /// The HELO/EHLO argument of the session.
    public var helo: String?
    /// The reverse path; empty for the null sender `<>`.
    public var reversePath: String
    /// The accepted forward paths, in order.
    public var recipients: [String]
    /// The content after dot-unstuffing (RFC 5321 4.5.2), each line ending in CRLF, without the final `.`.
    public var data: [UInt8]
    /// `BODY=8BITMIME` was given (RFC 6152).
    public var is8BitMIME: Bool
    /// The id given in `250 2.0.0 Ok: queued as ID`.
    public var queueID: String

    public init(
        helo: String?, reversePath: String, recipients: [String], data: [UInt8], is8BitMIME: Bool = false,
        queueID: String = ""
    ) {
        self.helo = helo
        self.reversePath = reversePath
        self.recipients = recipients
        self.data = data
        self.is8BitMIME = is8BitMIME
        self.queueID = queueID
    }

    /// The content as text (invalid UTF-8 replaced).
    public var text: String { String(decoding: data, as: UTF8.self) }
}

/// What the server asks its policy before it answers (connect, HELO/EHLO, MAIL, RCPT, end of DATA).
public enum SMTPPolicyQuestion: Sendable, Hashable {
    /// Before the greeting.
    case connect
    case helo(name: String, extended: Bool)
    case mail(reversePath: String, helo: String?)
    case rcpt(forwardPath: String, reversePath: String, helo: String?)
    /// After the final dot, with the whole message.
    case endOfData(SMTPMessage)

    public var stage: SMTPStage {
        switch self {
        case .connect: .greeting
        case .helo: .helo
        case .mail: .mail
        case .rcpt: .rcpt
        case .endOfData: .data
        }
    }
}

/// The policy's answer to an `SMTPPolicyQuestion`.
public enum SMTPPolicyVerdict: Sendable, Hashable {
    /// Carry on with the server's own reply (220 greeting, 250 for HELO, MAIL, RCPT, the message).
    case proceed
    /// Send this reply instead; `cause` names what produced it (a check name) for the decision record.
    case reply(SMTPReply, cause: String? = nil)
    /// Send this reply and close the connection.
    case replyAndClose(SMTPReply, cause: String? = nil)
}

/// One reply the server sends, with what it answered and why.
public struct SMTPServerReply: Sendable, Hashable {
    public var reply: SMTPReply
    /// The stage it belongs to; nil for RSET, NOOP, VRFY, QUIT and unrecognised commands.
    public var stage: SMTPStage?
    /// The command line it answers (`<message: N bytes>` for end of data), nil for unsolicited replies.
    public var command: String?
    /// A policy check, or a limit such as `limit:recipients`, `bare-lf`, `timeout`; nil for ordinary replies.
    public var cause: String?

    public init(reply: SMTPReply, stage: SMTPStage?, command: String?, cause: String? = nil) {
        self.reply = reply
        self.stage = stage
        self.command = command
        self.cause = cause
    }
}
