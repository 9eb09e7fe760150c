import DNSCore
import Foundation
import Logging
import NIOCore
import NIOSSL
import NIOTLS
import Policy
import SMTPProtocol
import STARTTLS

/// The thin NIO side of one SMTP session: cuts what it reads into lines with `SMTPLineFramer`
/// (itself, not in a decoder of its own, as the fast path for message text reads the buffer),
/// feeds them to `SMTPServerStateMachine`, writes its replies in order (batched until the machine
/// waits), runs policy questions asynchronously; `MXCore.tick()` checks the machine's deadline.
final class SMTPServerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    // The mutable state below is touched only on the channel's event loop, by this handler's own
    // methods, and no access to one of these properties spans a call that could reach it again
    // (the state machine is pure; NIO calls back only between accesses). Swift would still check
    // every access at run time (swift_beginAccess, a thread-local access set per access);
    // `@exclusivity(unchecked)` leaves those checks out for these properties only.
    @exclusivity(unchecked) private var framer: SMTPLineFramer
    @exclusivity(unchecked) private var machine: SMTPServerStateMachine<ContinuousClock>
    private let core: MXCore
    private let recorder: SessionRecorder
    /// The policy as it stands at connect: PTR and FCrDNS when the resolver held them, and the
    /// questions it answers at once.
    @exclusivity(unchecked) private(set) var opening: PolicyOpening
    /// Made at the first question `opening` cannot answer at once.
    @exclusivity(unchecked) private var policy: PolicySession?
    @exclusivity(unchecked) private var context: ChannelHandlerContext?
    /// Replies not yet written, sent when the machine waits for the client or the policy.
    @exclusivity(unchecked) private var outgoing: ByteBuffer
    /// Where the connection stands (`Phase`).
    @exclusivity(unchecked) private var phase = Phase.connecting
    /// The client shut down its sending side (half-close) and everything it sent has been read;
    /// the session ends once the machine waits for more input.
    @exclusivity(unchecked) private var inputClosed = false
    @exclusivity(unchecked) private var helloObserver: ServerHelloObserver?

    /// The connection's life, beside the SMTP dialogue `machine` keeps: what may happen next on
    /// the channel. `open`, `awaitingVerdict` and `handshaking` are live (the machine is driven);
    /// `closing` and `ended` are not, and a verdict or a handshake that completes then is dropped.
    enum Phase {
        /// Not yet active.
        case connecting
        /// Reading commands and text, and answering them.
        case open
        /// A question is with `policy`; lines still read are fed to the machine, which holds them,
        /// and the machine goes on when the verdict comes.
        case awaitingVerdict
        /// STARTTLS was answered 220: the rest of the current read is dropped, the handshake runs.
        case handshaking
        /// The server closes: the last replies are written, then the channel is closed.
        case closing
        /// The channel is inactive, or the session ended after the client's half-close.
        case ended

        /// The machine is driven (the channel active and the server not closing).
        var isLive: Bool { self == .open || self == .awaitingVerdict || self == .handshaking }
    }

    init(core: MXCore, recorder: SessionRecorder) {
        self.core = core
        self.recorder = recorder
        self.opening = core.engine.opening(client: recorder.client ?? Self.unknownClient)
        self.framer = SMTPLineFramer(maximumLength: core.configuration.limits.frameLength)
        self.outgoing = core.allocator.buffer(capacity: 256)
        self.machine = SMTPServerStateMachine(
            settings: core.serverSettings, clock: ContinuousClock(),
            queuePrefix: "S\(recorder.id)Q", keepsText: core.configuration.keepsRecords, client: recorder.client?.bytes)
    }

    /// A socket address that is no IP address (never for TCP): recorded as 0.0.0.0.
    private static let unknownClient = IPAddress(literal: "0.0.0.0")

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        phase = .open
        let client = recorder.client ?? Self.unknownClient
        recorder.note(.note, "connect from \(client)")
        // PTR and FCrDNS from answers the resolver held: connect is answered without a task.
        if let findings = opening.initialFindings { recorder.update { $0.findings = findings } }
        core.sessionStarted(recorder, channel: context.channel, handler: self)
        run(machine.connected())
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        buffer.withUnsafeReadableBytes { bytes in
            var offset = 0
            while offset < bytes.count, phase == .open || phase == .awaitingVerdict {
                if machine.isAwaitingProxyHeader {
                    let (next, action) = machine.receivedProxyHeader(bytes, from: offset)
                    offset = next
                    run(action)
                    continue
                }
                // The fast path for message text: runs of whole lines straight from the read
                // buffer, without an `SMTPLine` each; everything else line by line through the framer.
                if framer.isAtLineStart, let (next, action) = machine.receivedText(bytes, from: offset) {
                    offset = next
                    run(action)
                    continue
                }
                // A partial line stays in the framer; one left at EOF is no command (RFC 5321 2.3.8) and is dropped.
                let (line, next) = framer.nextLine(bytes, from: offset)
                offset = next
                if let line { run(machine.received(line)) }
            }
            if phase == .handshaking, offset < bytes.count { discardPlaintext(bytes.count - offset) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        phase = .ended
        let closedByServer = machine.isClosed
        machine.disconnected()
        finish(reason: closedByServer ? nil : "client disconnected")
        context.fireChannelInactive()
    }

    /// A client may pipeline QUIT after the final dot and shut down its sending side at once
    /// (RFC 2920 section 3.1 allows QUIT in a group; Exim does it when PIPELINING is offered): the
    /// session goes on until the commands already read are answered, as Postfix's smtpd does;
    /// only a session that then waits for more input ends.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            return handshakeCompleted(context: context)
        }
        guard let event = event as? ChannelEvent, case .inputClosed = event else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        inputClosed = true
        if phase == .open || phase == .handshaking { endAfterInputClosed() }
    }

    /// The client will send nothing more and the machine waits for it: the session ends as when
    /// the client disconnects.
    private func endAfterInputClosed() {
        guard let context else { return }
        flush()
        phase = .ended
        machine.disconnected()
        finish(reason: "client disconnected")
        context.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if phase == .handshaking {
            // Postfix: "SSL_accept error from ...", then the connection is dropped without a reply.
            phase = .open
            recorder.note(.note, "TLS handshake failed: \(error)")
            run(machine.tlsFailed("\(error)"))
            return
        }
        recorder.note(.note, "error: \(error)")
        finish(reason: "error: \(error)")
        context.close(promise: nil)
    }

    // MARK: Driving the machine

    private func run(_ first: SMTPServerStateMachine<ContinuousClock>.Action) {
        var action = first
        while phase.isLive {
            switch action {
            case .send(let reply):
                write(reply)
            case .askPolicy(let question):
                note(question)
                // Fast path for questions the policy answers without a lookup (with no checks, all
                // but a new client's connect): answered here, on the event loop, instead of a
                // round trip through a task and the session's actor. A message goes to the
                // scanner, when there is one, through the task.
                let scans = core.configuration.messageScanner != nil && question.stage == .data
                if !scans, let verdict = opening.immediateVerdict(for: question) {
                    action = machine.verdict(verdict)
                    continue
                }
                flush()
                ask(question)
                return
            case .accept(let message):
                core.accepted(message, recorder: recorder)
            case .identified(let identity):
                identified(identity)
            case .startTLS(let discarded):
                flush()
                startTLS(discarding: discarded)
                return
            case .close:
                close()
                return
            case .wait:
                // The command timer: `machine.deadline`, checked by `MXCore.tick()`.
                if inputClosed {
                    endAfterInputClosed()
                    return
                }
                flush()
                return
            }
            action = machine.nextAction()
        }
    }

    // MARK: STARTTLS

    /// The 220 is out (flushed below the TLS handler, so in plaintext): everything read and not
    /// yet handled is dropped (RFC 3207 section 4.2, CVE-2011-0411) and the handshake starts.
    private func startTLS(discarding discarded: Int) {
        guard let context, let tls = core.configuration.tls else { return }
        phase = .handshaking
        let held = framer.bufferedCount
        framer = SMTPLineFramer(maximumLength: core.configuration.limits.frameLength)
        if discarded + held > 0 { discardPlaintext(discarded + held) }
        let observer = ServerHelloObserver(side: .server)
        helloObserver = observer
        do {
            try context.pipeline.syncOperations.addHandler(
                NIOSSLServerHandler(context: tls.context(for: recorder.server)), position: .first)
            try context.pipeline.syncOperations.addHandler(observer, position: .first)
        } catch {
            phase = .open
            recorder.note(.note, "cannot start TLS: \(error)")
            run(machine.tlsFailed("\(error)"))
        }
    }

    private func discardPlaintext(_ count: Int) {
        recorder.note(.note, "discarding \(count) bytes pipelined after STARTTLS")
    }

    private func handshakeCompleted(context: ChannelHandlerContext) {
        guard phase == .handshaking else { return }
        phase = .open
        let version = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self).tlsVersion
        let facts = TLSSessionFacts(version: TLSContexts.version(version), cipher: helloObserver?.cipher)
        if let observer = helloObserver { context.pipeline.syncOperations.removeHandler(observer, promise: nil) }
        helloObserver = nil
        let client = recorder.client.map { "\($0)" } ?? "unknown"
        recorder.note(.note, "Anonymous TLS connection established from [\(client)]: \(facts)")
        recorder.update { $0.tls = facts }
        run(machine.tlsEstablished(facts))
    }

    /// A PROXY header or XCLIENT named the client: the policy starts again for it.
    private func identified(_ identity: SMTPClientIdentity) {
        let (opening, note) = ClientIdentification.opening(for: identity, engine: core.engine, recorder: recorder)
        self.opening = opening
        policy = nil
        recorder.note(.note, note)
    }

    private func note(_ question: SMTPPolicyQuestion) {
        switch question {
        case .helo(let name, _): recorder.update { $0.helo = name }
        case .mail(let reversePath, _): recorder.update { $0.mailFrom = reversePath }
        case .rcpt(let forwardPath, _, _): recorder.update { $0.recipients.append(forwardPath) }
        case .connect, .endOfData: break
        }
    }

    private func ask(_ question: SMTPPolicyQuestion) {
        guard let context else { return }
        let policy = self.policy ?? opening.session()
        self.policy = policy
        phase = .awaitingVerdict
        let promise = context.eventLoop.makePromise(of: (SMTPPolicyVerdict, PolicyFindings).self)
        // A message the policy lets through goes to the scanner, when there is one (`receiver.engines`).
        var scan: (any MXMessageScanner, SMTPMessage, MXScanSession)?
        if case .endOfData(let message) = question, let scanner = core.configuration.messageScanner {
            let (client, tls, fcrdns) = recorder.update { ($0.client, $0.tls, $0.findings?.fcrdns) }
            scan = (scanner, message, MXScanSession(client: client ?? Self.unknownClient, tls: tls, fcrdns: fcrdns))
        }
        let recorder = recorder
        Task { [scan] in
            var verdict = await policy.answer(question)
            if verdict == .proceed, let (scanner, message, session) = scan {
                let scanned = await scanner.scan(message, session: session)
                recorder.note(.note, scanned.note)
                verdict = scanned.verdict
            }
            promise.succeed((verdict, await policy.findings))
        }
        promise.futureResult.assumeIsolated().whenComplete { [self] result in
            switch result {
            case .success(let (verdict, findings)):
                if phase == .awaitingVerdict { phase = .open }
                recorder.update { $0.findings = findings }
                guard phase.isLive else { return }
                run(machine.verdict(verdict))
            case .failure(let error):
                // The task cannot fail its promise; this is an event loop shutting down.
                recorder.note(.note, "policy failed: \(error)")
            }
        }
    }

    private func write(_ reply: SMTPServerReply) {
        guard context != nil else { return }
        if recorder.keepsTranscript {
            record(reply)
        } else if reply.reply.code >= 400 {
            // Without kept records (`mx serve`) the record serves only the summary logged at the
            // end, made of the findings and the 4xx/5xx replies.
            let recorded = RecordedReply(reply)
            recorder.update { $0.replies.append(recorded) }
        }
        outgoing.writeSMTPReply(reply.reply)
    }

    /// The reply, the command it answers and why, in the transcript and the record's replies.
    private func record(_ reply: SMTPServerReply) {
        let recorded = RecordedReply(reply)
        let time = Date()
        recorder.update { record in
            if let command = recorded.command { record.note(.client, command, at: time) }
            for line in recorded.reply.wireFormat.split(separator: "\r\n") {
                record.note(.server, String(line), at: time)
            }
            if let cause = recorded.cause { record.note(.note, "reply caused by \(cause)", at: time) }
            record.replies.append(recorded)
        }
    }

    private func flush() {
        guard let context, outgoing.readableBytes > 0 else { return }
        context.writeAndFlush(wrapOutboundOut(outgoing), promise: nil)
        outgoing.clear()
    }

    private func close() {
        guard let context, phase != .closing else { return }
        phase = .closing
        let buffer = outgoing
        outgoing.clear()
        finish(
            reason: machine.closingReply.map {
                String($0.reply.code) + " " + ($0.cause ?? $0.command.map(SMTPCommand.verb(of:)) ?? "server")
            }
                ?? machine.quietCloseCause ?? "closed by server")
        guard buffer.readableBytes > 0 else {
            context.close(promise: nil)
            return
        }
        context.writeAndFlush(wrapOutboundOut(buffer)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    /// From `MXCore.tick()`: the client has been silent past the machine's deadline.
    func checkDeadline(_ now: ContinuousClock.Instant) {
        guard phase.isLive, let deadline = machine.deadline, deadline <= now else { return }
        run(machine.timeoutFired())
    }

    private func finish(reason: String?) {
        recorder.update { record in
            guard record.ended == nil else { return }
            record.ended = Date()
            if record.closeReason == nil { record.closeReason = reason }
            if recorder.keepsTranscript { record.note(.note, "session ended" + (reason.map { ": \($0)" } ?? "")) }
        }
        core.sessionEnded(recorder)
    }
}
