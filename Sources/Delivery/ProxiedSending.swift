import DNSCore
import SMTPProtocol

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A proxy in front of the sender (a scenario's `sender.identity` other than `socket`): the
/// connection comes from the proxy's address, and the proxy names the sender to the receiver
/// with a PROXY header or XCLIENT.
public struct ProxiedSending: Sendable, Hashable {
    public enum Path: Sendable, Hashable {
        case proxyV1
        case proxyV2
        /// `name`: XCLIENT's `NAME=` (a host name, `[UNAVAILABLE]`, `[TEMPUNAVAIL]`), nil for none.
        case xclient(name: String?)
    }

    public var path: Path
    /// The proxy's address per family: an attempt of a family connects from that family's.
    public var addresses: [AddressFamily: IPAddress]

    public init(path: Path, addresses: [AddressFamily: IPAddress]) {
        self.path = path
        self.addresses = addresses
    }

    /// Sets up `configuration` for a connection from the proxy (socket `fd`) for `client` to
    /// `server` port `port`.
    package func configure(
        _ configuration: inout SMTPClientConfiguration, client: IPAddress, server: IPAddress, port: UInt16, fd: CInt
    ) {
        let proxy = addresses[client.family].map(\.description) ?? "?"
        switch path {
        case .proxyV1, .proxyV2:
            // The client's port is the proxy's own source port: the one a real proxy would
            // have taken the client's connection on is not known here.
            let source = ProxiedEndpoint(address: client.bytes, port: Self.localPort(of: fd) ?? 40000)
            let destination = ProxiedEndpoint(address: server.bytes, port: port)
            let v1 = path == .proxyV1
            let header =
                v1
                ? ProxyHeader.v1(source: source, destination: destination)
                : ProxyHeader.v2(source: source, destination: destination)
            configuration.preamble = header
            configuration.preambleNote =
                v1
                ? "via proxy \(proxy): " + String(decoding: header.dropLast(2), as: UTF8.self)
                : "via proxy \(proxy): PROXY v2 header (\(header.count) bytes) for \(source)"
        case .xclient(let name):
            configuration.xclientLine = XCLIENTCommand.line(address: client.bytes, name: name)
            configuration.preambleNote = "via proxy \(proxy), which sends XCLIENT for \(client)"
        }
    }

    /// The local port of a connected socket.
    package static func localPort(of fd: CInt) -> UInt16? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) == 0 }
        }
        guard ok else { return nil }
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
            }
        case AF_INET6:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
            }
        default:
            return nil
        }
    }
}
