import DNSCore

/// How a Postfix receiver learns who the client is, besides the TCP connection itself: a PROXY
/// header from a load balancer in front of port 25 (`receiver.proxy_protocol: haproxy`) and
/// XCLIENT from trusted hosts (`receiver.xclient_hosts`).
///
/// - The PROXY protocol is an `-o` option of the service that takes port 25. For smtpd that is
///   `smtpd_upstream_proxy_protocol`; behind postscreen(8) smtpd ignores it ("ignoring non-empty
///   smtpd_upstream_proxy_protocol setting behind postscreen", smtpd_peer_init() in
///   src/smtpd/smtpd_peer.c: smtpd takes the client's address from postscreen), so there it is
///   `postscreen_upstream_proxy_protocol` on postscreen's line (postscreen_haproxy.c), and
///   postscreen hands the proxied address to smtpd. A connection without a valid header is hung
///   up on (smtpd: `421 4.3.0 ... Server local error` after `smtpd_upstream_proxy_timeout`).
/// - `smtpd_authorized_xclient_hosts` is a main.cf parameter, so it applies to smtpd whether or
///   not postscreen is in front. IPv6 addresses are written in `[]` (a bare `2001:db8::1` in a
///   Postfix match list would read as a `type:table` lookup).
///
/// nil / empty leaves the base or site configuration's own values alone.
public struct PostfixIdentity: Sendable, Hashable {
    /// `haproxy`, the one protocol Postfix 3.7 knows (smtpd_peer.c: "unsupported ... value").
    public var upstreamProxyProtocol: String?
    public var xclientHosts: [IPAddress]

    public init(upstreamProxyProtocol: String? = nil, xclientHosts: [IPAddress] = []) {
        self.upstreamProxyProtocol = upstreamProxyProtocol
        self.xclientHosts = xclientHosts
    }

    /// The main.cf layer: `smtpd_authorized_xclient_hosts` when hosts are given.
    var mainCF: MainCF {
        var main = MainCF()
        if !xclientHosts.isEmpty {
            main["smtpd_authorized_xclient_hosts"] = xclientHosts.map { $0.family == .ipv6 ? "[\($0)]" : "\($0)" }
                .joined(separator: ", ")
        }
        return main
    }

    /// `-o` options of every smtpd of a site's master.cf that takes the case's connections, after
    /// the site's own: the case's XCLIENT hosts, which a site's `-o smtpd_authorized_xclient_hosts`
    /// would otherwise override (an `-o` beats main.cf, and of two the later wins: master(5)).
    var siteSmtpdOptions: [String: String] {
        guard !xclientHosts.isEmpty else { return [:] }
        return [
            "smtpd_authorized_xclient_hosts": xclientHosts.map { $0.family == .ipv6 ? "[\($0)]" : "\($0)" }.joined(
                separator: ",")
        ]
    }

    /// `-o` options of an smtpd that takes port 25 itself (no postscreen in front).
    var smtpdOptions: [String: String] {
        upstreamProxyProtocol.map { ["smtpd_upstream_proxy_protocol": $0] } ?? [:]
    }

    /// `-o` options of postscreen(8) on port 25.
    var postscreenOptions: [String: String] {
        upstreamProxyProtocol.map { ["postscreen_upstream_proxy_protocol": $0] } ?? [:]
    }
}
