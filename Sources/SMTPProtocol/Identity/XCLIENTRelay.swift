/// What a proxy that speaks XCLIENT for a real sending MTA says to the receiver before it lets the
/// sender's own session through, as a pure state machine: bytes from the server in, actions out.
///
/// It does what the built-in sender does on the `xclient` path (the client state machine's
/// XCLIENT step), so that a real MTA behind it meets the receiver as the model does: greeting,
/// `EHLO` with the sender's name, `XCLIENT ADDR=... [NAME=...]`, and then
/// - 220 (the new greeting, Postfix XCLIENT_README): the sender gets that greeting and its own
///   session runs from there, spliced;
/// - 421 or 554 (a refusal at the greeting of the new session): the sender gets it as its greeting;
/// - any other reply (550 5.7.0 insufficient authorization, 501, 503): the sender gets the
///   original greeting, and the refusal as the answer to each EHLO or HELO it tries (a Postfix
///   sender then falls back from EHLO to HELO and records the refusal at the HELO stage, as the
///   model does), until it says QUIT;
/// - a greeting other than 220, or a refused EHLO: the sender gets the greeting and its session
///   runs spliced from there, without XCLIENT (it meets the same refusal itself).
public struct XCLIENTRelay: Sendable {
    public enum Action: Sendable, Hashable {
        /// Write these bytes to the server.
        case sendToServer([UInt8])
        /// Write these bytes to the client.
        case sendToClient([UInt8])
        /// From now on every byte goes through unchanged, both ways; `pending` are bytes the server
        /// sent after the last reply read here, for the client.
        case splice(pending: [UInt8])
        /// The server refused XCLIENT: answer the client's EHLO and HELO with `reply` (its wire
        /// bytes) and QUIT with `goodbye`, say QUIT to the server and close it.
        case refuse(reply: [UInt8], goodbye: [UInt8])
    }

    enum State: Sendable, Hashable {
        case greeting
        case ehlo
        case xclient
        case done
    }

    public let helo: String
    public let xclientLine: String
    private var state = State.greeting
    private var buffer: [UInt8] = []
    private var replyBytes: [UInt8] = []
    private var greeting: [UInt8] = []

    /// `helo`: the sender's EHLO name; `xclientLine`: `XCLIENT ADDR=... [NAME=...]` without CRLF.
    public init(helo: String, xclientLine: String) {
        self.helo = helo
        self.xclientLine = xclientLine
    }

    public var isDone: Bool { state == .done }

    /// Feeds bytes the server sent; returns what to do, in order.
    public mutating func receive(_ bytes: some Sequence<UInt8>) -> [Action] {
        guard state != .done else { return [.sendToClient(Array(bytes))] }
        buffer += bytes
        var actions: [Action] = []
        while state != .done, let end = buffer.firstIndex(of: 0x0a) {
            let line = Array(buffer[...end])
            buffer.removeSubrange(...end)
            replyBytes += line
            // A reply's last line has a space (or nothing) after the code (RFC 5321 4.2.1).
            let isLast = line.count < 5 || line[3] != 0x2d
            guard isLast else { continue }
            let reply = replyBytes
            replyBytes = []
            actions += handle(reply: reply, code: Self.code(of: reply))
        }
        if state == .done {
            let pending = buffer
            buffer = []
            if !actions.contains(where: { if case .refuse = $0 { true } else { false } }) {
                actions.append(.splice(pending: pending))
            }
        }
        return actions
    }

    private mutating func handle(reply: [UInt8], code: Int?) -> [Action] {
        switch state {
        case .greeting:
            guard code == 220 else {
                state = .done
                return [.sendToClient(reply)]
            }
            greeting = reply
            state = .ehlo
            return [.sendToServer(Array("EHLO \(helo)\r\n".utf8))]
        case .ehlo:
            guard let code, code / 100 == 2 else {
                // The sender meets the refusal itself when it says EHLO in turn.
                state = .done
                return [.sendToClient(greeting)]
            }
            state = .xclient
            return [.sendToServer(Array((xclientLine + "\r\n").utf8))]
        case .xclient:
            state = .done
            if code == 220 || code == 421 || code == 554 { return [.sendToClient(reply)] }
            return [.sendToClient(greeting), .refuse(reply: reply, goodbye: Array("221 2.0.0 Bye\r\n".utf8))]
        case .done:
            return [.sendToClient(reply)]
        }
    }

    static func code(of reply: [UInt8]) -> Int? {
        guard reply.count >= 3, reply[0..<3].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int(reply[0] - 0x30) * 100 + Int(reply[1] - 0x30) * 10 + Int(reply[2] - 0x30)
    }
}

/// The client's side once `XCLIENTRelay` refused: each command line the sender writes gets the
/// refusal, QUIT gets the goodbye and ends it. Pure.
public struct XCLIENTRefusal: Sendable {
    public let reply: [UInt8]
    public let goodbye: [UInt8]
    private var buffer: [UInt8] = []
    public private(set) var finished = false

    public init(reply: [UInt8], goodbye: [UInt8]) {
        self.reply = reply
        self.goodbye = goodbye
    }

    /// Feeds bytes the client sent; returns the bytes to answer with.
    public mutating func receive(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        guard !finished else { return [] }
        buffer += bytes
        var out: [UInt8] = []
        while !finished, let end = buffer.firstIndex(of: 0x0a) {
            var line = String(decoding: buffer[..<end], as: UTF8.self).uppercased()
            while line.last == "\r" || line.last == " " { line.removeLast() }
            buffer.removeSubrange(...end)
            if line == "QUIT" {
                out += goodbye
                finished = true
            } else {
                // EHLO, HELO and anything else: the session never got past XCLIENT.
                out += reply
            }
        }
        return out
    }
}
