#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import DNSCore

/// Why a connection could not be made (the sender's "connect" stage).
public enum ConnectFailure: Error, Sendable, Hashable, CustomStringConvertible {
    case refused
    case unreachable
    case timedOut
    case other(errno: Int32, message: String)

    public var description: String {
        switch self {
        case .refused: "connection refused"
        case .unreachable: "network unreachable"
        case .timedOut: "connection timed out"
        case .other(let code, let message): "connect failed: \(message) (errno \(code))"
        }
    }
}

/// An error from a socket call other than connect, with the call and address it concerned.
public struct SocketError: Error, Sendable, CustomStringConvertible {
    public var call: String
    public var address: String
    public var errno: Int32

    public var description: String { "\(call) \(address): \(String(cString: strerror(errno))) (errno \(errno))" }
}

/// Creates sockets in a network namespace (or the current one), ready to hand to NIO with
/// `ServerBootstrap.withBoundSocket` or `ClientBootstrap.withConnectedSocket`.
/// A socket stays in the namespace it was created in, whichever thread uses it later.
public enum Sockets {
    /// A listening TCP socket on `address:port`.
    public static func listen(
        on address: IPAddress, port: UInt16, in namespace: NetworkNamespace? = nil, backlog: Int32 = 256
    ) async throws -> CInt {
        try await NetworkNamespace.perform(in: namespace) { () throws(SocketError) -> CInt in
            try makeListeningSocket(address: address, port: port, backlog: backlog)
        }
    }

    /// A TCP socket connected from `source` (when given) to `destination:port`, within `timeout`.
    public static func connect(
        from source: IPAddress?, to destination: IPAddress, port: UInt16, timeout: Duration,
        in namespace: NetworkNamespace? = nil
    ) async throws(ConnectFailure) -> CInt {
        let result: Result<CInt, ConnectFailure>
        do {
            result = try await NetworkNamespace.perform(in: namespace) { () -> Result<CInt, ConnectFailure> in
                makeConnectedSocket(source: source, destination: destination, port: port, timeout: timeout)
            }
        } catch {
            throw .other(errno: 0, message: "\(error)")
        }
        return try result.get()
    }

    static func makeListeningSocket(address: IPAddress, port: UInt16, backlog: Int32) throws(SocketError) -> CInt {
        let fd = socket(
            address.family == .ipv4 ? AF_INET : AF_INET6, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError(call: "socket", address: "\(address)", errno: errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if address.family == .ipv6 {
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        let bound = withSockaddr(address, port: port) { bind(fd, $0, $1) }
        guard bound == 0 else {
            let code = errno
            close(fd)
            throw SocketError(call: "bind", address: "[\(address)]:\(port)", errno: code)
        }
        guard Glibc.listen(fd, backlog) == 0 else {
            let code = errno
            close(fd)
            throw SocketError(call: "listen", address: "[\(address)]:\(port)", errno: code)
        }
        return fd
    }

    /// A connect that the kernel answers "network unreachable" although the destination is an
    /// address of this very namespace is tried again until `timeout`: an address assigned to the
    /// namespace always has a local route, and under load the full test suite saw a receiver's IPv6
    /// address that could be bound (and was, by the MX) refused that way for the first connect of
    /// a case. An address the namespace does not hold stays unreachable at once, as a missing MX
    /// host should be.
    static func makeConnectedSocket(source: IPAddress?, destination: IPAddress, port: UInt16, timeout: Duration)
        -> Result<CInt, ConnectFailure>
    {
        let deadline = ContinuousClock.now + timeout
        while true {
            let result = connectOnce(source: source, destination: destination, port: port, timeout: timeout)
            guard case .failure(.unreachable) = result, source?.family ?? destination.family == destination.family,
                ContinuousClock.now < deadline, isLocal(destination)
            else { return result }
            usleep(1000)
        }
    }

    /// Whether `address` is assigned in this thread's namespace (a UDP socket can be bound to it)
    /// and, with `routed`, routed to as well (the socket can be connected to it; nothing is sent).
    static func isLocal(_ address: IPAddress, routed: Bool = false) -> Bool {
        let fd = socket(
            address.family == .ipv4 ? AF_INET : AF_INET6, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        guard withSockaddr(address, port: 0, { bind(fd, $0, $1) }) == 0 else { return false }
        return !routed || withSockaddr(address, port: 9, { Glibc.connect(fd, $0, $1) }) == 0
    }

    static func connectOnce(source: IPAddress?, destination: IPAddress, port: UInt16, timeout: Duration) -> Result<
        CInt, ConnectFailure
    > {
        let family = destination.family == .ipv4 ? AF_INET : AF_INET6
        let fd = socket(
            family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else {
            return .failure(.other(errno: errno, message: "socket: \(String(cString: strerror(errno)))"))
        }
        if let source {
            guard source.family == destination.family else {
                close(fd)
                return .failure(.unreachable)
            }
            let bound = withSockaddr(source, port: 0) { bind(fd, $0, $1) }
            if bound != 0 {
                let code = errno
                close(fd)
                return .failure(.other(errno: code, message: "bind [\(source)]: \(String(cString: strerror(code)))"))
            }
        }
        let started = withSockaddr(destination, port: port) { Glibc.connect(fd, $0, $1) }
        if started != 0 && errno != EINPROGRESS {
            let code = errno
            close(fd)
            return .failure(classify(code))
        }
        if started != 0 {
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let milliseconds = Int32(
                clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
            var ready: Int32
            repeat { ready = poll(&pfd, 1, milliseconds) } while ready < 0 && errno == EINTR
            if ready == 0 {
                close(fd)
                return .failure(.timedOut)
            }
            var soError: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
            if soError != 0 {
                close(fd)
                return .failure(classify(soError))
            }
        }
        // NIO wants the descriptor in blocking mode cleared or set as it likes; it sets O_NONBLOCK itself.
        return .success(fd)
    }

    static func classify(_ code: Int32) -> ConnectFailure {
        switch code {
        case ECONNREFUSED: .refused
        case ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL: .unreachable
        case ETIMEDOUT: .timedOut
        default: .other(errno: code, message: String(cString: strerror(code)))
        }
    }

    static func withSockaddr<T>(_ address: IPAddress, port: UInt16, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T)
        -> T
    {
        switch address.family {
        case .ipv4:
            var storage = sockaddr_in()
            storage.sin_family = sa_family_t(AF_INET)
            storage.sin_port = port.bigEndian
            withUnsafeMutableBytes(of: &storage.sin_addr) { $0.copyBytes(from: address.bytes) }
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    body($0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        case .ipv6:
            var storage = sockaddr_in6()
            storage.sin6_family = sa_family_t(AF_INET6)
            storage.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &storage.sin6_addr) { $0.copyBytes(from: address.bytes) }
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    body($0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
    }
}
