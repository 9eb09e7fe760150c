import NIOCore
import SMTPProtocol

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

    init(machine: SMTPClientStateMachine, replyTimeout: Duration, start: ContinuousClock.Instant, done: EventLoopPromise<SMTPClientStateMachine>) {
        self.machine = machine
        self.replyTimeout = TimeAmount(replyTimeout)
        self.start = start
        self.done = done
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
        while !completed, let newline = pending.firstIndex(of: 0x0a) {
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
        if !completed { apply(.failed("\(error)"), context: context) }
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
        case .close:
            finish(context: context)
            context.close(promise: nil)
        }
    }

    private func armTimer(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: replyTimeout) { [weak self] in
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
