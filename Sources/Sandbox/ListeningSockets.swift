import DNSCore
import Foundation

/// TCP sockets in state LISTEN, read from `/proc/PID/net/tcp` and `tcp6` (proc(5)) of a process
/// inside the namespace. Reading them tells that a daemon accepts on an address without opening a
/// connection, which an MTA would log and look up in DNS like a real client.
public struct ListeningSockets: Sendable, Hashable {
    public struct Endpoint: Sendable, Hashable {
        public var address: IPAddress
        public var port: UInt16
    }

    public var endpoints: Set<Endpoint>

    /// The listening sockets of the network namespace `pid` is in.
    public init(ofProcess pid: pid_t) {
        self.init(
            procNetTCP: ["tcp", "tcp6"].compactMap {
                try? String(contentsOfFile: "/proc/\(pid)/net/\($0)", encoding: .utf8)
            })
    }

    public init(procNetTCP texts: [String]) {
        var endpoints = Set<Endpoint>()
        for text in texts {
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                // sl local_address rem_address st ...; st 0A is TCP_LISTEN.
                guard fields.count > 3, fields[3] == "0A", let endpoint = Self.endpoint(fields[1]) else { continue }
                endpoints.insert(endpoint)
            }
        }
        self.endpoints = endpoints
    }

    /// True when a connection to `address:port` would be accepted: a socket listens on the
    /// address itself or on its family's wildcard.
    public func accepts(_ address: IPAddress, port: UInt16) -> Bool {
        let wildcard =
            address.family == .ipv4
            ? IPAddress(bytes: [0, 0, 0, 0]) : IPAddress(bytes: [UInt8](repeating: 0, count: 16))
        return endpoints.contains(Endpoint(address: address, port: port))
            || wildcard.map { endpoints.contains(Endpoint(address: $0, port: port)) } == true
    }

    /// `0A0200C0:0019`: the address as 32-bit words printed in host (little-endian) order, then the port.
    static func endpoint(_ field: Substring) -> Endpoint? {
        let parts = field.split(separator: ":")
        guard parts.count == 2, let port = UInt16(parts[1], radix: 16) else { return nil }
        let hex = Array(parts[0].utf8)
        guard hex.count == 8 || hex.count == 32 else { return nil }
        var bytes: [UInt8] = []
        for word in stride(from: 0, to: hex.count, by: 8) {
            var wordBytes: [UInt8] = []
            for i in stride(from: word, to: word + 8, by: 2) {
                guard let byte = UInt8(String(decoding: hex[i..<i + 2], as: UTF8.self), radix: 16) else { return nil }
                wordBytes.append(byte)
            }
            bytes += wordBytes.reversed()
        }
        guard let address = IPAddress(bytes: bytes) else { return nil }
        return Endpoint(address: address, port: port)
    }
}
