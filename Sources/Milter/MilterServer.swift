#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Logging
import NIOCore
import NIOPosix

/// A milter server: each connection drives a `MilterSession` of `filter`.
public final class MilterServer: Sendable {
    private let channel: any Channel

    private init(channel: any Channel) {
        self.channel = channel
    }

    /// Serves on `socket`, a listening socket the caller made (in the MTA's network namespace).
    public static func start(
        boundSocket socket: CInt, filter: any MilterFilter,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger
    ) async throws -> MilterServer {
        let channel = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        MilterHandler(session: MilterSession(filter: filter), logger: logger))
                }
            }
            .withBoundSocket(socket)
            .get()
        return MilterServer(channel: channel)
    }

    /// Serves on a UNIX-domain socket at `path` (which must be free).
    public static func start(
        path: String, filter: any MilterFilter, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) async throws -> MilterServer {
        let channel = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        MilterHandler(session: MilterSession(filter: filter), logger: logger))
                }
            }
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: false)
            .get()
        return MilterServer(channel: channel)
    }

    /// Closes the listener; open connections end with it.
    public func stop() async {
        try? await channel.close()
    }
}

/// Bytes in, the session's responses out.
final class MilterHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var reader = MilterPacketReader()
    private var session: MilterSession
    private let logger: Logger

    init(session: MilterSession, logger: Logger) {
        self.session = session
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        reader.append(buffer.readBytes(length: buffer.readableBytes) ?? [])
        do {
            var out: [UInt8] = []
            while let command = try reader.next() {
                for response in try session.receive(command) { out += response.bytes }
                if session.finished { break }
            }
            if !out.isEmpty {
                context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: out)), promise: nil)
            }
            if session.finished { context.close(promise: nil) }
        } catch {
            logger.warning("milter connection closed on a protocol error", metadata: ["error": "\(error)"])
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
