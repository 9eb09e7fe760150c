/// The Sendmail milter protocol's packets (libmilter's mfdef.h, protocol version 6 as Postfix's
/// milter8.c speaks it): a 4-byte big-endian length, counting the command byte and the data, then
/// the command byte, then the data.
public enum MilterCommand: Sendable, Hashable {
    /// `O`: version, actions and protocol steps the MTA offers.
    case optionNegotiation(version: UInt32, actions: UInt32, protocolSteps: UInt32)
    /// `D`: macros for the command named by `stage` (a command byte).
    case macros(stage: UInt8, values: [String: String])
    /// `C`: the client's host name (`[ADDR]` when it has none), family and address.
    case connect(hostname: String, family: UInt8, port: UInt16, address: String)
    /// `H`
    case helo(String)
    /// `M`: the sender and ESMTP arguments.
    case mail([String])
    /// `R`
    case rcpt([String])
    /// `T`
    case data
    /// `L`: one header field, name and value as the MTA passes them.
    case header(name: String, value: String)
    /// `N`
    case endOfHeaders
    /// `B`
    case body
    /// `E`: the message is complete; the filter gives its final answer.
    case endOfMessage
    /// `A`: the current message is abandoned (no reply).
    case abort
    /// `Q`: the MTA closes the connection (no reply).
    case quit
    /// `K`: the MTA goes on with a new SMTP connection on this milter connection (no reply).
    case quitNewConnection
    /// `U`
    case unknown(String)
    /// A command byte this implementation does not know (answered as `continue`).
    case other(UInt8)
}

/// What a filter answers.
public enum MilterResponse: Sendable, Hashable {
    /// `O`: the version, actions and steps the filter wants.
    case optionNegotiation(version: UInt32, actions: UInt32, protocolSteps: UInt32)
    /// `c`
    case `continue`
    /// `a`: accept the message, no further callbacks for it.
    case accept
    /// `y`: reject or defer with this SMTP reply (`550 5.7.1 text`, lines joined with CRLF).
    case replyCode(String)

    public var bytes: [UInt8] {
        var data: [UInt8]
        let command: UInt8
        switch self {
        case .optionNegotiation(let version, let actions, let steps):
            command = UInt8(ascii: "O")
            data = Self.bigEndian(version) + Self.bigEndian(actions) + Self.bigEndian(steps)
        case .continue:
            command = UInt8(ascii: "c")
            data = []
        case .accept:
            command = UInt8(ascii: "a")
            data = []
        case .replyCode(let text):
            command = UInt8(ascii: "y")
            data = Array(text.utf8) + [0]
        }
        return Self.bigEndian(UInt32(data.count + 1)) + [command] + data
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }
}

public struct MilterProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
}

/// Splits a byte stream into commands.
public struct MilterPacketReader: Sendable {
    /// libmilter's own limit on a packet (MILTER_CHUNK_SIZE is 65535; headers and macros stay far below).
    public static let maximumLength = 1 << 20
    private var buffer: [UInt8] = []

    public init() {}

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// The next complete command, nil when more bytes are needed.
    public mutating func next() throws(MilterProtocolError) -> MilterCommand? {
        guard buffer.count >= 4 else { return nil }
        let length = Int(buffer[0]) << 24 | Int(buffer[1]) << 16 | Int(buffer[2]) << 8 | Int(buffer[3])
        guard length >= 1, length <= Self.maximumLength else {
            throw MilterProtocolError(
                description: "milter packet length \(length) is out of range (1 to \(Self.maximumLength))")
        }
        guard buffer.count >= 4 + length else { return nil }
        let command = buffer[4]
        let data = Array(buffer[5..<(4 + length)])
        buffer.removeFirst(4 + length)
        return try Self.parse(command: command, data: data)
    }

    static func parse(command: UInt8, data: [UInt8]) throws(MilterProtocolError) -> MilterCommand {
        switch Character(UnicodeScalar(command)) {
        case "O":
            guard data.count >= 12 else {
                throw MilterProtocolError(description: "option negotiation with \(data.count) bytes, not 12")
            }
            return .optionNegotiation(version: word(data, 0), actions: word(data, 4), protocolSteps: word(data, 8))
        case "D":
            guard let stage = data.first else {
                throw MilterProtocolError(description: "macro packet without a command byte")
            }
            let strings = cStrings(Array(data.dropFirst()))
            var values: [String: String] = [:]
            var index = 0
            while index + 1 < strings.count {
                values[strings[index]] = strings[index + 1]
                index += 2
            }
            return .macros(stage: stage, values: values)
        case "C":
            guard let nul = data.firstIndex(of: 0) else {
                throw MilterProtocolError(description: "connect packet without a host name")
            }
            let hostname = String(decoding: data[..<nul], as: UTF8.self)
            let rest = Array(data[(nul + 1)...])
            guard let family = rest.first else {
                throw MilterProtocolError(description: "connect packet without a family")
            }
            var port: UInt16 = 0
            var address = ""
            if family != UInt8(ascii: "U"), rest.count >= 3 {
                port = UInt16(rest[1]) << 8 | UInt16(rest[2])
                address = cStrings(Array(rest[3...])).first ?? ""
            }
            return .connect(hostname: hostname, family: family, port: port, address: address)
        case "H": return .helo(cStrings(data).first ?? "")
        case "M": return .mail(cStrings(data))
        case "R": return .rcpt(cStrings(data))
        case "T": return .data
        case "L":
            let strings = cStrings(data)
            guard strings.count >= 1 else { throw MilterProtocolError(description: "header packet without a name") }
            return .header(name: strings[0], value: strings.count > 1 ? strings[1] : "")
        case "N": return .endOfHeaders
        case "B": return .body
        case "E": return .endOfMessage
        case "A": return .abort
        case "Q": return .quit
        case "K": return .quitNewConnection
        case "U": return .unknown(cStrings(data).first ?? "")
        default: return .other(command)
        }
    }

    static func word(_ data: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(data[offset]) << 24 | UInt32(data[offset + 1]) << 16 | UInt32(data[offset + 2]) << 8
            | UInt32(data[offset + 3])
    }

    /// NUL-terminated strings, one after the other (a last one without its NUL counts too).
    static func cStrings(_ data: [UInt8]) -> [String] {
        var out: [String] = []
        var start = 0
        for (index, byte) in data.enumerated() where byte == 0 {
            out.append(String(decoding: data[start..<index], as: UTF8.self))
            start = index + 1
        }
        if start < data.count { out.append(String(decoding: data[start...], as: UTF8.self)) }
        return out
    }
}
