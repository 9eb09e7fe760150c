#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// scripts/host-network-state is what scripts/compose-podman records before and after a compose
/// run, failing the run on any difference. It must see every kind of change a container engine's
/// bridge network makes (an interface, addresses, IPv4 and IPv6 routes, nftables and iptables
/// rules, forwarding), and must not see what changes with time alone (lifetimes, counters), or
/// the check could not fail, or would fail on a busy host. Checked in a namespace of the test's
/// own: the host is never touched.
@Suite struct HostNetworkStateTests {
    enum Change: String, CaseIterable, CustomTestStringConvertible {
        case interface, address, ipv4Route, ipv6Route, nftTable, iptablesRule, ip6tablesRule, forwarding

        var testDescription: String { rawValue }

        /// The commands that make the change inside the namespace, and a line the diff must show.
        var commands: [[String]] {
            switch self {
            case .interface: [["ip", "link", "add", "mxhbr0", "type", "bridge"]]
            case .address:
                [["ip", "addr", "add", "2001:db8:99::1/64", "dev", "lo", "valid_lft", "300", "preferred_lft", "200"]]
            case .ipv4Route: [["ip", "route", "add", "198.51.100.0/24", "dev", "lo"]]
            case .ipv6Route: [["ip", "-6", "route", "add", "2001:db8:98::/64", "dev", "lo"]]
            case .nftTable: [["nft", "add", "table", "inet", "mxhtest"]]
            case .iptablesRule: [["iptables", "-A", "FORWARD", "-s", "198.51.100.0/24", "-j", "ACCEPT"]]
            case .ip6tablesRule: [["ip6tables", "-A", "FORWARD", "-s", "2001:db8:97::/64", "-j", "ACCEPT"]]
            case .forwarding: [["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]]
            }
        }

        var shown: String {
            switch self {
            case .interface: "mxhbr0"
            case .address: "inet6 2001:db8:99::1/64"
            case .ipv4Route: "198.51.100.0/24 dev lo"
            case .ipv6Route: "2001:db8:98::/64 dev lo"
            case .nftTable: "table inet mxhtest"
            case .iptablesRule: "-A FORWARD -s 198.51.100.0/24 -j ACCEPT"
            case .ip6tablesRule: "-A FORWARD -s 2001:db8:97::/64 -j ACCEPT"
            case .forwarding: "net.ipv4.ip_forward = 1"
            }
        }
    }

    /// In CI the check must run: a missing tool fails there instead of skipping.
    static var isRequired: Bool { ProcessInfo.processInfo.environment["MXHARNESS_CI"] == "1" }

    static var canRun: Bool {
        geteuid() == 0
            && ["nft", "iptables-save", "ip6tables-save", "nsenter", "ip"].allSatisfy { tool in
                ["/usr/sbin/", "/sbin/", "/usr/bin/"].contains {
                    FileManager.default.isExecutableFile(atPath: $0 + tool)
                }
            }
    }

    @Test(
        .enabled(
            if: isRequired || canRun,
            "needs root, ip, nsenter, nft, iptables-save and ip6tables-save (Debian: iproute2 util-linux nftables iptables)"
        ),
        arguments: Change.allCases)
    func differenceIsReported(_ change: Change) throws {
        try Scratch.withNamespace { namespace in
            let before = try namespace.state()
            for command in change.commands {
                try namespace.run(command)
            }
            let after = try namespace.state()
            let added = Set(after.split(separator: "\n").map(String.init)).subtracting(
                before.split(separator: "\n").map(String.init))
            #expect(added.contains { $0.contains(change.shown) }, "no added line shows `\(change.shown)`:\n\(after)")
        }
    }

    /// Traffic moves the firewall counters and time moves address lifetimes; neither is a change.
    @Test(
        .enabled(
            if: isRequired || canRun,
            "needs root, ip, nsenter, nft, iptables-save and ip6tables-save (Debian: iproute2 util-linux nftables iptables)"
        ))
    func countersAndLifetimesAreNotADifference() throws {
        try Scratch.withNamespace { namespace in
            try namespace.run([
                "ip", "addr", "add", "2001:db8:99::1/64", "dev", "lo", "valid_lft", "300", "preferred_lft", "200",
            ])
            try namespace.run(["nft", "add", "table", "inet", "mxhtest"])
            try namespace.run([
                "nft", "add", "chain", "inet", "mxhtest", "in", "{ type filter hook input priority 0; }",
            ])
            try namespace.run(["nft", "add", "rule", "inet", "mxhtest", "in", "counter"])
            try namespace.run(["iptables", "-A", "INPUT", "-j", "ACCEPT"])
            let before = try namespace.state()
            sleep(1)  // lifetimes count down in whole seconds
            // A datagram to the namespace's loopback passes both input hooks.
            try namespace.run(["bash", "-c", "echo x > /dev/udp/127.0.0.1/9"])
            let raw = try namespace.run(["nft", "list", "ruleset"])
            #expect(
                raw.range(of: "counter packets [1-9]", options: .regularExpression) != nil,
                "the counter did not move:\n\(raw)")
            let after = try namespace.state()
            #expect(before == after)
        }
    }
}

/// A network namespace of the test's own (mxh-PID-hoststate-N), removed after the body.
struct Scratch {
    let name: String
    private static let counter = Counter()

    static func withNamespace(_ body: (Scratch) throws -> Void) throws {
        let scratch = Scratch(name: "mxh-\(getpid())-hoststate-\(counter.next())")
        _ = try Shell.run(["ip", "netns", "add", scratch.name])
        defer { _ = try? Shell.run(["ip", "netns", "del", scratch.name]) }
        try scratch.run(["ip", "link", "set", "lo", "up"])
        try body(scratch)
    }

    @discardableResult
    func run(_ command: [String]) throws -> String {
        try Shell.run(["nsenter", "--net=/run/netns/\(name)"] + command)
    }

    func state() throws -> String {
        try Shell.run([Repository.path("scripts/host-network-state"), "--netns", name])
    }
}

final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func next() -> Int {
        lock.withLock {
            value += 1; return value
        }
    }
}

enum Shell {
    /// Runs a command (found on PATH), returning its standard output; a non-zero exit throws with its output.
    static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin:" + (environment["PATH"] ?? "")
        process.environment = environment
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw ComposeError(
                description:
                    "\(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(text)\(String(decoding: errorData, as: UTF8.self))"
            )
        }
        return text
    }
}
