/// The words every part of mxharness uses for how mail fared: the sender's model and the real
/// senders produce them, a scenario's `expect` is written in them, and the runner, reports and
/// matrix show them. `SMTPStage` (where a reply came) and `AddressFamily` (in DNSCore) complete
/// the vocabulary.

/// How a delivery ended, as the sending MTA records it (`expect.outcome`).
public enum DeliveryOutcome: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    case delivered
    case bounced
    case deferred

    public var description: String { rawValue }
}

/// How one attempt, or one SMTP session, ended (`expect.attempts[].result`).
public enum AttemptResult: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    /// The server took the message (2xx to the final dot) or the recipient (2xx to RCPT).
    case accepted
    /// A 5xx reply, or a reply of a class that makes no sense at that point (Postfix: "Protocol
    /// error", 5.5.0).
    case rejected
    /// A 4xx reply, or a session that broke after connecting: timeout, lost connection, malformed
    /// reply.
    case tempfailed
    /// No SMTP session: refused, timed out, no route. Never the result of a session itself.
    case unreachable

    public var description: String { rawValue }
}
