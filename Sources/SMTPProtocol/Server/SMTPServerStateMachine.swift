/// What the handler does next, as told by `SMTPServerStateMachine`.
public enum SMTPServerAction: Sendable, Hashable {
    /// Write this reply.
    case send(SMTPServerReply)
    /// A PROXY header or XCLIENT named the client: every later question is about it.
    case identified(SMTPClientIdentity)
    /// Ask the policy and call `verdict(_:)` with its answer; input is buffered meanwhile.
    case askPolicy(SMTPPolicyQuestion)
    /// A message was accepted (its 250 reply follows as the next action).
    case accept(SMTPMessage)
    /// STARTTLS was accepted: flush what was written (its 220 goes out in plaintext), drop every
    /// byte read and not yet handled (RFC 3207 section 4.2; `discardedBytes` the machine itself
    /// held), and start the TLS handshake; then call `tlsEstablished(_:)` or `tlsFailed(_:)`.
    case startTLS(discardedBytes: Int)
    /// Flush what was written and close the connection. Nothing follows.
    case close
    /// Nothing to do until more input, a verdict or the deadline.
    case wait
}

/// The server side of an RFC 5321 session as a pure state machine: lines in, actions out, no I/O.
///
/// The handler feeds events (`connected()`, `received(_:)`, `verdict(_:)`, `timeoutFired()`), each
/// of which returns the first action; it then calls `nextAction()` until it gets `.wait` or `.close`.
/// Lines that arrive while a policy verdict is pending are queued and processed in order once the
/// verdict is in (RFC 2920 pipelining); replies may be written in one batch at `.wait`.
///
/// The command timeout runs against `C`, so tests drive it with a manual clock: `deadline` is when
/// the handler should call `timeoutFired()`. Only the deadline depends on `C`: the protocol itself
/// is `SMTPServerSession`, which knows no clock. The events are `@inlinable` so that a handler in
/// another module calls them specialised for its clock, not through generic code at every line.
public struct SMTPServerStateMachine<C: Clock>: Sendable where C.Duration == Duration {
    public typealias Action = SMTPServerAction

    @usableFromInline var session: SMTPServerSession
    public let clock: C
    @usableFromInline var currentDeadline: C.Instant?
    /// The `SMTPServerSession.timerGeneration` `currentDeadline` was computed for.
    @usableFromInline var deadlineGeneration = 0

    /// `keepsText: false` checks and counts the message text (size, line length, bare LF) but
    /// does not keep it: `SMTPMessage.data` is empty, for a server that would drop it anyway.
    public init(
        hostname: String, limits: SMTPServerLimits = .init(), bareNewline: SMTPBareNewlineMode = .normalize, clock: C,
        queuePrefix: String = "Q", keepsText: Bool = true
    ) {
        self.init(
            settings: SMTPServerSettings(hostname: hostname, limits: limits, bareNewline: bareNewline), clock: clock,
            queuePrefix: queuePrefix, keepsText: keepsText)
    }

    /// A session with `settings` shared by every session of one server.
    /// `client`: the peer's address (4 or 16 bytes), which XCLIENT authorisation looks at.
    public init(
        settings: SMTPServerSettings, clock: C, queuePrefix: String = "Q", keepsText: Bool = true,
        client: [UInt8]? = nil
    ) {
        self.session = SMTPServerSession(
            settings: settings, queuePrefix: queuePrefix, keepsText: keepsText, client: client)
        self.clock = clock
    }

    public var hostname: String { session.hostname }
    public var limits: SMTPServerLimits { session.limits }
    /// Prefix of the ids in `250 2.0.0 Ok: queued as ID`.
    public var queuePrefix: String { session.queuePrefix }
    /// 4xx and 5xx replies sent so far.
    public var errorCount: Int { session.errorCount }
    /// When `timeoutFired()` should be called; nil while the server itself is busy (awaiting a verdict) or closed.
    public var deadline: C.Instant? { currentDeadline }

    /// True while text lines of a message are being received.
    public var isReceivingData: Bool { session.isReceivingData }

    public var isClosed: Bool { session.isClosed }

    /// The reply the server closed the session with (QUIT's 221, a 421, a closing policy
    /// reply); nil while open or when the client left first.
    public var closingReply: SMTPServerReply? { session.closingReply }

    // MARK: Events

    /// The connection is up: asks the policy about the client before the greeting.
    @inlinable
    public mutating func connected() -> Action {
        settle(session.connected())
    }

    /// A line arrived (from `SMTPLineFramer`).
    @inlinable
    public mutating func received(_ line: SMTPLine) -> Action {
        settle(session.received(line))
    }

    /// The fast path for message text: takes the text lines straight from `buffer`, starting at
    /// `offset` (where a line starts), without a `SMTPLine` for each: what `received(_:)` would do
    /// with them, line by line.
    /// It stops before anything that is not an ordinary text line (the end-of-data line, a bare
    /// `<LF>`, a line longer than the framer keeps, or a line without its end in `buffer`) and
    /// returns nil when it took nothing; such lines go through `SMTPLineFramer` and `received(_:)`.
    @inlinable
    public mutating func receivedText(_ buffer: UnsafeRawBufferPointer, from offset: Int) -> (
        next: Int, action: Action
    )? {
        let next = session.receivedText(buffer, from: offset)
        guard next > offset else { return nil }
        return (next, settle(session.nextAction()))
    }

    /// True until the PROXY header the settings require has come: bytes go to
    /// `receivedProxyHeader(_:from:)`, not to the line framer.
    public var isAwaitingProxyHeader: Bool { session.isAwaitingProxyHeader }

    /// Bytes while `isAwaitingProxyHeader`, from `offset`: returns where SMTP input starts (the
    /// bytes after the header, which go to the framer) and the first action.
    public mutating func receivedProxyHeader(_ buffer: UnsafeRawBufferPointer, from offset: Int) -> (
        next: Int, action: Action
    ) {
        let next = session.receivedProxyBytes(buffer, from: offset)
        return (next, settle(session.nextAction()))
    }

    /// The policy's answer to the last `.askPolicy`.
    @inlinable
    public mutating func verdict(_ verdict: SMTPPolicyVerdict) -> Action {
        settle(session.verdict(verdict))
    }

    /// The deadline passed (by the handler's timer). Answers 421 4.4.2 and closes if the client
    /// has indeed been silent since; otherwise nothing happens and `deadline` tells the next check.
    @inlinable
    public mutating func timeoutFired() -> Action {
        if let currentDeadline, clock.now >= currentDeadline {
            session.timedOut()
        }
        return settle(session.nextAction())
    }

    /// The TLS handshake after STARTTLS succeeded: the session starts again after the greeting
    /// (RFC 3207 section 4.2), the client's next command is EHLO.
    @inlinable
    public mutating func tlsEstablished(_ facts: TLSSessionFacts) -> Action {
        settle(session.tlsEstablished(facts))
    }

    /// The TLS handshake failed: the connection is in an unknown state and is closed without a
    /// reply (Postfix smtpd.c `smtpd_start_tls`).
    @inlinable
    public mutating func tlsFailed(_ reason: String) -> Action {
        settle(session.tlsFailed(reason))
    }

    /// The session's TLS, nil before (or without) STARTTLS.
    public var tls: TLSSessionFacts? { session.tls }

    /// Why the server closed without a reply (a failed or timed-out TLS handshake), nil otherwise.
    public var quietCloseCause: String? { session.quietCloseCause }

    /// The client closed its side; nothing more will be sent.
    @inlinable
    public mutating func disconnected() {
        session.disconnected()
        currentDeadline = nil
    }

    /// The next thing for the handler to do.
    @inlinable
    public mutating func nextAction() -> Action {
        settle(session.nextAction())
    }

    /// Follows the session's command timer: a deadline from now when it was (re)started.
    @inlinable
    mutating func settle(_ action: Action) -> Action {
        if !session.timerArmed {
            currentDeadline = nil
        } else if currentDeadline == nil || deadlineGeneration != session.timerGeneration {
            currentDeadline = clock.now.advanced(by: session.timerDuration)
            deadlineGeneration = session.timerGeneration
        }
        return action
    }
}
