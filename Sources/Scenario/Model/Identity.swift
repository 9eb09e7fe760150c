/// `sender.identity`: how the receiver learns who the client is (the format's section "How the
/// receiver learns who the client is").
public enum IdentityPath: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// The TCP connection comes from the sender's own address.
    case socket
    /// The connection comes from `sender.proxy_address` and starts with a HAProxy PROXY v1 header
    /// (text) naming the sender's address as the source.
    case proxyV1 = "proxy-v1"
    /// As `proxyV1`, with the binary v2 header.
    case proxyV2 = "proxy-v2"
    /// The connection comes from `sender.proxy_address`, which sends `XCLIENT ADDR=<sender>` (and
    /// `NAME=` when `sender.xclient_name` is given) before MAIL.
    case xclient

    /// Whether the connection comes from `sender.proxy_address` rather than the sender's address.
    public var usesProxy: Bool { self != .socket }

    public var description: String { rawValue }
}

/// `receiver.proxy_protocol`: the header the receiver requires before the greeting (Postfix's
/// `smtpd_upstream_proxy_protocol`).
public enum ReceiverProxyProtocol: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// HAProxy's PROXY protocol, version 1 or 2.
    case haproxy

    public var description: String { rawValue }
}

/// The values `sender.xclient_name` takes besides a host name (Postfix `smtpd.c` `xclient_cmd()`:
/// the client name lookup failed for good, or for now).
public enum XCLIENTNameKeyword {
    public static let unavailable = "[UNAVAILABLE]"
    public static let tempUnavailable = "[TEMPUNAVAIL]"
    public static let all = [unavailable, tempUnavailable]
}
