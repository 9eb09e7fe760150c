#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CNamespace
import DNSCore
import Foundation
import Logging

/// A network namespace of the harness's own (`ip netns add`), with only a loopback link.
///
/// Names are `PREFIX-PID-N` so that a later run can tell, after a SIGKILL, which owner is dead
/// and remove what it left (see `ResourceJanitor`).
public final class NetworkNamespace: Sendable {
    public let name: String

    /// Where iproute2 bind-mounts the namespace.
    public var path: String { "/run/netns/\(name)" }

    init(name: String) {
        self.name = name
    }

    /// Creates the namespace, brings `lo` up and assigns `addresses` to it (/32 and /128).
    public static func create(
        name: String, addresses: [IPAddress] = [], logger: Logger = Logger(label: "mxharness.sandbox")
    ) async throws -> NetworkNamespace {
        try await Command.run("/usr/sbin/ip", ["netns", "add", name])
        ResourceRegistry.shared.register(namespace: name)
        let namespace = NetworkNamespace(name: name)
        do {
            var batch = ["link set lo up"]
            // nodad: duplicate address detection would keep a fresh IPv6 address "tentative"
            // (unusable for bind) for a second or more.
            for address in Set(addresses).sorted() {
                batch.append(
                    address.family == .ipv4
                        ? "addr add \(address)/32 dev lo"
                        : "addr add \(address)/128 dev lo nodad")
            }
            try await Command.run(
                "/usr/sbin/ip", ["-n", name, "-batch", "-"], input: batch.joined(separator: "\n") + "\n")
            try await namespace.waitUntilUsable(addresses)
        } catch {
            await namespace.destroy()
            throw error
        }
        logger.debug("created network namespace", metadata: ["netns": "\(name)"])
        return namespace
    }

    /// Assigns `addresses` to `lo` (/32 and /128, IPv6 with `nodad` as in `create`). An address
    /// already there is an error of `ip`; pass only what is missing.
    public func addAddresses(_ addresses: [IPAddress]) async throws {
        try await changeAddresses("add", addresses)
    }

    /// Removes `addresses` from `lo`; sockets bound to them should be closed first.
    public func removeAddresses(_ addresses: [IPAddress]) async throws {
        try await changeAddresses("del", addresses)
    }

    private func changeAddresses(_ verb: String, _ addresses: [IPAddress]) async throws {
        let batch = Self.addressLines(verb, addresses)
        guard !batch.isEmpty else { return }
        try await Command.run("/usr/sbin/ip", ["-n", name, "-batch", "-"], input: batch.joined(separator: "\n") + "\n")
        if verb == "add" { try await waitUntilUsable(addresses) }
    }

    private static func addressLines(_ verb: String, _ addresses: [IPAddress]) -> [String] {
        Set(addresses).sorted().map { address in
            address.family == .ipv4
                ? "addr \(verb) \(address)/32 dev lo"
                : "addr \(verb) \(address)/128 dev lo" + (verb == "add" ? " nodad" : "")
        }
    }

    /// A handle on a namespace that already exists (created by `ip netns add` or an earlier run).
    public static func existing(name: String) -> NetworkNamespace {
        NetworkNamespace(name: name)
    }

    /// Kills every process left in the namespace and deletes it. Safe to call twice.
    public func destroy() async {
        Self.destroy(name: name)
    }

    /// Synchronous teardown, also used from signal handling and by the janitor.
    public static func destroy(name: String) {
        // Again until none is left: a daemon killed after the scan may have forked a child the
        // scan did not see (a Postfix master respawning the children it just lost).
        for _ in 0..<20 {
            let pids = pids(inNamespaceAt: "/run/netns/\(name)")
            if pids.isEmpty { break }
            for pid in pids { kill(pid, SIGKILL) }
        }
        _ = try? Command.runSync("/usr/sbin/ip", ["netns", "delete", name])
        try? FileManager.default.removeItem(atPath: "/etc/netns/\(name)")
        ResourceRegistry.shared.unregister(namespace: name)
    }

    /// The pids of processes whose network namespace is the one mounted at `path`.
    static func pids(inNamespaceAt path: String) -> [pid_t] {
        var target = stat()
        guard stat(path, &target) == 0 else { return [] }
        var found: [pid_t] = []
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        for entry in entries {
            guard let pid = pid_t(entry) else { continue }
            var info = stat()
            if stat("/proc/\(pid)/ns/net", &info) == 0, info.st_ino == target.st_ino, info.st_dev == target.st_dev {
                found.append(pid)
            }
        }
        return found
    }

    /// Runs `body` on a fresh thread that has entered `namespace` (or the current one when nil),
    /// so sockets and processes it creates belong to that namespace. The thread ends with `body`.
    public static func perform<T: Sendable>(
        in namespace: NetworkNamespace?, _ body: @escaping @Sendable () throws -> T
    ) async throws -> T {
        let path = namespace?.path
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let thread = Thread {
                if let path {
                    let fd = open(path, O_RDONLY | O_CLOEXEC)
                    guard fd >= 0 else {
                        continuation.resume(throwing: NamespaceError.cannotEnter(path: path, errno: errno))
                        return
                    }
                    defer { close(fd) }
                    guard mxh_enter_network_namespace(fd) == 0 else {
                        continuation.resume(throwing: NamespaceError.cannotEnter(path: path, errno: errno))
                        return
                    }
                }
                continuation.resume(with: Result { try body() })
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Runs `body` on the calling thread after entering the namespace at `path` for good.
    /// For threads that live in one namespace (the resolver's worker thread).
    public static func enterForCurrentThread(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw NamespaceError.cannotEnter(path: path, errno: errno) }
        defer { close(fd) }
        guard mxh_enter_network_namespace(fd) == 0 else { throw NamespaceError.cannotEnter(path: path, errno: errno) }
    }
}

public enum NamespaceError: Error, Sendable, CustomStringConvertible {
    case cannotEnter(path: String, errno: Int32)

    public var description: String {
        switch self {
        case .cannotEnter(let path, let code):
            "cannot enter network namespace \(path): \(String(cString: strerror(code))); mxharness needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN)"
        }
    }
}
