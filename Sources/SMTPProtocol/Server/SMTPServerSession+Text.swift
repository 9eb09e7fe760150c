#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The message text of a session: its lines, the end of data, and what a bare `<LF>` does there
/// (`SMTPBareNewlineMode`, after Postfix's `receive_data_message()` in postfix-3.7.11 smtpd.c).
extension SMTPServerSession {
    /// The fast path for message text (`SMTPServerStateMachine.receivedText`): ordinary text lines
    /// straight from the read buffer into the body, without an `SMTPLine` (an array) per line,
    /// which is most of the work a message's text costs. Everything else goes through `received(_:)`.
    @usableFromInline
    mutating func receivedText(_ buffer: UnsafeRawBufferPointer, from offset: Int) -> Int {
        // Only where `received(_:)` would handle the line at once: nothing queued before it.
        guard case .data = state, output.isEmpty, pending.isEmpty, let base = buffer.baseAddress else { return offset }
        let frame = limits.frameLength
        var start = offset
        while start < buffer.count {
            guard let found = memchr(base + start, 0x0a, buffer.count - start) else { break }
            let end = base.distance(to: UnsafeRawPointer(found))
            let wireLength = end - start + 1
            // What the framer would hand over as an ordinary line: CRLF-ended, not cut short.
            guard wireLength <= frame, end > start, buffer[end - 1] == 0x0d else { break }
            let content = start..<(end - 1)
            // A `.` line, and a line with a second <CR> before its end (which `no` drops), go the
            // long way.
            if let last = content.last, buffer[last] == 0x0d { break }
            guard !(content.count == 1 && buffer[start] == UInt8(ascii: ".")) else { break }
            appendText(UnsafeRawBufferPointer(rebasing: buffer[content]), wireLength: wireLength)
            body.previousBareLF = false
            start = end + 1
        }
        if start > offset { timerArmed = false }
        return start
    }

    mutating func handleText(_ line: SMTPLine) {
        let bareLF = settings.bareNewline.detects && line.ending == .bareLF
        // smtpd.c: `if (IS_BARE_LF_REPLY_REJECT(smtp_got_bare_lf)) state->err |= CLEANUP_STAT_BARE_LF;`
        // for every line, the `.` line included, before the end of data is looked for.
        if bareLF, settings.bareNewline == .reject { body.bareLF = true }
        defer { body.previousBareLF = bareLF }
        if line.bytes.count == 1, line.bytes[0] == UInt8(ascii: ".") {
            // smtpd.c: `if (len == 1 && IS_BARE_LF_WANT_STD_EOD(smtp_detect_bare_lf) &&
            // (smtp_got_bare_lf || prev_got_bare_lf)) continue;`: the line is neither the end
            // nor stored.
            if settings.bareNewline.detects, bareLF || body.previousBareLF { return }
            endOfData()
            return
        }
        line.bytes.withUnsafeBytes { appendText($0, wireLength: line.wireLength) }
    }

    /// One text line of the message (without its line ending) into the body.
    mutating func appendText(_ line: UnsafeRawBufferPointer, wireLength: Int) {
        var content = line
        var wireLength = wireLength
        if content.first == UInt8(ascii: ".") {
            // RFC 5321 4.5.2: remove the transparency dot; it does not count toward the line limit
            // (RFC 5321 4.5.3.1.6).
            content = UnsafeRawBufferPointer(rebasing: content.dropFirst())
            wireLength -= 1
        }
        if wireLength > limits.textLineLength { body.overlongLine = true }
        // What the line counts toward the size limit: all of it, also the part of an over-long
        // line the framer dropped.
        let size = max(content.count + 2, wireLength)
        if body.size + size > limits.messageSize { body.tooBig = true }
        body.size += size
        if keepsText && !body.tooBig && !body.overlongLine && !body.bareLF {
            body.data.append(contentsOf: content)
            body.data.append(0x0d)
            body.data.append(0x0a)
        }
    }

    mutating func endOfData() {
        let command = "<message: \(body.size) bytes>"
        if body.bareLF {
            // smtpd.c common_post_message_handling(): CLEANUP_STAT_BARE_LF comes before every other
            // error; the session goes on.
            resetAfterData()
            send(Self.bareLFReply(hostname), stage: .data, command: command, cause: "bare-lf")
            return
        }
        if body.tooBig {
            // RFC 5321 4.5.3.1.10 / RFC 1870: 552 for a message over the size limit; Postfix words it so.
            resetAfterData()
            send(
                SMTPReply(code: 552, enhanced: "5.3.4", "Error: message file too big"), stage: .data, command: command,
                cause: "limit:message-size")
            return
        }
        if body.overlongLine {
            // RFC 5321 4.5.3.1.6 allows 1000 octets per text line; Postfix would split such a line,
            // this server refuses the message so the limit is visible.
            resetAfterData()
            send(
                SMTPReply(code: 500, enhanced: "5.5.2", "Error: text line too long"), stage: .data, command: command,
                cause: "limit:line-length")
            return
        }
        guard let transaction else { return resetAfterData() }
        acceptedMessages += 1
        let message = SMTPMessage(
            helo: helo, reversePath: transaction.reversePath, recipients: transaction.recipients, data: body.data,
            is8BitMIME: transaction.is8Bit, queueID: "\(queuePrefix)\(acceptedMessages)")
        body = Body()
        ask(.endOfData(message, command: command), .endOfData(message))
    }

    mutating func resetAfterData() {
        transaction = nil
        body = Body()
        state = .commands
    }
}
