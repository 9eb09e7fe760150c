#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CNamespace
import DNSCore

/// An address change the kernel refused.
public struct AddressChangeError: Error, Sendable, CustomStringConvertible {
    public var address: IPAddress
    public var adding: Bool
    public var errno: Int32

    public var description: String {
        "cannot \(adding ? "add" : "remove") \(address) on lo: \(String(cString: strerror(errno)))"
    }
}

/// Changes the addresses of a namespace's loopback link over rtnetlink, as `ip addr add|del`
/// does, without starting a process for it: for warm slots, whose addresses change with every
/// case. The socket is opened inside the namespace and stays bound to it.
public final class AddressEditor: Sendable {
    private let fd: CInt

    /// The loopback link's index in every namespace.
    static let loopback: CInt = 1

    init(fd: CInt) {
        self.fd = fd
    }

    deinit {
        close(fd)
    }

    /// Removes `stale`, then adds `missing` (host prefixes, IPv6 without duplicate address
    /// detection); stops at the first change the kernel refuses.
    public func change(removing stale: [IPAddress], adding missing: [IPAddress]) throws(AddressChangeError) {
        for (addresses, adding) in [(stale, false), (missing, true)] {
            for address in Set(addresses).sorted() {
                let family = address.family == .ipv4 ? AF_INET : AF_INET6
                let status = address.bytes.withUnsafeBufferPointer {
                    mxh_netlink_address(fd, adding ? 1 : 0, family, $0.baseAddress, Self.loopback)
                }
                if status != 0 { throw AddressChangeError(address: address, adding: adding, errno: -status) }
            }
        }
    }
}

extension NetworkNamespace {
    /// An `AddressEditor` for this namespace's loopback link.
    public func addressEditor() async throws -> AddressEditor {
        let fd = try await NetworkNamespace.perform(in: self) { () throws -> CInt in
            let fd = mxh_netlink_open()
            guard fd >= 0 else { throw NamespaceError.cannotEnter(path: "netlink in \(self.path)", errno: errno) }
            return fd
        }
        return AddressEditor(fd: fd)
    }
}

extension NetworkNamespace {
    /// Returns once every IPv6 address of `addresses` can be bound and routed to in the namespace.
    /// The kernel finishes adding an IPv6 address after the netlink request is acknowledged:
    /// `addrconf_dad_start` queues a work item whose `addrconf_dad_begin` clears
    /// IFA_F_TENTATIVE and inserts the address's local route, with IFA_F_NODAD too
    /// (net/ipv6/addrconf.c). Until it has run, bind(2) says EADDRNOTAVAIL and connect(2)
    /// ENETUNREACH; on a busy machine that can outlast setting up the rest of a case. IPv4
    /// addresses are usable when acknowledged.
    public func waitUntilUsable(_ addresses: [IPAddress], timeout: Duration = .seconds(5)) async throws {
        let pending = Set(addresses.filter { $0.family == .ipv6 }).sorted()
        guard !pending.isEmpty else { return }
        let unusable = try await NetworkNamespace.perform(in: self) { () -> [IPAddress] in
            let deadline = ContinuousClock.now + timeout
            var left = pending
            while true {
                left = left.filter { !Sockets.isLocal($0, routed: true) }
                if left.isEmpty || ContinuousClock.now >= deadline { return left }
                usleep(200)
            }
        }
        guard unusable.isEmpty else { throw AddressNotUsable(addresses: unusable, namespace: name, waited: timeout) }
    }
}

/// Addresses that were added but never became usable.
public struct AddressNotUsable: Error, Sendable, CustomStringConvertible {
    public var addresses: [IPAddress]
    public var namespace: String
    public var waited: Duration

    public var description: String {
        "the kernel did not make \(addresses.map(\.description).joined(separator: ", ")) usable in network namespace \(namespace) within \(waited)"
    }
}
