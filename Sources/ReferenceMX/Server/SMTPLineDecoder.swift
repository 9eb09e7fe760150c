import NIOCore
import SMTPProtocol

/// Cuts the byte stream into `SMTPLine`s with `SMTPLineFramer` (bounded memory, bare LF noted).
struct SMTPLineDecoder: ByteToMessageDecoder {
    typealias InboundOut = SMTPLine

    var framer: SMTPLineFramer

    init(maximumLength: Int) {
        framer = SMTPLineFramer(maximumLength: maximumLength)
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard buffer.readableBytes > 0 else { return .needMoreData }
        let lines = buffer.readWithUnsafeReadableBytes { bytes in (bytes.count, framer.append(bytes)) }
        for line in lines {
            context.fireChannelRead(wrapInboundOut(line))
        }
        return .needMoreData
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A partial line at EOF is no command (RFC 5321 2.3.8); it is dropped.
        _ = try decode(context: context, buffer: &buffer)
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }
}
