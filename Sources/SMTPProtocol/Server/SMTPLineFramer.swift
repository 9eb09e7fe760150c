/// One line of client input, as cut by `SMTPLineFramer`.
public struct SMTPLine: Sendable, Hashable {
    public enum Ending: Sendable, Hashable {
        /// `<CR><LF>`, the only line ending RFC 5321 2.3.8 allows.
        case crlf
        /// `<LF>` without `<CR>` before it.
        case bareLF
    }

    /// The bytes before the line ending (at most the framer's limit; the rest of an overlong line is dropped).
    public var bytes: [UInt8]
    public var ending: Ending
    /// True when the line, terminator included, was longer than the framer's limit.
    public var isOverlong: Bool
    /// How many bytes the line had on the wire, terminator included.
    public var wireLength: Int

    public init(bytes: [UInt8], ending: Ending = .crlf, isOverlong: Bool = false, wireLength: Int? = nil) {
        self.bytes = bytes
        self.ending = ending
        self.isOverlong = isOverlong
        self.wireLength = wireLength ?? bytes.count + (ending == .crlf ? 2 : 1)
    }

    public init(_ text: String) {
        self.init(bytes: Array(text.utf8))
    }

    /// The bytes the server holds for the line while it waits: what the framer kept, not what
    /// came on the wire (the rest of an over-long line is dropped as it arrives).
    public var heldLength: Int { bytes.count + 2 }

    /// The line as text (invalid UTF-8 replaced), for commands and transcripts.
    public var text: String { String(decoding: bytes, as: UTF8.self) }
}

/// Cuts a byte stream into lines at `<LF>`, noting whether `<CR>` came before it. A bare `<CR>`
/// does not end a line (RFC 5321 2.3.8), so `\r.\r` can never be taken for the end of data.
/// Memory stays bounded: bytes past `maximumLength` are counted, not kept.
public struct SMTPLineFramer: Sendable {
    public let maximumLength: Int
    private var current: [UInt8] = []
    private var overflow = 0
    private var lastByte: UInt8?

    public init(maximumLength: Int) {
        self.maximumLength = max(maximumLength, 3)
    }

    /// Bytes received but not yet part of a complete line.
    public var bufferedCount: Int { current.count + overflow }

    /// Bytes of a partial line held in memory (at most `maximumLength`).
    public var heldCount: Int { current.count }

    /// Appends `bytes` and returns every line they complete, in order.
    public mutating func append(_ bytes: some Sequence<UInt8>) -> [SMTPLine] {
        if let lines = bytes.withContiguousStorageIfAvailable({ append(UnsafeRawBufferPointer($0)) }) {
            return lines
        }
        return Array(bytes).withUnsafeBytes { append($0) }
    }

    /// Appends `buffer` and returns every line it completes, in order.
    public mutating func append(_ buffer: UnsafeRawBufferPointer) -> [SMTPLine] {
        var lines: [SMTPLine] = []
        var offset = 0
        while offset < buffer.count {
            let (line, next) = nextLine(buffer, from: offset)
            if let line { lines.append(line) }
            offset = next
        }
        return lines
    }

    /// True when no part of a line is held: the next byte given starts a line.
    public var isAtLineStart: Bool { current.isEmpty && overflow == 0 }

    /// Cuts the line that ends first in `buffer[offset...]` (with what an earlier call kept) and
    /// returns it with the offset after its line feed; when the bytes end inside a line they are
    /// kept for the next call and the result is `(nil, buffer.count)`.
    public mutating func nextLine(_ buffer: UnsafeRawBufferPointer, from offset: Int) -> (SMTPLine?, Int) {
        guard let end = buffer[offset...].firstIndex(of: 0x0a) else {
            take(buffer[offset...])
            return (nil, buffer.count)
        }
        take(buffer[offset..<end])
        return (finishLine(), end + 1)
    }

    /// Keeps what fits of bytes without a line feed; counts the rest.
    private mutating func take(_ chunk: Slice<UnsafeRawBufferPointer>) {
        guard let last = chunk.last else { return }
        let room = max(0, maximumLength - current.count)
        if chunk.count <= room {
            current.append(contentsOf: chunk)
        } else {
            current.append(contentsOf: chunk.prefix(room))
            overflow += chunk.count - room
        }
        lastByte = last
    }

    private mutating func finishLine() -> SMTPLine {
        let ending: SMTPLine.Ending = lastByte == 0x0d ? .crlf : .bareLF
        let wireLength = current.count + overflow + 1
        let kept = overflow == 0 && ending == .crlf ? current.count - 1 : current.count
        let bytes = Array(current[..<kept])
        current.removeAll(keepingCapacity: true)
        overflow = 0
        lastByte = nil
        return SMTPLine(bytes: bytes, ending: ending, isOverlong: wireLength > maximumLength, wireLength: wireLength)
    }
}
