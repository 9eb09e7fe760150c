#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One end of a proxied connection: an IPv4 (4 bytes) or IPv6 (16 bytes) address, network order.
public struct ProxiedEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var address: [UInt8]
    public var port: UInt16

    public init(address: [UInt8], port: UInt16) {
        self.address = address
        self.port = port
    }

    public var isIPv6: Bool { address.count == 16 }

    /// The address in its usual text form (`inet_ntop`).
    public var addressText: String { Self.text(of: address) }

    public var description: String { isIPv6 ? "[\(addressText)]:\(port)" : "\(addressText):\(port)" }

    static func text(of bytes: [UInt8]) -> String {
        var out = [CChar](repeating: 0, count: 64)
        let family = bytes.count == 16 ? AF_INET6 : AF_INET
        let ok = bytes.withUnsafeBytes { source in
            inet_ntop(family, source.baseAddress, &out, socklen_t(out.count)) != nil
        }
        guard ok else { return "?" }
        return String(decoding: out.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The bytes of an IPv4 dotted quad or an IPv6 address (`inet_pton`), nil for anything else.
    static func bytes(of text: some StringProtocol) -> [UInt8]? {
        let string = String(text)
        guard !string.isEmpty, string.utf8.count < 64 else { return nil }
        var v4 = [UInt8](repeating: 0, count: 4)
        if string.withCString({ inet_pton(AF_INET, $0, &v4) }) == 1 { return v4 }
        var v6 = [UInt8](repeating: 0, count: 16)
        if string.withCString({ inet_pton(AF_INET6, $0, &v6) }) == 1 { return v6 }
        return nil
    }
}

/// A HAProxy PROXY protocol header (haproxy's doc/proxy-protocol.txt), version 1 (text) or 2
/// (binary), as a load balancer sends it before anything else on the connection.
public struct ProxyHeader: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// The connection is proxied for `source` (the client) to `destination` (the address the
        /// client connected to).
        case proxied(source: ProxiedEndpoint, destination: ProxiedEndpoint)
        /// v2 `LOCAL`: the proxy speaks for itself (a health check); the connection's own
        /// addresses stand.
        case local
        /// v1 `UNKNOWN`, or v2 `PROXY` with an address family or transport other than TCP over
        /// IPv4/IPv6: the client is not named.
        case unknown
    }

    public var version: Int
    public var kind: Kind

    public init(version: Int, kind: Kind) {
        self.version = version
        self.kind = kind
    }

    /// The client the header names, nil when it names none.
    public var source: ProxiedEndpoint? {
        if case .proxied(let source, _) = kind { return source }
        return nil
    }

    /// The v2 signature: `\r\n\r\n\0\r\nQUIT\n`.
    public static let v2Signature: [UInt8] = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]
    /// The longest v1 line, `\r\n` included (proxy-protocol.txt 2.1: 107 bytes).
    public static let maximumV1Length = 107
    /// The longest v2 header read: Postfix 3.7 peeks at most `HAPROXY_MAX_LEN` (256 + 2) bytes
    /// and refuses a header longer than what it peeked (haproxy_srvr.c, "short version 2
    /// protocol header").
    public static let maximumV2Length = 258

    public enum ParseResult: Sendable, Hashable {
        /// More bytes are needed to tell (never more than the maxima above in all).
        case needMore
        /// A whole header, `length` bytes long; what follows it is SMTP.
        case header(ProxyHeader, length: Int)
        /// Not a valid header, with Postfix's word for why (haproxy_srvr.c).
        case invalid(String)
    }

    /// Reads a header from the start of `bytes`.
    public static func parse(_ bytes: some Collection<UInt8>) -> ParseResult {
        let bytes = Array(bytes.prefix(maximumV2Length + 1))
        let v1Prefix = Array("PROXY ".utf8)
        if bytes.count < v1Prefix.count, Array(v1Prefix.prefix(bytes.count)) == bytes { return .needMore }
        if bytes.starts(with: v1Prefix) { return parseV1(bytes) }
        if bytes.count < v2Signature.count {
            return Array(v2Signature.prefix(bytes.count)) == bytes
                ? .needMore : .invalid("unrecognized protocol header")
        }
        guard bytes.starts(with: v2Signature) else { return .invalid("unrecognized protocol header") }
        return parseV2(bytes)
    }

    static func parseV1(_ bytes: [UInt8]) -> ParseResult {
        guard let lf = bytes.firstIndex(of: 0x0a) else {
            return bytes.count >= maximumV1Length ? .invalid("missing protocol header terminator") : .needMore
        }
        guard lf + 1 <= maximumV1Length, lf > 0, bytes[lf - 1] == 0x0d else {
            return .invalid(
                lf + 1 > maximumV1Length ? "missing protocol header terminator" : "bad or missing protocol header")
        }
        let words = bytes[..<(lf - 1)].split(separator: 0x20, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
        guard words.count >= 2, words[0] == "PROXY" else { return .invalid("bad or missing protocol header") }
        switch words[1] {
        case "UNKNOWN":
            // proxy-protocol.txt 2.1: the rest of the line up to CRLF is ignored.
            return .header(ProxyHeader(version: 1, kind: .unknown), length: lf + 1)
        case "TCP4", "TCP6":
            let wantsV6 = words[1] == "TCP6"
            guard words.count == 6 else { return .invalid("bad or missing protocol header") }
            guard let source = ProxiedEndpoint.bytes(of: words[2]), (source.count == 16) == wantsV6 else {
                return .invalid("bad or missing client address")
            }
            guard let destination = ProxiedEndpoint.bytes(of: words[3]), (destination.count == 16) == wantsV6 else {
                return .invalid("bad or missing server address")
            }
            guard let sourcePort = port(words[4]) else { return .invalid("bad or missing client port") }
            guard let destinationPort = port(words[5]) else { return .invalid("bad or missing server port") }
            let kind = Kind.proxied(
                source: ProxiedEndpoint(address: source, port: sourcePort),
                destination: ProxiedEndpoint(address: destination, port: destinationPort))
            return .header(ProxyHeader(version: 1, kind: kind), length: lf + 1)
        default:
            return .invalid("bad or missing protocol type")
        }
    }

    /// A decimal port, 0 to 65535, without sign or leading zeros (proxy-protocol.txt 2.1).
    static func port(_ text: String) -> UInt16? {
        guard !text.isEmpty, text.count <= 5, text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber),
            text == "0" || !text.hasPrefix("0"), let value = UInt16(text)
        else { return nil }
        return value
    }

    static func parseV2(_ bytes: [UInt8]) -> ParseResult {
        guard bytes.count >= 16 else { return .needMore }
        let versionCommand = bytes[12], familyTransport = bytes[13]
        let length = Int(bytes[14]) << 8 | Int(bytes[15])
        guard versionCommand & 0xf0 == 0x20 else { return .invalid("unrecognized protocol version") }
        guard 16 + length <= maximumV2Length else { return .invalid("short version 2 protocol header") }
        guard bytes.count >= 16 + length else { return .needMore }
        let body = Array(bytes[16..<(16 + length)])
        switch versionCommand & 0x0f {
        case 0x00:
            // LOCAL: the address block (if any) and TLVs are skipped (proxy-protocol.txt 2.2).
            return .header(ProxyHeader(version: 2, kind: .local), length: 16 + length)
        case 0x01:
            break
        default:
            return .invalid("bad command in proxy header")
        }
        func endpoint(_ at: Int, _ size: Int, portAt: Int) -> ProxiedEndpoint {
            ProxiedEndpoint(
                address: Array(body[at..<(at + size)]), port: UInt16(body[portAt]) << 8 | UInt16(body[portAt + 1]))
        }
        switch familyTransport {
        case 0x11:
            // TCP over IPv4: src(4) dst(4) sport(2) dport(2); TLVs may follow.
            guard length >= 12 else { return .invalid("short address field") }
            let kind = Kind.proxied(source: endpoint(0, 4, portAt: 8), destination: endpoint(4, 4, portAt: 10))
            return .header(ProxyHeader(version: 2, kind: kind), length: 16 + length)
        case 0x21:
            // TCP over IPv6: src(16) dst(16) sport(2) dport(2).
            guard length >= 36 else { return .invalid("short address field") }
            let kind = Kind.proxied(source: endpoint(0, 16, portAt: 32), destination: endpoint(16, 16, portAt: 34))
            return .header(ProxyHeader(version: 2, kind: kind), length: 16 + length)
        default:
            return .header(ProxyHeader(version: 2, kind: .unknown), length: 16 + length)
        }
    }

    // MARK: Writing (the sender's side)

    /// The v1 line for a TCP connection from `source` to `destination` (same family).
    public static func v1(source: ProxiedEndpoint, destination: ProxiedEndpoint) -> [UInt8] {
        let family = source.isIPv6 ? "TCP6" : "TCP4"
        return Array(
            "PROXY \(family) \(source.addressText) \(destination.addressText) \(source.port) \(destination.port)\r\n"
                .utf8)
    }

    /// The v2 header (command PROXY, TCP over the endpoints' family), without TLVs.
    public static func v2(source: ProxiedEndpoint, destination: ProxiedEndpoint) -> [UInt8] {
        let addresses = source.address + destination.address
        let body =
            addresses + [
                UInt8(source.port >> 8), UInt8(source.port & 0xff), UInt8(destination.port >> 8),
                UInt8(destination.port & 0xff),
            ]
        return v2Signature + [0x21, source.isIPv6 ? 0x21 : 0x11, UInt8(body.count >> 8), UInt8(body.count & 0xff)]
            + body
    }
}
