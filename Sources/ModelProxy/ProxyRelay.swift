import DNSCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SMTPProtocol
import Sandbox

/// How the relay names the sender to the receiver: what the built-in sender writes itself on each
/// identity path (`ProxiedSending`).
public enum RelayPath: Sendable, Hashable {
    case proxyV1
    case proxyV2
    /// `XCLIENT` with `NAME=` when given; `helo` is the sender's EHLO name, said before it.
    case xclient(name: String?, helo: String)
}

/// A TCP relay in a case's namespace: it listens on each receiver address at `frontPort` (where
/// `ConnectionRedirect` sends the sender's connections to port 25), connects to the same address on
/// port 25 from the proxy's address of that family, names the sender on `path`, and then passes
/// every byte through both ways. One relay per case; `stop` closes every connection.
public final class ProxyRelay: Sendable {
    public struct Route: Sendable, Hashable {
        public var receiver: IPAddress
        public var source: IPAddress

        public init(receiver: IPAddress, source: IPAddress) {
            self.receiver = receiver
            self.source = source
        }
    }

    public let routes: [Route]
    public let path: RelayPath
    public let frontPort: UInt16
    public let receiverPort: UInt16
    let connectTimeout: Duration
    let namespace: NetworkNamespace
    let group: any EventLoopGroup
    let logger: Logger
    private let state = NIOLockedValueBox(State())

    struct State {
        var listeners: [any Channel] = []
        var connections: [any Channel] = []
        var lines: [String] = []
        var stopped = false
    }

    public init(
        routes: [Route], path: RelayPath, frontPort: UInt16, receiverPort: UInt16 = 25, connectTimeout: Duration,
        namespace: NetworkNamespace, group: any EventLoopGroup, logger: Logger
    ) {
        self.routes = routes
        self.path = path
        self.frontPort = frontPort
        self.receiverPort = receiverPort
        self.connectTimeout = connectTimeout
        self.namespace = namespace
        self.group = group
        self.logger = logger
    }

    /// What the relay did with each connection, one line each.
    public var log: [String] { state.withLockedValue { $0.lines } }

    func note(_ line: String) {
        state.withLockedValue { $0.lines.append(line) }
    }

    /// Listens on every route's receiver address.
    public func start() async throws {
        for route in routes {
            let fd = try await Sockets.listen(on: route.receiver, port: frontPort, in: namespace)
            let channel: any Channel
            do {
                // Half-closure is passed on (`ClientSideHandler`): a sender that shuts its side
                // after pipelining QUIT behind the final dot still reads the receiver's replies.
                channel = try await ServerBootstrap(group: group)
                    .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
                    .childChannelInitializer { [self] child in
                        child.eventLoop.makeCompletedFuture {
                            let handler = ClientSideHandler(relay: self, route: route)
                            try child.pipeline.syncOperations.addHandler(handler)
                        }
                    }
                    .withBoundSocket(fd)
                    .get()
            } catch {
                throw ProxyRelayError(
                    description: "the proxy cannot serve on \(route.receiver) port \(frontPort): \(error)")
            }
            let stopped = state.withLockedValue { state -> Bool in
                if state.stopped { return true }
                state.listeners.append(channel)
                return false
            }
            if stopped {
                try? await channel.close()
                throw ProxyRelayError(description: "the proxy was stopped while starting")
            }
        }
    }

    /// Keeps `channel` to close at `stop`; false when the relay is stopping.
    func track(_ channel: any Channel) -> Bool {
        state.withLockedValue { state in
            if state.stopped { return false }
            state.connections.append(channel)
            return true
        }
    }

    /// Closes the listeners and every connection.
    public func stop() async {
        let channels = state.withLockedValue { state -> [any Channel] in
            state.stopped = true
            defer {
                state.listeners = []
                state.connections = []
            }
            return state.listeners + state.connections
        }
        for channel in channels { try? await channel.close() }
    }

    /// The sender's address and port as the relay names them to the receiver.
    public static func endpoint(of peer: SocketAddress) -> (address: IPAddress, port: Int)? {
        // `IPAddress($0)`, never `IPAddress.init`: as a function reference that means the
        // non-generic `init?(reverseName:)`, which reads no address literal.
        guard let address = peer.ipAddress.flatMap({ IPAddress($0) }), let port = peer.port else { return nil }
        return (address, port)
    }

    /// Connects to the receiver for one client and wires the two together.
    func connect(for client: any Channel, handler: ClientSideHandler, route: Route) {
        guard let peer = client.remoteAddress, let (clientAddress, clientPort) = Self.endpoint(of: peer) else {
            note("\(client.remoteAddress.map { "\($0)" } ?? "a client"): its address could not be read; closed")
            client.close(promise: nil)
            return
        }
        let eventLoop = client.eventLoop
        Task {
            let fd: CInt
            do {
                fd = try await Sockets.connect(
                    from: route.source, to: route.receiver, port: receiverPort, timeout: connectTimeout, in: namespace)
            } catch {
                note("\(clientAddress) -> \(route.receiver): connect from \(route.source) failed: \(error)")
                client.close(promise: nil)
                return
            }
            let source = ProxiedEndpoint(address: clientAddress.bytes, port: UInt16(clamping: clientPort))
            let destination = ProxiedEndpoint(address: route.receiver.bytes, port: receiverPort)
            var preamble: XCLIENTRelay?
            var header: [UInt8] = []
            switch path {
            case .proxyV1: header = ProxyHeader.v1(source: source, destination: destination)
            case .proxyV2: header = ProxyHeader.v2(source: source, destination: destination)
            case .xclient(let name, let helo):
                preamble = XCLIENTRelay(
                    helo: helo, xclientLine: XCLIENTCommand.line(address: clientAddress.bytes, name: name))
            }
            do {
                let initial = preamble
                let server = try await ClientBootstrap(group: eventLoop)
                    .channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(
                                ServerSideHandler(clientHandler: handler, preamble: initial))
                        }
                    }
                    .withConnectedSocket(fd)
                    .get()
                guard track(server) else {
                    server.close(promise: nil)
                    client.close(promise: nil)
                    return
                }
                eventLoop.execute { [header] in
                    handler.attach(server: server, header: header, waitsForPreamble: initial != nil)
                }
                note(
                    "\(clientAddress):\(clientPort) -> \(route.receiver):\(receiverPort) from \(route.source), \(describe(path, client: clientAddress))"
                )
            } catch {
                note("\(clientAddress) -> \(route.receiver): \(error)")
                client.close(promise: nil)
            }
        }
    }

    private func describe(_ path: RelayPath, client: IPAddress) -> String {
        switch path {
        case .proxyV1: "PROXY v1 header for \(client)"
        case .proxyV2: "PROXY v2 header for \(client)"
        case .xclient(let name, _): "XCLIENT ADDR=\(client)" + (name.map { " NAME=\($0)" } ?? "")
        }
    }
}

/// The relay could not be set up.
public struct ProxyRelayError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// The sender's side of one relayed connection: buffered until the receiver's side is ready, then
/// passed through (or answered by the XCLIENT refusal).
///
/// A side that stops sending (its FIN) is passed on as a FIN to the other, once what it sent
/// before has been written, as a TCP proxy does (HAProxy's default): Exim pipelines QUIT after
/// the final dot and then shuts its side of the socket, and still reads the reply to the dot and
/// to QUIT. Each connection closes once both directions have ended.
final class ClientSideHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Mode {
        case waiting([UInt8])
        case splice(any Channel)
        case refusing(XCLIENTRefusal)
        case closed
    }

    let relay: ProxyRelay
    let route: ProxyRelay.Route
    private var mode = Mode.waiting([])
    private var context: ChannelHandlerContext?
    /// The sender sent its FIN.
    private(set) var senderEnded = false
    /// The receiver's FIN was passed on to the sender.
    private var receiverEnded = false
    /// The last write to the sender and to the receiver: a FIN follows them.
    private var lastWriteToSender: EventLoopFuture<Void>?
    private var lastWriteToReceiver: EventLoopFuture<Void>?

    init(relay: ProxyRelay, route: ProxyRelay.Route) {
        self.relay = relay
        self.route = route
    }

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        guard relay.track(context.channel) else {
            context.close(promise: nil)
            return
        }
        relay.connect(for: context.channel, handler: self, route: route)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = Array(buffer: unwrapInboundIn(data))
        switch mode {
        case .waiting(let pending):
            mode = .waiting(pending + bytes)
        case .splice(let server):
            lastWriteToReceiver = server.writeAndFlush(ByteBuffer(bytes: bytes))
        case .refusing(var refusal):
            let answer = refusal.receive(bytes)
            mode = .refusing(refusal)
            if !answer.isEmpty { context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: answer)), promise: nil) }
            if refusal.finished { context.close(promise: nil) }
        case .closed:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .splice(let server) = mode { server.close(promise: nil) }
        mode = .closed
        self.context = nil
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case ChannelEvent.inputClosed = event else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        senderEnded = true
        switch mode {
        case .splice(let server): endOutput(of: server, after: lastWriteToReceiver)
        case .refusing, .closed: context.close(promise: nil)
        case .waiting: break  // `splice` passes it on after the bytes that wait
        }
        if receiverEnded { context.close(promise: nil) }
    }

    /// Sends a FIN on `channel` once `write` is done: the whole channel closes if it has already
    /// seen the other side's FIN.
    private func endOutput(of channel: any Channel, after write: EventLoopFuture<Void>?) {
        let close: @Sendable () -> Void = { channel.close(mode: .output, promise: nil) }
        if let write { write.whenComplete { _ in close() } } else { close() }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// The receiver's side is connected: a header path writes the header and passes everything
    /// through; XCLIENT waits until `ServerSideHandler`'s preamble splices or refuses.
    func attach(server: any Channel, header: [UInt8], waitsForPreamble: Bool) {
        guard !waitsForPreamble else { return }
        lastWriteToReceiver = server.writeAndFlush(ByteBuffer(bytes: header))
        splice(to: server)
    }

    /// Passes the sender's bytes through from now on, those that came while waiting first.
    func splice(to server: any Channel) {
        guard case .waiting(let pending) = mode else { return }
        if !pending.isEmpty { lastWriteToReceiver = server.writeAndFlush(ByteBuffer(bytes: pending)) }
        mode = .splice(server)
        if senderEnded { endOutput(of: server, after: lastWriteToReceiver) }
    }

    /// Answers the sender from now on (XCLIENT was refused).
    func refuse(_ refusal: XCLIENTRefusal) {
        guard case .waiting(let pending) = mode else { return }
        var refusal = refusal
        let answer = refusal.receive(pending)
        mode = .refusing(refusal)
        if !answer.isEmpty { send(answer) }
        if refusal.finished { context?.close(promise: nil) }
    }

    /// Writes to the sender.
    func send(_ bytes: [UInt8]) {
        guard let context else { return }
        lastWriteToSender = context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: bytes)))
    }

    /// The receiver sent its FIN (`inputOnly`) or is gone: the sender gets its FIN after what
    /// the receiver sent, or the whole connection closes when the sender has ended too; unless
    /// the refusal answers the sender.
    func serverClosed(inputOnly: Bool = false) {
        if case .refusing = mode { return }
        guard let context else { return }
        guard inputOnly, !senderEnded else {
            if let write = lastWriteToSender {
                // The write was the context's own (`writeAndFlush`), so it completes on its loop.
                let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
                write.whenComplete { _ in bound.value.close(promise: nil) }
            } else {
                context.close(promise: nil)
            }
            return
        }
        receiverEnded = true
        endOutput(of: context.channel, after: lastWriteToSender)
    }
}

/// The receiver's side of one relayed connection: the XCLIENT preamble first when there is one,
/// then everything to the sender.
final class ServerSideHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let clientHandler: ClientSideHandler
    private var preamble: XCLIENTRelay?
    private var refused = false

    init(clientHandler: ClientSideHandler, preamble: XCLIENTRelay?) {
        self.clientHandler = clientHandler
        self.preamble = preamble
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = Array(buffer: unwrapInboundIn(data))
        guard var relay = preamble else {
            if !refused { clientHandler.send(bytes) }
            return
        }
        let actions = relay.receive(bytes)
        preamble = relay.isDone ? nil : relay
        for action in actions {
            switch action {
            case .sendToServer(let bytes):
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: bytes)), promise: nil)
            case .sendToClient(let bytes):
                clientHandler.send(bytes)
            case .splice(let pending):
                if !pending.isEmpty { clientHandler.send(pending) }
                clientHandler.splice(to: context.channel)
            case .refuse(let reply, let goodbye):
                refused = true
                clientHandler.refuse(XCLIENTRefusal(reply: reply, goodbye: goodbye))
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: Array("QUIT\r\n".utf8))), promise: nil)
                context.close(promise: nil)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        clientHandler.serverClosed()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case ChannelEvent.inputClosed = event else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        clientHandler.serverClosed(inputOnly: true)
        // Both directions have ended: nothing more goes either way.
        if clientHandler.senderEnded { context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
