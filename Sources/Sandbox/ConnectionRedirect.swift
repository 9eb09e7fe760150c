import DNSCore
import Foundation

/// nftables rules in a case's namespace that send the sender's connections to the receiver's port
/// 25 to a proxy listening on the same address at another port instead (destination NAT in the
/// output hook, for connections the namespace makes itself). Only connections from the sender's
/// own addresses are redirected: the proxy's own, from its address, reach the receiver. Every
/// sender, the built-in one or a real MTA, is carried without knowing it. The rules live in the
/// namespace and go with it. Pure: rendering touches no file; `apply` and `remove` run nft.
public struct ConnectionRedirect: Sendable, Hashable {
    /// The table, one per namespace (a namespace serves one case at a time).
    public static let tableName = "mxharness_proxy"

    public var senders: [IPAddress]
    public var receivers: [IPAddress]
    public var receiverPort: UInt16
    public var frontPort: UInt16

    public init(senders: [IPAddress], receivers: [IPAddress], receiverPort: UInt16 = 25, frontPort: UInt16) {
        self.senders = senders
        self.receivers = receivers
        self.receiverPort = receiverPort
        self.frontPort = frontPort
    }

    /// An `nft -f` script: the table declared (so the delete cannot fail), deleted, and made anew
    /// with one rule per receiver address the sender has a family for.
    public var script: String {
        var lines = [
            "table inet \(Self.tableName)",
            "delete table inet \(Self.tableName)",
            "table inet \(Self.tableName) {",
            "    chain output {",
            "        type nat hook output priority -100; policy accept;",
        ]
        for receiver in receivers {
            let sources = senders.filter { $0.family == receiver.family }
            guard !sources.isEmpty else { continue }
            let (match, family) = receiver.family == .ipv4 ? ("ip", "ip") : ("ip6", "ip6")
            let set = "{ " + sources.map(\.description).joined(separator: ", ") + " }"
            let to = receiver.family == .ipv4 ? "\(receiver):\(frontPort)" : "[\(receiver)]:\(frontPort)"
            lines.append(
                "        \(match) saddr \(set) \(match) daddr \(receiver) tcp dport \(receiverPort) dnat \(family) to \(to)"
            )
        }
        lines += ["    }", "}"]
        return lines.joined(separator: "\n") + "\n"
    }

    /// Removes the table.
    public static var removal: String { "table inet \(tableName)\ndelete table inet \(tableName)\n" }

    /// Sets the rules up in `namespace` (replacing any the namespace has); `scriptPath` keeps the
    /// script for the case's artifacts.
    public func apply(in namespace: NetworkNamespace, nft: String = "/usr/sbin/nft", scriptPath: String) async throws {
        try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        try await Command.run("/usr/bin/nsenter", ["--net=\(namespace.path)", "--", nft, "-f", scriptPath])
    }

    /// Takes the rules away again (nothing when there are none).
    public static func remove(in namespace: NetworkNamespace, nft: String = "/usr/sbin/nft") async {
        _ = try? await Command.run(
            "/usr/bin/nsenter", ["--net=\(namespace.path)", "--", nft, "-f", "-"], input: removal)
    }
}
