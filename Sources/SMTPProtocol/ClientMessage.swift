/// The DATA payload of a message as the client sends it (RFC 5321 4.5.2, 2.3.8).
public enum ClientMessage {
    /// The message with every line ending made CRLF (a bare LF becomes CRLF, a CR before an LF is
    /// kept once), a CRLF added after a last line that lacks one. Bare CRs inside a line are left alone.
    public static func normalized(_ message: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(message.count + message.count / 40 + 2)
        forEachLine(message) { line in
            out.append(contentsOf: line)
            out.append(0x0d)
            out.append(0x0a)
        }
        return out
    }

    /// The bytes to send after the 354 reply: the normalized message with every line that starts
    /// with a period given one more (RFC 5321 4.5.2), then the terminating `.` line.
    public static func dataPayload(_ message: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(message.count + message.count / 40 + 5)
        forEachLine(message) { line in
            if line.first == 0x2e { out.append(0x2e) }
            out.append(contentsOf: line)
            out.append(0x0d)
            out.append(0x0a)
        }
        out.append(contentsOf: [0x2e, 0x0d, 0x0a])
        return out
    }

    /// The number of lines and of octets (CRLF line endings, before dot-stuffing): what SIZE=
    /// declares (RFC 1870 3) and what the transcript shows.
    public static func measure(_ message: [UInt8]) -> (lines: Int, octets: Int) {
        var lines = 0, octets = 0
        forEachLine(message) { line in
            lines += 1
            octets += line.count + 2
        }
        return (lines, octets)
    }

    /// True when a byte has the eighth bit set, so the body is 8BITMIME rather than 7BIT (RFC 6152).
    public static func has8BitContent(_ message: [UInt8]) -> Bool {
        message.contains { $0 >= 0x80 }
    }

    /// Calls `body` with each line of `message` without its line ending.
    private static func forEachLine(_ message: [UInt8], _ body: (ArraySlice<UInt8>) -> Void) {
        var start = message.startIndex
        var index = message.startIndex
        while index < message.endIndex {
            if message[index] == 0x0a {
                var end = index
                if end > start, message[end - 1] == 0x0d { end -= 1 }
                body(message[start..<end])
                start = index + 1
            }
            index += 1
        }
        if start < message.endIndex {
            var end = message.endIndex
            if end > start, message[end - 1] == 0x0d { end -= 1 }
            body(message[start..<end])
        }
    }
}
