import DNSCore
import Foundation
import NIOCore
import NIOPosix
import Sandbox

/// Asks rspamd's normal worker about one message over its HTTP protocol, from inside the case's
/// namespace: the connection is made there (`Sockets.connect`), so it never leaves the world.
/// The protocol is `RspamdCheck` and `RspamdResponseReader`; this is only the socket.
public enum RspamdClient {
    /// rspamd's result, or why there is none (it could not be reached, it did not answer within
    /// `timeout`, or its reply could not be read). The built-in MX passes the run's reply timeout:
    /// the sender waits no longer for the reply to the end of DATA that this answer decides.
    public static func check(
        _ check: RspamdCheck, port: UInt16 = RspamdConfiguration.httpPort, in namespace: NetworkNamespace?,
        eventLoopGroup: any EventLoopGroup, timeout: Duration
    ) async -> Result<RspamdResult, RspamdClientError> {
        let fd: CInt
        do {
            fd = try await Sockets.connect(
                from: nil, to: IPAddress(literal: "127.0.0.1"), port: port, timeout: .seconds(5), in: namespace)
        } catch {
            return .failure(.unreachable("127.0.0.1:\(port): \(error)"))
        }
        let eventLoop = eventLoopGroup.next()
        let answer = RspamdAnswer(promise: eventLoop.makePromise(of: RspamdResult.self))
        let request = check.request
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            RspamdHTTPHandler(request: request, answer: answer))
                    }
                }
                .withConnectedSocket(fd)
                .get()
        } catch {
            answer.complete(.failure(.unreachable("\(error)")))
            return .failure(.unreachable("\(error)"))
        }
        let (seconds, attoseconds) = timeout.components
        let deadline = eventLoop.scheduleTask(in: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)) {
            answer.complete(.failure(.timedOut(timeout)))
            channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        do {
            return .success(try await answer.promise.futureResult.get())
        } catch let error as RspamdClientError {
            return .failure(error)
        } catch {
            return .failure(.unreachable("\(error)"))
        }
    }
}

/// The promise of one check, completed once: by the handler, the deadline, or a failed connection,
/// whichever comes first.
final class RspamdAnswer: @unchecked Sendable {
    let promise: EventLoopPromise<RspamdResult>
    private let lock = NSLock()
    private var done = false

    init(promise: EventLoopPromise<RspamdResult>) {
        self.promise = promise
    }

    func complete(_ result: Result<RspamdResult, RspamdClientError>) {
        let first = lock.withLock {
            defer { done = true }
            return !done
        }
        guard first else { return }
        switch result {
        case .success(let value): promise.succeed(value)
        case .failure(let error): promise.fail(error)
        }
    }
}

/// Why rspamd gave no result.
public enum RspamdClientError: Error, Sendable, CustomStringConvertible {
    case unreachable(String)
    case timedOut(Duration)
    case protocolError(RspamdProtocolError)

    public var description: String {
        switch self {
        case .unreachable(let detail): "cannot reach rspamd: \(detail)"
        case .timedOut(let timeout): "rspamd did not answer within \(timeout)"
        case .protocolError(let error): "\(error)"
        }
    }
}

/// Writes the request when the connection is up and feeds what it reads to the reader.
final class RspamdHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let request: [UInt8]
    private let answer: RspamdAnswer
    private var reader = RspamdResponseReader()
    private var settled = false

    init(request: [UInt8], answer: RspamdAnswer) {
        self.request = request
        self.answer = answer
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: request)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        settle(reader.read(buffer.readableBytesView), context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        settle(reader.endOfInput(), context: context)
        if !settled {
            settled = true
            answer.complete(.failure(.protocolError(.truncated(received: 0, expected: nil))))
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !settled {
            settled = true
            answer.complete(.failure(.unreachable("\(error)")))
        }
        context.close(promise: nil)
    }

    private func settle(_ step: RspamdResponseReader.Step, context: ChannelHandlerContext) {
        guard !settled else { return }
        switch step {
        case .needMore:
            return
        case .done(let result):
            settled = true
            answer.complete(.success(result))
        case .failed(let error):
            settled = true
            answer.complete(.failure(.protocolError(error)))
        }
        context.close(promise: nil)
    }
}
