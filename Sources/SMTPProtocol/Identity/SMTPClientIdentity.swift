/// Who the client is when it is not the connection's peer: what a PROXY header or XCLIENT said.
public enum SMTPClientIdentity: Sendable, Hashable {
    /// A PROXY header named the client (`ProxyHeader.Kind.proxied`): the server checks that
    /// address as if it had connected itself.
    case proxyHeader(ProxyHeader)
    /// An authorised client sent XCLIENT: the server takes its attributes as they are.
    case xclient(XCLIENTCommand)
}

/// How a server learns who the client is (Postfix `smtpd_upstream_proxy_protocol` and
/// `smtpd_authorized_xclient_hosts`).
public struct SMTPIdentitySettings: Sendable, Hashable {
    /// A PROXY header (v1 or v2) must come before the greeting.
    public var requiresProxyHeader: Bool
    /// How long the server waits for it (Postfix `smtpd_upstream_proxy_timeout`, default 5s).
    public var proxyTimeout: Duration
    /// The client addresses (4 or 16 bytes) allowed to send XCLIENT.
    public var xclientHosts: Set<[UInt8]>

    public init(
        requiresProxyHeader: Bool = false, proxyTimeout: Duration = .seconds(5), xclientHosts: Set<[UInt8]> = []
    ) {
        self.requiresProxyHeader = requiresProxyHeader
        self.proxyTimeout = proxyTimeout
        self.xclientHosts = xclientHosts
    }
}
