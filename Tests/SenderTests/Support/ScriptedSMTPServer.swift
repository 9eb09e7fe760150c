import Foundation
import NIOCore
import NIOPosix

/// What a scripted server saw: every command line, and the DATA lines as they came over the wire
/// (still dot-stuffed).
final class ServerRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var _commands: [String] = []
    private var _dataLines: [String] = []

    func command(_ line: String) { lock.withLock { _commands.append(line) } }
    func dataLine(_ line: String) { lock.withLock { _dataLines.append(line) } }
    var commands: [String] { lock.withLock { _commands } }
    var dataLines: [String] { lock.withLock { _dataLines } }
}

/// A small SMTP server on loopback that answers from a `ServerScript`.
struct ScriptedSMTPServer: Sendable {
    let channel: any Channel
    let port: Int
    let recorder: ServerRecorder

    static func start(on host: String, port: Int = 0, script: ServerScript) async throws -> ScriptedSMTPServer {
        let recorder = ServerRecorder()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(
                        ScriptedSMTPServerHandler(script: script, recorder: recorder))
                }
            }
            .bind(host: host, port: port)
            .get()
        guard let bound = channel.localAddress?.port else {
            try? await channel.close()
            throw ServerStartError(host: host)
        }
        return ScriptedSMTPServer(channel: channel, port: bound, recorder: recorder)
    }

    func stop() async {
        try? await channel.close()
    }

    struct ServerStartError: Error, CustomStringConvertible {
        var host: String
        var description: String { "scripted SMTP server on \(host) has no local port after bind" }
    }
}

private final class ScriptedSMTPServerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let script: ServerScript
    private let recorder: ServerRecorder
    private var pending: [UInt8] = []
    private var inData = false
    /// STARTTLS was answered 2xx: input is the client's TLS, answered at most once with the script's
    /// `afterSTARTTLS`.
    private var pastSTARTTLS = false
    private var answeredTLS = false

    init(script: ServerScript, recorder: ServerRecorder) {
        self.script = script
        self.recorder = recorder
    }

    func channelActive(context: ChannelHandlerContext) {
        if !script.silent { send(script.greeting, context: context) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if pastSTARTTLS {
            if let reply = script.afterSTARTTLS, !answeredTLS {
                answeredTLS = true
                context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: reply)), promise: nil)
            }
            return
        }
        pending.append(contentsOf: buffer.readBytes(length: buffer.readableBytes) ?? [])
        while !pastSTARTTLS, let newline = pending.firstIndex(of: 0x0a) {
            var end = newline
            if end > 0, pending[end - 1] == 0x0d { end -= 1 }
            let line = String(decoding: pending[..<end], as: UTF8.self)
            pending.removeSubrange(...newline)
            handle(line, context: context)
        }
    }

    private func handle(_ line: String, context: ChannelHandlerContext) {
        if inData {
            if line == "." {
                inData = false
                send(script.endOfData, context: context)
            } else {
                recorder.dataLine(line)
            }
            return
        }
        recorder.command(line)
        let reply = script.reply(to: line)
        let verb = line.prefix { $0 != " " && $0 != ":" }.uppercased()
        if verb == "DATA", reply.last?.first == "3" { inData = true }
        if verb == "STARTTLS", reply.last?.first == "2" {
            pastSTARTTLS = true
            pending.removeAll()
        }
        send(reply, context: context)
        if verb == "QUIT" { context.close(promise: nil) }
    }

    private func send(_ lines: [String], context: ChannelHandlerContext) {
        let text = lines.map { $0 + "\r\n" }.joined()
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: text)), promise: nil)
    }
}
