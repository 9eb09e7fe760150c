/// The protocol of `SMTPServerStateMachine` without its clock: the command timer is
/// `timerArmed`, restarted whenever `timerGeneration` changes.
@usableFromInline
struct SMTPServerSession: Sendable {
    @usableFromInline typealias Action = SMTPServerAction

    enum Pending: Sendable {
        /// `line`: the XCLIENT command that brought the session back to its greeting.
        case connect(line: String?)
        case helo(name: String, extended: Bool, line: String)
        case mail(reversePath: String, is8Bit: Bool, line: String)
        case rcpt(forwardPath: String, line: String)
        /// With `<message: N bytes>`, the command the reply is recorded against.
        case endOfData(SMTPMessage, command: String)
    }

    enum State: Sendable {
        /// Before `connected()`.
        case initial
        /// Waiting for the PROXY header before the greeting (`SMTPIdentitySettings`).
        case awaitingProxyHeader
        case awaitingVerdict(Pending)
        case commands
        case data
        /// STARTTLS was answered 220: the TLS handshake runs; no SMTP input is taken.
        case tlsHandshake
        /// The connection was refused with a non-closing reply at connect: only QUIT is served
        /// (RFC 5321 3.1: answer 503 to anything else).
        case refused
        case closed
    }

    struct Transaction: Sendable {
        var reversePath: String
        var is8Bit: Bool
        var recipients: [String] = []
    }

    /// The message being received.
    struct Body: Sendable {
        var data: [UInt8] = []
        var size = 0
        var tooBig = false
        var overlongLine = false
        /// A line ended in a bare `<LF>` (`SMTPBareNewlineMode.reject`: the message is refused).
        var bareLF = false
        /// The last line ended in a bare `<LF>`: a `.` line after it does not end the message.
        var previousBareLF = false
    }

    @usableFromInline let settings: SMTPServerSettings
    let queuePrefix: String
    let keepsText: Bool

    var state: State = .initial
    var helo: String?
    var transaction: Transaction?
    var body = Body()
    /// Lines received and not yet handled, oldest first, and the bytes they hold.
    var pending: [SMTPLine] = []
    var pendingBytes = 0
    /// Actions not yet taken by the handler, oldest first.
    var output: [Action] = []
    var acceptedMessages = 0
    /// The client's address (4 or 16 bytes) as the session knows it: the peer's, then what a
    /// PROXY header or XCLIENT said; nil when not told.
    var client: [UInt8]?
    /// The PROXY header's bytes so far.
    var proxyBuffer: [UInt8] = []
    private(set) var errorCount = 0
    private(set) var closingReply: SMTPServerReply?
    /// Why the session closed without a reply (a failed TLS handshake).
    private(set) var quietCloseCause: String?
    /// The session's TLS once the handshake after STARTTLS succeeded.
    var tls: TLSSessionFacts?
    /// `SMTPServerTLSSettings.handshakeTimeout` while the handshake runs.
    var handshakeTimeout: Duration = .seconds(300)
    /// The command timer runs (the deadline of `SMTPServerStateMachine`); off while the server
    /// itself is busy (awaiting a verdict) or closed.
    @usableFromInline var timerArmed = false
    /// Counts the starts of the command timer.
    @usableFromInline var timerGeneration = 0

    init(settings: SMTPServerSettings, queuePrefix: String, keepsText: Bool = true, client: [UInt8]? = nil) {
        self.client = client
        self.settings = settings
        self.queuePrefix = queuePrefix
        self.keepsText = keepsText
    }

    var hostname: String { settings.hostname }
    @inlinable var limits: SMTPServerLimits { settings.limits }

    var isReceivingData: Bool {
        if case .data = state { return true }
        return false
    }

    /// Before `connected()`, before the PROXY header or while a policy verdict is pending: input waits.
    var isAwaitingVerdict: Bool {
        switch state {
        case .initial, .awaitingVerdict, .awaitingProxyHeader, .tlsHandshake: true
        case .commands, .data, .refused, .closed: false
        }
    }

    var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    // MARK: Events

    @usableFromInline
    mutating func connected() -> Action {
        guard case .initial = state else { return nextAction() }
        if identity.requiresProxyHeader {
            awaitProxyHeader()
            return nextAction()
        }
        state = .awaitingVerdict(.connect(line: nil))
        emit(.askPolicy(.connect))
        return nextAction()
    }

    @usableFromInline
    mutating func received(_ line: SMTPLine) -> Action {
        guard !isClosed else { return nextAction() }
        // `nextAction()` handles the queue in order: at once, unless the connection awaits its
        // first verdict or a policy verdict; what waits meanwhile (RFC 2920 pipelining) is bounded.
        pending.append(line)
        pendingBytes += line.heldLength
        if pendingBytes > limits.pendingInput, isAwaitingVerdict {
            closeWith(
                SMTPReply(code: 421, enhanced: "4.7.0", "\(hostname) Error: too much pipelined input"),
                cause: "limit:pending-input")
        }
        return nextAction()
    }

    @usableFromInline
    mutating func verdict(_ verdict: SMTPPolicyVerdict) -> Action {
        guard case .awaitingVerdict(let question) = state else { return nextAction() }
        let stage: SMTPStage, command: String?
        switch question {
        case .connect(let line): (stage, command) = (.greeting, line)
        case .helo(_, _, let line), .mail(_, _, let line), .rcpt(_, let line):
            (stage, command) = (Self.stage(of: question), line)
        case .endOfData(_, let line): (stage, command) = (.data, line)
        }
        switch verdict {
        case .proceed:
            proceed(question)
        case .reply(let reply, let cause):
            switch question {
            case .connect:
                state = reply.isPositive ? .commands : .refused
            case .endOfData:
                transaction = nil
                body = Body()
                state = .commands
            default:
                state = .commands
            }
            send(reply, stage: stage, command: command, cause: cause)
        case .replyAndClose(let reply, let cause):
            closeWith(reply, stage: stage, command: command, cause: cause)
        }
        return nextAction()
    }

    /// The command timer ran out: the client has been silent since it started.
    @usableFromInline
    mutating func timedOut() {
        // smtpd_starttls_timeout: tls_server_start() fails, and smtpd hangs up without a reply.
        if case .tlsHandshake = state { return closeQuietly(cause: "starttls:timeout") }
        if isAwaitingProxyHeader {
            return closeWith(Self.proxyFailure(hostname), stage: .greeting, cause: "proxy:timeout")
        }
        // Postfix smtpd: "421 4.4.2 <myhostname> Error: timeout exceeded".
        closeWith(SMTPReply(code: 421, enhanced: "4.4.2", "\(hostname) Error: timeout exceeded"), cause: "timeout")
    }

    @usableFromInline
    mutating func disconnected() {
        state = .closed
        timerArmed = false
        pending.removeAll()
    }

    @usableFromInline
    mutating func nextAction() -> Action {
        while true {
            if !output.isEmpty {
                return output.removeFirst()
            }
            switch state {
            case .commands, .data, .refused:
                guard !pending.isEmpty else {
                    if !timerArmed {
                        timerArmed = true
                        timerGeneration &+= 1
                    }
                    return .wait
                }
                let line = pending.removeFirst()
                pendingBytes -= line.heldLength
                timerArmed = false
                handle(line)
            case .initial, .awaitingVerdict, .awaitingProxyHeader, .tlsHandshake:
                return .wait
            case .closed:
                return .wait
            }
        }
    }

    // MARK: Input

    private mutating func handle(_ line: SMTPLine) {
        var line = line
        switch settings.bareNewline {
        case .no:
            // Postfix's smtp_get_noexcept() without smtp_detect_bare_lf: every <CR> before the
            // <LF> goes, and a bare <LF> ends a line like <CR><LF>.
            while line.bytes.last == 0x0d { line.bytes.removeLast() }
            line.ending = .crlf
        case .reject where line.ending == .bareLF && !isReceivingData:
            // SMTP smuggling (CVE-2023-51764), Postfix `smtpd_forbid_bare_newline = reject`:
            // smtpd.c answers a command that ends in a bare <LF> with
            // `"%d 5.5.2 %s Error: bare <LF> received"` (`smtpd_forbid_bare_newline_reject_code`,
            // default 550, and `myhostname`) and hangs up. In DATA see `handleText(_:)`.
            transaction = nil
            body = Body()
            closeWith(Self.bareLFReply(hostname), command: line.text, cause: "bare-lf")
            return
        case .normalize, .reject:
            break
        }
        switch state {
        case .data:
            handleText(line)
        case .refused:
            if case .success(.quit) = SMTPCommand.parse(line.text) {
                closeWith(Self.bye, command: line.text)
            } else {
                send(
                    SMTPReply(code: 503, enhanced: "5.5.1", "Error: access denied, send QUIT"), stage: nil,
                    command: line.text)
            }
        default:
            handleCommand(line)
        }
    }

    // MARK: Verdicts

    mutating func ask(_ pending: Pending, _ question: SMTPPolicyQuestion) {
        state = .awaitingVerdict(pending)
        timerArmed = false
        emit(.askPolicy(question))
    }

    private mutating func proceed(_ question: Pending) {
        switch question {
        case .connect(let line):
            state = .commands
            send(SMTPReply(code: 220, lines: ["\(hostname) ESMTP"]), stage: .greeting, command: line)
        case .helo(let name, let extended, let line):
            // RFC 5321 4.1.4: EHLO/HELO resets any transaction.
            helo = name
            transaction = nil
            state = .commands
            if extended {
                // RFC 2920 PIPELINING, RFC 1870 SIZE, RFC 6152 8BITMIME, RFC 2034 ENHANCEDSTATUSCODES;
                // XCLIENT last, to a client allowed to send it (as Postfix lists it).
                // STARTTLS where Postfix lists it (smtpd.c ehlo_cmd: after SIZE, VRFY and ETRN), and
                // no longer once TLS is active.
                var extensions = ["PIPELINING", "SIZE \(limits.messageSize)"]
                if settings.tls != nil, tls == nil { extensions.append("STARTTLS") }
                extensions += ["8BITMIME", "ENHANCEDSTATUSCODES"]
                if xclientAllowed { extensions.append(XCLIENTCommand.ehloKeyword) }
                send(SMTPReply(code: 250, lines: [hostname] + extensions), stage: .helo, command: line)
            } else {
                send(SMTPReply(code: 250, lines: [hostname]), stage: .helo, command: line)
            }
        case .mail(let reversePath, let is8Bit, let line):
            transaction = Transaction(reversePath: reversePath, is8Bit: is8Bit)
            state = .commands
            send(SMTPReply(code: 250, enhanced: "2.1.0", "Ok"), stage: .mail, command: line)
        case .rcpt(let forwardPath, let line):
            transaction?.recipients.append(forwardPath)
            state = .commands
            send(SMTPReply(code: 250, enhanced: "2.1.5", "Ok"), stage: .rcpt, command: line)
        case .endOfData(let message, let command):
            transaction = nil
            state = .commands
            emit(.accept(message))
            send(
                SMTPReply(code: 250, enhanced: "2.0.0", "Ok: queued as \(message.queueID)"), stage: .data,
                command: command)
        }
    }

    // MARK: Output

    mutating func emit(_ action: Action) {
        output.append(action)
    }

    mutating func send(_ reply: SMTPReply, stage: SMTPStage?, command: String?, cause: String? = nil) {
        let code = reply.code
        emit(.send(SMTPServerReply(reply: reply, stage: stage, command: command, cause: cause)))
        guard code >= 400 else { return }
        errorCount += 1
        if errorCount >= limits.errors, !isClosed {
            // Postfix `smtpd_hard_error_limit`: "421 4.7.0 <myhostname> Error: too many errors".
            closeWith(
                SMTPReply(code: 421, enhanced: "4.7.0", "\(hostname) Error: too many errors"), cause: "limit:errors")
        }
    }

    mutating func closeWith(_ reply: SMTPReply, stage: SMTPStage? = nil, command: String? = nil, cause: String? = nil) {
        guard !isClosed else { return }
        state = .closed
        timerArmed = false
        pending.removeAll()
        pendingBytes = 0
        let code = reply.code
        let closing = SMTPServerReply(reply: reply, stage: stage, command: command, cause: cause)
        closingReply = closing
        emit(.send(closing))
        if code >= 400 { errorCount += 1 }
        emit(.close)
    }

    /// Ends the session without a reply: after STARTTLS the stream's state is unknown.
    mutating func closeQuietly(cause: String) {
        guard !isClosed else { return }
        state = .closed
        timerArmed = false
        pending.removeAll()
        pendingBytes = 0
        quietCloseCause = cause
        emit(.close)
    }

    static let bye = SMTPReply(code: 221, enhanced: "2.0.0", "Bye")

    /// Postfix smtpd.c: `"%d 5.5.2 %s Error: bare <LF> received"`, with
    /// `smtpd_forbid_bare_newline_reject_code` (default 550) and `myhostname`.
    static func bareLFReply(_ hostname: String) -> SMTPReply {
        SMTPReply(code: 550, enhanced: "5.5.2", "\(hostname) Error: bare <LF> received")
    }

    static func stage(of pending: Pending) -> SMTPStage {
        switch pending {
        case .connect: .greeting
        case .helo: .helo
        case .mail: .mail
        case .rcpt: .rcpt
        case .endOfData: .data
        }
    }
}
