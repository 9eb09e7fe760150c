/// The PROXY header before the greeting and the XCLIENT command: how the session learns who the
/// client is when the connection comes from a proxy.
extension SMTPServerSession {
    var identity: SMTPIdentitySettings { settings.identity }

    /// The client may send XCLIENT: its address is one of `xclientHosts`. Postfix evaluates this at
    /// connect (after a PROXY header, for the proxied address) and again after each XCLIENT.
    var xclientAllowed: Bool {
        guard let client, !identity.xclientHosts.isEmpty else { return false }
        return identity.xclientHosts.contains(client)
    }

    var isAwaitingProxyHeader: Bool {
        if case .awaitingProxyHeader = state { return true }
        return false
    }

    /// How long the running timer lasts: the PROXY header's wait or the command timeout.
    @usableFromInline var timerDuration: Duration {
        if case .tlsHandshake = state { return handshakeTimeout }
        return isAwaitingProxyHeader ? identity.proxyTimeout : limits.commandTimeout
    }

    /// Postfix smtpd.c: any failed pre-SMTP handshake (`SMTPD_FLAG_HANGUP`) is answered
    /// `"421 4.3.0 %s Server local error"` and the connection closed.
    static func proxyFailure(_ hostname: String) -> SMTPReply {
        SMTPReply(code: 421, enhanced: "4.3.0", "\(hostname) Server local error")
    }

    mutating func awaitProxyHeader() {
        state = .awaitingProxyHeader
        timerArmed = true
        timerGeneration &+= 1
    }

    /// Bytes while the PROXY header is awaited: takes the header's bytes (never one past it) and
    /// returns where the SMTP input starts. A header that cannot be valid (garbage, a plain SMTP
    /// client that talks first, one longer than `ProxyHeader.maximumV2Length`) or that names no
    /// client is answered as Postfix does and the session closed.
    mutating func receivedProxyBytes(_ buffer: UnsafeRawBufferPointer, from offset: Int) -> Int {
        guard isAwaitingProxyHeader else { return offset }
        let room = ProxyHeader.maximumV2Length + 1 - proxyBuffer.count
        let taken = min(room, buffer.count - offset)
        let before = proxyBuffer.count
        proxyBuffer.append(contentsOf: buffer[offset..<(offset + taken)])
        switch ProxyHeader.parse(proxyBuffer) {
        case .needMore:
            return offset + taken
        case .invalid(let why):
            proxyFailed(why)
            return buffer.count
        case .header(let header, let length):
            proxyBuffer = []
            switch header.kind {
            case .unknown:
                // haproxy_srvr.c: "We don't accept connections with the "UNKNOWN" protocol type,
                // because those would sidestep address-based access control mechanisms."
                proxyFailed("bad or missing protocol type")
                return buffer.count
            case .local:
                // A v2 LOCAL header: the connection's own address stands (`non_proxy`).
                break
            case .proxied(let source, _):
                client = source.address
                emit(.identified(.proxyHeader(header)))
            }
            timerArmed = false
            state = .awaitingVerdict(.connect(line: nil))
            emit(.askPolicy(.connect))
            return offset + (length - before)
        }
    }

    private mutating func proxyFailed(_ why: String) {
        proxyBuffer = []
        closeWith(Self.proxyFailure(hostname), stage: .greeting, cause: "proxy:\(why)")
    }

    /// `XCLIENT attribute=value ...` (Postfix `smtpd.c` `xclient_cmd()`): checked in Postfix's
    /// order, then the session goes back to the greeting with the new client (its connect checks
    /// again, then `220`, HELO forgotten unless XCLIENT gave one).
    mutating func handleXCLIENT(_ text: String) {
        guard transaction == nil else {
            return send(
                SMTPReply(code: 503, enhanced: "5.5.1", "Error: MAIL transaction in progress"), stage: nil,
                command: text)
        }
        let arguments = text.drop { $0 != " " && $0 != "\t" }
        if arguments.allSatisfy({ $0 == " " || $0 == "\t" }) {
            return send(
                SMTPReply(code: 501, enhanced: "5.5.4", "Syntax: XCLIENT attribute=value..."), stage: nil, command: text
            )
        }
        guard xclientAllowed else {
            return send(
                SMTPReply(code: 550, enhanced: "5.7.0", "Error: insufficient authorization"), stage: nil, command: text,
                cause: "xclient:unauthorised")
        }
        switch XCLIENTCommand.parse(arguments: arguments) {
        case .failure(let rejection):
            send(rejection.reply, stage: nil, command: text)
        case .success(let command):
            if let address = command.address { client = address }
            helo = command.helo
            transaction = nil
            emit(.identified(.xclient(command)))
            ask(.connect(line: text), .connect)
        }
    }
}
