import DNSCore

/// haproxy.cfg for one case: a TCP proxy in front of the receiver, as a load balancer in front of an
/// MX pool is set up (HAProxy 2.6, configuration.txt). One frontend per receiver address the sender
/// can reach, listening on that address at `frontPort` (where `ConnectionRedirect` sends the
/// sender's connections to port 25); its backend connects to the same address on port 25 from the
/// proxy's own address of that family (`source`), and starts the connection with the PROXY header
/// the identity path names (`send-proxy`, `send-proxy-v2`), or none. Pure: rendering touches no file.
public struct HAProxyConfiguration: Sendable, Hashable {
    /// What the backend's `server` line writes before the client's bytes.
    public enum Header: String, Sendable, Hashable, CaseIterable {
        /// Nothing: a load balancer whose server line lacks `send-proxy`.
        case none
        /// `send-proxy`: the text header, version 1.
        case v1
        /// `send-proxy-v2`: the binary header, version 2.
        case v2

        /// The server keyword.
        var keyword: String? {
            switch self {
            case .none: nil
            case .v1: "send-proxy"
            case .v2: "send-proxy-v2"
            }
        }
    }

    /// One receiver address and the proxy address that connects to it.
    public struct Route: Sendable, Hashable {
        public var receiver: IPAddress
        public var source: IPAddress

        public init(receiver: IPAddress, source: IPAddress) {
            self.receiver = receiver
            self.source = source
        }
    }

    /// The port the frontends listen on, on the receiver's addresses.
    public static let defaultFrontPort: UInt16 = 62525

    public var routes: [Route]
    public var header: Header
    public var frontPort: UInt16
    public var receiverPort: UInt16
    /// `timeout connect`, `timeout client`, `timeout server`, in seconds. Client and server wait
    /// longer than any reply the world keeps back (the MX's own DNS waits, a 5 s PROXY timeout).
    public var connectTimeoutSeconds: Int
    public var idleTimeoutSeconds: Int

    public init(
        routes: [Route], header: Header, frontPort: UInt16 = HAProxyConfiguration.defaultFrontPort,
        receiverPort: UInt16 = 25,
        connectTimeoutSeconds: Int = 5, idleTimeoutSeconds: Int = 60
    ) {
        self.routes = routes
        self.header = header
        self.frontPort = frontPort
        self.receiverPort = receiverPort
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.idleTimeoutSeconds = idleTimeoutSeconds
    }

    /// Where the frontends listen.
    public var frontAddresses: [IPAddress] { routes.map(\.receiver) }

    /// The file, with HAProxy's log on standard error (`haproxy -db`) in `tcplog` format: one line per
    /// connection when it closes, naming the client's address and port, the frontend, the backend,
    /// the timers and the bytes.
    public func render() -> String {
        var lines = [
            "# Written by mxharness: a load balancer in front of the receiver.",
            "global",
            "    log stderr format short local0 info",
            "defaults",
            "    mode tcp",
            "    log global",
            "    option tcplog",
            "    timeout connect \(connectTimeoutSeconds)s",
            "    timeout client \(idleTimeoutSeconds)s",
            "    timeout server \(idleTimeoutSeconds)s",
        ]
        for (index, route) in routes.enumerated() {
            let name = "mx\(index + 1)"
            lines.append("frontend fe_\(name)")
            lines.append("    bind \(Self.endpoint(route.receiver, frontPort))")
            lines.append("    default_backend be_\(name)")
            lines.append("backend be_\(name)")
            var server =
                "    server \(name) \(Self.endpoint(route.receiver, receiverPort)) source \(Self.host(route.source))"
            if let keyword = header.keyword { server += " " + keyword }
            lines.append(server)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `192.0.2.10:25`, `[2001:db8::10]:25` (the bracket form is what HAProxy parses as IPv6 with
    /// a port).
    static func endpoint(_ address: IPAddress, _ port: UInt16) -> String { host(address) + ":\(port)" }

    /// `192.0.2.10`, `[2001:db8::10]` (an IPv6 `source` without brackets is read as address:port).
    static func host(_ address: IPAddress) -> String {
        address.family == .ipv6 ? "[\(address)]" : address.description
    }
}
