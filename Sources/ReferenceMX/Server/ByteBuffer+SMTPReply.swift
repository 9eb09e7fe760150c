import NIOCore
import SMTPProtocol

extension ByteBuffer {
    /// Writes `reply.wireFormat` without making the String first.
    mutating func writeSMTPReply(_ reply: SMTPReply) {
        writeWithUnsafeMutableBytes(minimumWritableBytes: reply.wireLength) { reply.writeWire(into: $0) }
    }
}
