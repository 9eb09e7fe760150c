import DNSCore
import Logging
import MXHarnessTestKit
import NIOCore
import NIOPosix
import Policy
import ReferenceMX
import SMTPProtocol

/// A plain SMTP client over NIO for tests: writes raw bytes, reads whole replies.
final class TestSMTPClient {
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var pending: [UInt8] = []
    private(set) var isClosed = false

    init(
        inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    ) {
        self.inbound = inbound
        self.outbound = outbound
    }

    func send(_ text: String) async throws {
        try await outbound.write(ByteBuffer(string: text))
    }

    func send(bytes: [UInt8]) async throws {
        try await outbound.write(ByteBuffer(bytes: bytes))
    }

    /// Closes the client's sending side.
    func finish() {
        outbound.finish()
    }

    /// The next line from the server, nil at EOF.
    func readLine() async throws -> String? {
        while true {
            if let index = pending.firstIndex(of: 0x0a) {
                var line = Array(pending[..<index])
                pending.removeFirst(index + 1)
                if line.last == 0x0d { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            guard let buffer = try await inbound.next() else {
                isClosed = true
                return nil
            }
            pending += buffer.readableBytesView
        }
    }

    /// The next whole reply, nil at EOF.
    func readReply() async throws -> SMTPReply? {
        var code = 0
        var lines: [String] = []
        while let line = try await readLine() {
            let utf8 = Array(line.utf8)
            guard utf8.count >= 3, let value = Int(String(decoding: utf8.prefix(3), as: UTF8.self)) else { continue }
            code = value
            let body = utf8.count > 4 ? String(decoding: utf8.dropFirst(4), as: UTF8.self) : ""
            let (enhanced, text) = SMTPReply.splitEnhanced(body, code: value)
            lines.append(text)
            if utf8.count == 3 || utf8[3] == UInt8(ascii: " ") {
                return SMTPReply(code: code, enhanced: enhanced, lines: lines)
            }
        }
        return nil
    }

    /// Every reply until the server closes.
    func readAll() async throws -> [SMTPReply] {
        var replies: [SMTPReply] = []
        while let reply = try await readReply() { replies.append(reply) }
        return replies
    }

    /// Sends a command and returns its reply as `code enhanced text`.
    func command(_ line: String) async throws -> String {
        try await send(line + "\r\n")
        return try await readReply()?.description ?? "EOF"
    }
}

enum MXTest {
    static let group = MultiThreadedEventLoopGroup.singleton

    static var logger: Logger {
        var logger = Logger(label: "mxharness.test.mx")
        logger.logLevel = .warning
        return logger
    }

    /// An MX on 127.0.0.1 and ::1, on ports the kernel picks, stopped after `body`.
    static func withMX<T>(
        policy: ReceiverPolicy = .open, limits: SMTPServerLimits = .init(),
        bareNewline: SMTPBareNewlineMode = .normalize,
        dns: any DNSLookup = InMemoryDNS(), configure: (inout MXConfiguration) -> Void = { _ in },
        _ body: (ReferenceMX) async throws -> T
    ) async throws -> T {
        var configuration = MXConfiguration(
            hostname: "mx.example.test", policy: policy, limits: limits, bareNewline: bareNewline)
        configure(&configuration)
        let mx = ReferenceMX(configuration: configuration, lookup: dns, eventLoopGroup: group, logger: logger)
        do {
            try await mx.start(listeningOn: [IPAddress("127.0.0.1")!, IPAddress("::1")!], port: 0, in: nil)
            let result = try await body(mx)
            await mx.stop()
            return result
        } catch {
            await mx.stop()
            throw error
        }
    }

    /// Connects to the MX's endpoint of `family` and runs `body` with a client.
    static func withClient<T: Sendable>(
        _ mx: ReferenceMX, family: AddressFamily = .ipv4, _ body: (TestSMTPClient) async throws -> T
    ) async throws -> T {
        guard let endpoint = mx.endpoints.first(where: { $0.address.family == family }) else {
            throw MXError(message: "the MX has no \(family) endpoint")
        }
        let channel = try await ClientBootstrap(group: group).connect(
            host: endpoint.address.description, port: Int(endpoint.port)
        ) { channel in
            channel.eventLoop.makeCompletedFuture {
                // `finish()` shuts down the client's sending side (a half-close), as Exim does after a pipelined QUIT.
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                    wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
            }
        }
        return try await channel.executeThenClose { inbound, outbound in
            let client = TestSMTPClient(inbound: inbound.makeAsyncIterator(), outbound: outbound)
            return try await body(client)
        }
    }
}
