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
