import NIOCore
import SMTPProtocol

extension ByteBuffer {
    /// Writes `reply.wireFormat` without making the String first: the bytes go straight into
    /// the buffer, reserved once.
    mutating func writeSMTPReply(_ reply: SMTPReply) {
        let code = reply.code
        guard (100...999).contains(code) else {
            writeString(reply.wireFormat)
            return
        }
        let hasEnhanced = reply.enhanced != nil
        var enhanced = reply.enhanced ?? ""
        let enhancedLength = enhanced.utf8.count
        var length = 0
        for line in reply.lines {
            length += 6 + line.utf8.count + (hasEnhanced ? enhancedLength + 1 : 0)
        }
        let digits = (UInt8(48 + code / 100), UInt8(48 + code / 10 % 10), UInt8(48 + code % 10))
        let last = reply.lines.count - 1
        writeWithUnsafeMutableBytes(minimumWritableBytes: length) { out in
            var at = 0
            for (index, var line) in reply.lines.enumerated() {
                out[at] = digits.0
                out[at + 1] = digits.1
                out[at + 2] = digits.2
                out[at + 3] = index == last ? UInt8(ascii: " ") : UInt8(ascii: "-")
                at += 4
                if hasEnhanced {
                    at += enhanced.withUTF8 { UnsafeMutableRawBufferPointer(rebasing: out[at...]).copyBytes(from: $0); return $0.count }
                    if !line.isEmpty {
                        out[at] = UInt8(ascii: " ")
                        at += 1
                    }
                }
                at += line.withUTF8 { UnsafeMutableRawBufferPointer(rebasing: out[at...]).copyBytes(from: $0); return $0.count }
                out[at] = 0x0d
                out[at + 1] = 0x0a
                at += 2
            }
            return at
        }
    }
}
