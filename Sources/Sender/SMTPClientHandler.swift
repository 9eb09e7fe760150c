import CertificateAuthority
import Delivery
import Foundation
import NIOCore
import NIOSSL
import NIOTLS
import SMTPProtocol
import STARTTLS
import X509

/// What the client needs to start TLS after the server's 220 to STARTTLS.
struct ClientSTARTTLS: @unchecked Sendable {
    /// Made per attempt; `NIOSSLContext` is thread-safe.
    let context: NIOSSLContext
    let authentication: any PeerAuthentication
    let handshakeTimeout: Duration
}

/// Drives an `SMTPClientStateMachine` over a connected channel: frames reply lines, runs the
/// reply timer, executes the machine's actions, and completes `done` with the finished machine.
final class SMTPClientHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// A reply line longer than this without a line feed breaks the session.
    static let maximumLineLength = 8192

    private var machine: SMTPClientStateMachine
    private let done: EventLoopPromise<SMTPClientStateMachine>
    private let replyTimeout: TimeAmount
    private let start: ContinuousClock.Instant
    private var pending: [UInt8] = []
    private var timer: Scheduled<Void>?
    private var completed = false
    private let starttls: ClientSTARTTLS?
    /// Between the 220 to STARTTLS and the handshake's end.
    private var handshaking = false
    private var helloObserver: ServerHelloObserver?
    /// The certificate check's verdict, from the verification callback.
    private var verdict: PeerVerdict?

    init(
        machine: SMTPClientStateMachine, replyTimeout: Duration, start: ContinuousClock.Instant,
        done: EventLoopPromise<SMTPClientStateMachine>, starttls: ClientSTARTTLS? = nil
    ) {
        self.machine = machine
        self.replyTimeout = TimeAmount(replyTimeout)
        self.start = start
        self.done = done
        self.starttls = starttls
    }

    private var offset: Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { apply(.connected, context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        apply(.connected, context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        pending.append(contentsOf: buffer.readBytes(length: buffer.readableBytes) ?? [])
        while !completed, !handshaking, let newline = pending.firstIndex(of: 0x0a) {
            var end = newline
            if end > 0, pending[end - 1] == 0x0d { end -= 1 }
            let line = String(decoding: pending[..<end], as: UTF8.self)
            pending.removeSubrange(...newline)
            apply(.line(line), context: context)
        }
        if !completed, pending.count > Self.maximumLineLength {
            apply(.failed("reply line longer than \(Self.maximumLineLength) bytes"), context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !completed { apply(.closed, context: context) }
        finish(context: context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if handshaking {
            handshaking = false
            apply(.tlsFailed(Self.describe(error)), context: context)
            return
        }
        if !completed { apply(.failed("\(error)"), context: context) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let event = event as? TLSUserEvent, case .handshakeCompleted = event, handshaking else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        handshaking = false
        let version = try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self).tlsVersion
        let trust: TLSPeerTrust
        switch verdict {
        case nil: trust = .anonymous
        case .some(let verdict) where verdict.isMatched: trust = .verified
        case .some(let verdict) where verdict.isTrusted: trust = .trusted
        case .some: trust = .untrusted
        }
        if let observer = helloObserver { context.pipeline.syncOperations.removeHandler(observer, promise: nil) }
        let facts = TLSSessionFacts(version: TLSContexts.version(version), cipher: helloObserver?.cipher, trust: trust)
        helloObserver = nil
        apply(.tlsEstablished(facts, failure: verdict?.failure), context: context)
    }

    /// The 220 to STARTTLS came: what else was read is dropped (RFC 3207 section 4.2), the TLS
    /// handler goes in below this one, and smtp_starttls_timeout runs for the handshake.
    private func startTLS(context: ChannelHandlerContext) {
        guard let starttls else {
            apply(.tlsFailed("no TLS context"), context: context)
            return
        }
        pending.removeAll()
        handshaking = true
        let observer = ServerHelloObserver(side: .client)
        helloObserver = observer
        let authentication = starttls.authentication
        let eventLoop = context.eventLoop
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        do {
            let handler = try NIOSSLClientHandler(context: starttls.context, serverHostname: nil) {
                presented, promise in
                let chain = presented.compactMap { try? Certificate(derEncoded: $0.toDERBytes()) }
                let now = Date()
                Task {
                    let verdict = await authentication.verify(chain: chain, at: now)
                    eventLoop.execute {
                        bound.value.verdict = verdict
                        // Postfix completes the handshake whatever the verdict and decides after it.
                        promise.succeed(.certificateVerified)
                    }
                }
            }
            try context.pipeline.syncOperations.addHandler(handler, position: .first)
            try context.pipeline.syncOperations.addHandler(observer, position: .first)
        } catch {
            handshaking = false
            apply(.tlsFailed("\(error)"), context: context)
            return
        }
        armTimer(context: context, after: TimeAmount(starttls.handshakeTimeout))
    }

    /// A handshake error in few words: BoringSSL's reason (`TLSV1_ALERT_PROTOCOL_VERSION`) when
    /// there is one.
    static func describe(_ error: any Error) -> String {
        let text = "\(error)"
        if let range = text.range(of: #"[A-Z0-9_]{6,}"#, options: .regularExpression) {
            return "handshake failure: \(text[range])"
        }
        return text
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish(context: context)
    }

    private func apply(_ event: SMTPClientStateMachine.Event, context: ChannelHandlerContext) {
        guard !completed else { return }
        switch machine.event(event, at: offset) {
        case .wait:
            if case .connected = event { armTimer(context: context) }
        case .send(let bytes):
            armTimer(context: context)
            let buffer = context.channel.allocator.buffer(bytes: bytes)
            context.writeAndFlush(wrapOutboundOut(buffer)).assumeIsolated().whenFailure { [weak self] error in
                guard let self else { return }
                self.apply(.failed("write failed: \(error)"), context: context)
            }
        case .startTLS:
            startTLS(context: context)
        case .close:
            finish(context: context)
            context.close(promise: nil)
        }
    }

    private func armTimer(context: ChannelHandlerContext, after delay: TimeAmount? = nil) {
        timer?.cancel()
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: delay ?? replyTimeout) { [weak self] in
            guard let self, !self.completed else { return }
            self.apply(.timedOut, context: context)
        }
    }

    private func finish(context: ChannelHandlerContext) {
        guard !completed else { return }
        completed = true
        timer?.cancel()
        timer = nil
        done.succeed(machine)
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let nanoseconds = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !nanoseconds.overflow else {
            self = .nanoseconds(Int64.max)
            return
        }
        self = .nanoseconds(nanoseconds.partialValue + attoseconds / 1_000_000_000)
    }
}
