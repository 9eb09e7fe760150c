#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The two address families a mail world has.
public enum AddressFamily: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    case ipv4
    case ipv6

    public var description: String { rawValue }
}

/// An IPv4 or IPv6 address, stored as network-order bytes.
public struct IPAddress: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    /// 4 bytes for IPv4, 16 for IPv6.
    public let bytes: [UInt8]

    public var family: AddressFamily { bytes.count == 4 ? .ipv4 : .ipv6 }

    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Parses dotted-quad IPv4 or any RFC 4291 textual IPv6 form (no zone id, no brackets).
    public init?(_ text: some StringProtocol) {
        let string = String(text)
        guard !string.isEmpty, string.utf8.count < 64 else { return nil }
        if string.contains(":") {
            var storage = in6_addr()
            guard inet_pton(AF_INET6, string, &storage) == 1 else { return nil }
            self.bytes = withUnsafeBytes(of: &storage) { Array($0) }
        } else {
            // inet_pton accepts only the strict dotted-quad form, which is what zone files use.
            var storage = in_addr()
            guard inet_pton(AF_INET, string, &storage) == 1 else { return nil }
            self.bytes = withUnsafeBytes(of: &storage) { Array($0) }
        }
    }

    /// An address written in the code (`IPAddress(literal: "192.0.2.10")`): the one place where text
    /// that is not an address stops the program, since only the code's author can have mistyped
    /// it. Text from input goes through `init?(_:)`.
    public init(literal text: StaticString) {
        guard let address = IPAddress(text.description) else { preconditionFailure("not an IP address: \(text)") }
        self = address
    }

    /// Canonical text: dotted quad, or RFC 5952 compressed IPv6.
    public var description: String {
        // INET6_ADDRSTRLEN is 46; the text is made on the stack, the String is the one allocation.
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer in
            bytes.withUnsafeBytes { raw in
                guard inet_ntop(family == .ipv4 ? AF_INET : AF_INET6, raw.baseAddress, buffer.baseAddress, 64) != nil
                else { return "?" }
                return String(cString: buffer.baseAddress!)
            }
        }
    }

    /// The name under `in-addr.arpa` or `ip6.arpa` whose PTR names this address (no trailing dot).
    public var reverseName: String {
        switch family {
        case .ipv4:
            return bytes.reversed().map(String.init).joined(separator: ".") + ".in-addr.arpa"
        case .ipv6:
            return reversedLabels.joined(separator: ".") + ".ip6.arpa"
        }
    }

    /// Reversed octets (IPv4) or nibbles (IPv6), as DNSBL and SPF `%{ir}` use them.
    public var reversedLabels: [String] {
        switch family {
        case .ipv4:
            return bytes.reversed().map(String.init)
        case .ipv6:
            let hex = Array("0123456789abcdef")
            var nibbles: [String] = []
            nibbles.reserveCapacity(32)
            for byte in bytes.reversed() {
                nibbles.append(String(hex[Int(byte & 0x0f)]))
                nibbles.append(String(hex[Int(byte >> 4)]))
            }
            return nibbles
        }
    }

    /// Parses a reverse-zone name (`...in-addr.arpa` or `...ip6.arpa`, trailing dot optional) back to an address.
    public init?(reverseName name: String) {
        let labels = DNSName.normalize(name).split(separator: ".").map(String.init)
        if labels.count == 6, labels[4] == "in-addr", labels[5] == "arpa" {
            var out: [UInt8] = []
            for label in labels[0..<4].reversed() {
                guard let value = UInt8(label) else { return nil }
                out.append(value)
            }
            self.bytes = out
        } else if labels.count == 34, labels[32] == "ip6", labels[33] == "arpa" {
            var out: [UInt8] = []
            let nibbles = labels[0..<32].reversed().map { UInt8($0, radix: 16) }
            guard nibbles.allSatisfy({ $0 != nil && $0! < 16 }) else { return nil }
            let values = nibbles.map { $0! }
            for index in stride(from: 0, to: 32, by: 2) {
                out.append(values[index] << 4 | values[index + 1])
            }
            self.bytes = out
        } else {
            return nil
        }
    }

    /// True when the first `prefixLength` bits equal those of `network`.
    public func isInside(_ network: IPAddress, prefixLength: Int) -> Bool {
        guard network.family == family, prefixLength >= 0, prefixLength <= bytes.count * 8 else { return false }
        var remaining = prefixLength
        for index in 0..<bytes.count where remaining > 0 {
            let bits = min(8, remaining)
            let mask: UInt8 = bits == 8 ? 0xff : ~(0xff >> UInt8(bits))
            if bytes[index] & mask != network.bytes[index] & mask { return false }
            remaining -= bits
        }
        return true
    }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        if lhs.bytes.count != rhs.bytes.count { return lhs.bytes.count < rhs.bytes.count }
        return lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let address = IPAddress(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "not an IP address: \(text)"))
        }
        self = address
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
