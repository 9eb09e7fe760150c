/// The commands of a session (RFC 5321 4.1): parsing, the order they may come in, and what each
/// asks the policy or answers at once.
extension SMTPServerSession {
    mutating func handleCommand(_ line: SMTPLine) {
        // Postfix reads a command as a C string (smtpd_chat_query(), STR(state->buffer)): it ends
        // at a NUL. Checked against postfix-3.7.11: `EHLO a<NUL>b` is `EHLO a`, and
        // `MAIL FROM:<a<NUL>b@x>` is the unbalanced `MAIL FROM:<a`.
        let text = line.bytes.contains(0) ? String(decoding: line.bytes.prefix { $0 != 0 }, as: UTF8.self) : line.text
        guard line.wireLength <= limits.commandLineLength else {
            // RFC 5321 4.5.3.1.4 / 4.2.2: 500 covers "command line too long".
            send(
                SMTPReply(code: 500, enhanced: "5.5.2", "Error: line too long"), stage: nil,
                command: String(text.prefix(64)) + "...", cause: "limit:line-length")
            return
        }
        if line.bytes.first.map({ $0 | 0x20 == UInt8(ascii: "x") }) == true, SMTPCommand.verb(of: text) == "XCLIENT" {
            return handleXCLIENT(text)
        }
        let parsed = SMTPCommand.parse(text)
        let verb = SMTPCommand.verb(of: text)
        if let reply = tlsRequiredError(verb: verb) {
            return send(reply, stage: Self.stage(ofVerb: verb), command: text)
        }
        if case .failure(.syntax) = parsed, let reply = sequenceError(verb: verb) {
            // Like Postfix: a command out of sequence is told so before its syntax is looked at.
            return send(reply, stage: Self.stage(ofVerb: verb), command: text)
        }
        if case .failure(.unsupportedParameter) = parsed, let reply = sequenceError(verb: verb) {
            return send(reply, stage: Self.stage(ofVerb: verb), command: text)
        }
        if sequenceError(verb: verb) == nil, let reply = SMTPCommand.postfixAddressSyntaxError(text, verb: verb) {
            return send(reply, stage: Self.stage(ofVerb: verb), command: text)
        }
        let command: SMTPCommand
        switch parsed {
        case .success(let parsed):
            command = parsed
        case .failure(.empty):
            send(SMTPReply(code: 500, enhanced: "5.5.2", "Error: bad syntax"), stage: nil, command: text)
            return
        case .failure(.unrecognized):
            // Postfix 3.7 smtpd.c: "500 5.5.2 Error: command not recognized" (also for a PROXY
            // header on a port that expects none).
            send(SMTPReply(code: 500, enhanced: "5.5.2", "Error: command not recognized"), stage: nil, command: text)
            return
        case .failure(.syntax(let usage)):
            send(
                SMTPReply(code: 501, enhanced: "5.5.4", "Syntax: \(usage)"), stage: Self.stage(ofVerb: verb),
                command: text)
            return
        case .failure(.unsupportedParameter(let keyword)):
            send(
                SMTPReply(code: 555, enhanced: "5.5.4", "Unsupported option: \(keyword)"),
                stage: Self.stage(ofVerb: verb), command: text)
            return
        }
        switch command {
        case .ehlo(let name), .helo(let name):
            let extended = if case .ehlo = command { true } else { false }
            ask(.helo(name: name, extended: extended, line: text), .helo(name: name, extended: extended))
        case .mail(let reversePath, let parameters):
            guard helo != nil else {
                return send(
                    SMTPReply(code: 503, enhanced: "5.5.1", "Error: send HELO/EHLO first"), stage: .mail, command: text)
            }
            guard transaction == nil else {
                return send(
                    SMTPReply(code: 503, enhanced: "5.5.1", "Error: nested MAIL command"), stage: .mail, command: text)
            }
            var is8Bit = false
            for parameter in parameters {
                switch parameter {
                case .size(let size) where size > limits.messageSize:
                    // RFC 1870 6.1.
                    return send(
                        SMTPReply(code: 552, enhanced: "5.3.4", "Message size exceeds fixed limit"), stage: .mail,
                        command: text, cause: "limit:message-size")
                case .body(let value):
                    is8Bit = value == "8BITMIME"
                default:
                    break
                }
            }
            ask(
                .mail(reversePath: reversePath, is8Bit: is8Bit, line: text), .mail(reversePath: reversePath, helo: helo)
            )
        case .rcpt(let forwardPath):
            guard let transaction else {
                return send(
                    SMTPReply(code: 503, enhanced: "5.5.1", "Error: need MAIL command"), stage: .rcpt, command: text)
            }
            guard transaction.recipients.count < limits.recipients else {
                // RFC 5321 4.5.3.1.10: 452 for too many recipients.
                return send(
                    SMTPReply(code: 452, enhanced: "4.5.3", "Error: too many recipients"), stage: .rcpt, command: text,
                    cause: "limit:recipients")
            }
            ask(
                .rcpt(forwardPath: forwardPath, line: text),
                .rcpt(forwardPath: forwardPath, reversePath: transaction.reversePath, helo: helo))
        case .data:
            guard let transaction else {
                return send(
                    SMTPReply(code: 503, enhanced: "5.5.1", "Error: need RCPT command"), stage: .data, command: text)
            }
            guard !transaction.recipients.isEmpty else {
                return send(
                    SMTPReply(code: 554, enhanced: "5.5.1", "Error: no valid recipients"), stage: .data, command: text)
            }
            body = Body()
            state = .data
            send(SMTPReply(code: 354, lines: ["End data with <CR><LF>.<CR><LF>"]), stage: .data, command: text)
        case .rset:
            transaction = nil
            send(SMTPReply(code: 250, enhanced: "2.0.0", "Ok"), stage: nil, command: text)
        case .noop:
            send(SMTPReply(code: 250, enhanced: "2.0.0", "Ok"), stage: nil, command: text)
        case .vrfy:
            // RFC 5321 3.5.3: 252 when the server will not verify but would accept the address.
            send(
                SMTPReply(
                    code: 252, enhanced: "2.5.2", "Cannot VRFY user, but will accept message and attempt delivery"),
                stage: nil, command: text)
        case .quit:
            closeWith(Self.bye, command: text)
        case .starttls:
            startTLS(text)
        }
    }

    /// The 503 for MAIL, RCPT or DATA given at the wrong point (RFC 5321 4.1.4), or nil.
    func sequenceError(verb: String) -> SMTPReply? {
        switch verb {
        case "MAIL":
            if helo == nil { return SMTPReply(code: 503, enhanced: "5.5.1", "Error: send HELO/EHLO first") }
            if transaction != nil { return SMTPReply(code: 503, enhanced: "5.5.1", "Error: nested MAIL command") }
        case "RCPT":
            if transaction == nil { return SMTPReply(code: 503, enhanced: "5.5.1", "Error: need MAIL command") }
        case "DATA":
            if transaction == nil { return SMTPReply(code: 503, enhanced: "5.5.1", "Error: need RCPT command") }
        default:
            break
        }
        return nil
    }

    static func stage(ofVerb verb: String) -> SMTPStage? {
        switch verb {
        case "EHLO", "HELO": .helo
        case "MAIL": .mail
        case "RCPT": .rcpt
        case "DATA": .data
        default: nil
        }
    }
}
