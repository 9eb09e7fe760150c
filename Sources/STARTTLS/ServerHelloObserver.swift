import NIOCore
import SMTPProtocol

/// Reads which cipher suite a TLS session uses from the ServerHello as it passes (NIOSSL tells the
/// version but not the cipher): sits below the `NIOSSLHandler`, on the socket's side, and watches
/// the bytes the server sends: outbound on the server, inbound on the client. Every byte passes
/// on unchanged; once the suite is known (or the bytes are no ServerHello) it only passes bytes.
public final class ServerHelloObserver: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    public enum Side: Sendable {
        /// The server's own writes carry the ServerHello.
        case server
        /// The reads from the server carry it.
        case client
    }

    private let side: Side
    private var seen: [UInt8] = []
    private var done = false
    /// OpenSSL's name of the suite the server chose, once seen.
    public private(set) var cipher: String?

    public init(side: Side) {
        self.side = side
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if side == .client { look(at: unwrapInboundIn(data)) }
        context.fireChannelRead(data)
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if side == .server { look(at: unwrapOutboundIn(data)) }
        context.write(data, promise: promise)
    }

    private func look(at buffer: ByteBuffer) {
        guard !done else { return }
        // The suite comes within the first 76 bytes (9 + 2 + 32 + 1 + 32 + 2 at most).
        seen += buffer.readableBytesView.prefix(128 - seen.count)
        switch TLSCipherSuite.fromServerHello(seen) {
        case .needMore:
            if seen.count >= 128 { finish() }
        case .notServerHello:
            finish()
        case .suite(let value):
            cipher = TLSCipherSuite.name(of: value)
            finish()
        }
    }

    private func finish() {
        done = true
        seen = []
    }
}
