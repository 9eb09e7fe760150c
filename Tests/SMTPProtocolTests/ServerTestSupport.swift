import Synchronization
import Testing
@testable import SMTPProtocol

/// A clock that moves only when a test says so.
final class TestClock: Clock, Sendable {
    struct Instant: InstantProtocol {
        var offset: Duration
        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private let current = Mutex(Instant(offset: .zero))
    var now: Instant { current.withLock { $0 } }
    var minimumResolution: Duration { .zero }
    func sleep(until deadline: Instant, tolerance: Duration?) async throws {}
    func advance(by duration: Duration) { current.withLock { $0 = $0.advanced(by: duration) } }
}

/// Drives a server state machine from bytes, answering policy questions with `policy`
/// (nil leaves the question pending), and collects what the machine does.
struct ServerDriver {
    var machine: SMTPServerStateMachine<TestClock>
    var framer: SMTPLineFramer
    var policy: (SMTPPolicyQuestion) -> SMTPPolicyVerdict?
    var replies: [SMTPServerReply] = []
    var questions: [SMTPPolicyQuestion] = []
    var accepted: [SMTPMessage] = []
    /// What PROXY headers and XCLIENT said, in order.
    var identities: [SMTPClientIdentity] = []
    var closed = false
    var waitingForVerdict = false
    /// Each `.startTLS` action's count of bytes the machine dropped.
    var tlsStarts: [Int] = []
    /// Between `.startTLS` and `tlsEstablished()`: input is not SMTP (the handler drops it).
    var handshaking = false
    /// Bytes dropped after STARTTLS, as the handler drops the rest of a read.
    var droppedAfterSTARTTLS = 0
    /// Feed bytes as `SMTPServerHandler` does (`receivedText` for message text) instead of line by line.
    var takesTextDirectly = false
    let clock: TestClock

    init(
        limits: SMTPServerLimits = .init(), bareNewline: SMTPBareNewlineMode = .normalize, keepsText: Bool = true,
        policy: @escaping (SMTPPolicyQuestion) -> SMTPPolicyVerdict? = { _ in .proceed }
    ) {
        let clock = TestClock()
        self.clock = clock
        self.machine = SMTPServerStateMachine(
            hostname: "mx.example.test", limits: limits, bareNewline: bareNewline, clock: clock, keepsText: keepsText)
        self.framer = SMTPLineFramer(maximumLength: limits.frameLength)
        self.policy = policy
    }

    /// A driver for a server with `identity` settings, whose peer is `client`.
    init(
        identity: SMTPIdentitySettings, client: [UInt8]?,
        policy: @escaping (SMTPPolicyQuestion) -> SMTPPolicyVerdict? = { _ in .proceed }
    ) {
        let clock = TestClock()
        self.clock = clock
        let settings = SMTPServerSettings(hostname: "mx.example.test", identity: identity)
        self.machine = SMTPServerStateMachine(settings: settings, clock: clock, client: client)
        self.framer = SMTPLineFramer(maximumLength: settings.limits.frameLength)
        self.policy = policy
    }

    /// A driver for a server offering STARTTLS, past the greeting.
    static func offeringTLS(_ tls: SMTPServerTLSSettings = .init()) -> ServerDriver {
        let clock = TestClock()
        let settings = SMTPServerSettings(hostname: "mx.example.test", tls: tls)
        var driver = ServerDriver(clock: clock, machine: SMTPServerStateMachine(settings: settings, clock: clock))
        driver.connect()
        return driver
    }

    private init(clock: TestClock, machine: SMTPServerStateMachine<TestClock>) {
        self.clock = clock
        self.machine = machine
        self.framer = SMTPLineFramer(maximumLength: machine.limits.frameLength)
        self.policy = { _ in .proceed }
    }

    /// The handshake succeeded.
    mutating func tlsEstablished(
        _ facts: TLSSessionFacts = TLSSessionFacts(version: .tls13, cipher: "TLS_AES_128_GCM_SHA256")
    ) {
        handshaking = false
        framer = SMTPLineFramer(maximumLength: machine.limits.frameLength)
        run(machine.tlsEstablished(facts))
    }

    /// The handshake failed.
    mutating func tlsFailed(_ reason: String) {
        handshaking = false
        run(machine.tlsFailed(reason))
    }

    /// A driver past the greeting.
    static func greeted(
        limits: SMTPServerLimits = .init(), bareNewline: SMTPBareNewlineMode = .normalize, keepsText: Bool = true,
        policy: @escaping (SMTPPolicyQuestion) -> SMTPPolicyVerdict? = { _ in .proceed }
    ) -> ServerDriver {
        var driver = ServerDriver(limits: limits, bareNewline: bareNewline, keepsText: keepsText, policy: policy)
        driver.connect()
        return driver
    }

    mutating func connect() {
        run(machine.connected())
    }

    /// Feeds raw bytes (CRLF must be written out).
    mutating func send(_ text: String) {
        send(bytes: Array(text.utf8))
    }

    mutating func send(bytes: [UInt8]) {
        var bytes = bytes
        if machine.isAwaitingProxyHeader {
            // As the MX's handler reads: the header's bytes first, the rest to the framer.
            let next = bytes.withUnsafeBytes { raw in
                let (next, action) = machine.receivedProxyHeader(raw, from: 0)
                run(action)
                return next
            }
            bytes = Array(bytes[next...])
            if bytes.isEmpty || closed { return }
        }
        guard takesTextDirectly else {
            guard !handshaking else { return }
            var offset = 0
            bytes.withUnsafeBytes { raw in
                while offset < raw.count, !closed, !handshaking {
                    let (line, next) = framer.nextLine(raw, from: offset)
                    offset = next
                    if let line { run(machine.received(line)) }
                }
            }
            if handshaking { droppedAfterSTARTTLS += bytes.count - offset + framer.bufferedCount }
            return
        }
        // As the MX's handler reads: message text in runs through `receivedText`, the rest by line.
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count, !closed {
                if framer.isAtLineStart, let (next, action) = machine.receivedText(raw, from: offset) {
                    offset = next
                    run(action)
                    continue
                }
                let (line, next) = framer.nextLine(raw, from: offset)
                offset = next
                if let line { run(machine.received(line)) }
            }
        }
    }

    mutating func answer(_ verdict: SMTPPolicyVerdict) {
        waitingForVerdict = false
        run(machine.verdict(verdict))
    }

    mutating func fireTimeout() {
        run(machine.timeoutFired())
    }

    private mutating func run(_ first: SMTPServerStateMachine<TestClock>.Action) {
        var action = first
        while true {
            switch action {
            case .send(let reply):
                replies.append(reply)
            case .askPolicy(let question):
                questions.append(question)
                if let verdict = policy(question) {
                    action = machine.verdict(verdict)
                    continue
                }
                waitingForVerdict = true
            case .accept(let message):
                accepted.append(message)
            case .identified(let identity):
                identities.append(identity)
            case .startTLS(let discarded):
                tlsStarts.append(discarded)
                handshaking = true
                return
            case .close:
                closed = true
                return
            case .wait:
                return
            }
            action = machine.nextAction()
        }
    }

    var codes: [Int] { replies.map(\.reply.code) }
    var last: SMTPReply? { replies.last?.reply }

    /// Replies since the given count, as `code enhanced text`.
    func lines(from start: Int = 0) -> [String] {
        replies[start...].map(\.reply.description)
    }
}
