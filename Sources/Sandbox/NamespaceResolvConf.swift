import DNSCore
import Foundation

/// `/etc/netns/NAME/resolv.conf`, which `ip netns exec` mounts over `/etc/resolv.conf`: a real
/// sender resolves through it. A receiver Postfix in the namespace writes one naming the world's
/// unbound; without one, `ensure` writes it and the caller removes the folder it returns.
public struct NamespaceResolvConf: Sendable {
    public let namespaceName: String
    public let resolvConf: ResolvConf

    public init(namespaceName: String, resolvConf: ResolvConf) {
        self.namespaceName = namespaceName
        self.resolvConf = resolvConf
    }

    public var directory: String { "/etc/netns/\(namespaceName)" }

    /// Writes the files when the namespace has none; returns the folder to remove later, or nil.
    public func ensure() throws(NamespaceResolvConfError) -> String? {
        let fm = FileManager.default
        guard !fm.fileExists(atPath: directory + "/resolv.conf") else { return nil }
        let created = !fm.fileExists(atPath: directory)
        do {
            try fm.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            try resolvConf.text.write(toFile: directory + "/resolv.conf", atomically: true, encoding: .utf8)
            try "127.0.0.1 localhost\n::1 localhost\n".write(
                toFile: directory + "/hosts", atomically: true, encoding: .utf8)
            chmod(directory + "/resolv.conf", 0o644)
            chmod(directory + "/hosts", 0o644)
        } catch {
            if created { try? fm.removeItem(atPath: directory) }
            throw NamespaceResolvConfError(
                description: "cannot write \(directory)/resolv.conf for the sending MTA: \(error)")
        }
        return created ? directory : nil
    }
}

/// `/etc/netns/NAME/resolv.conf` could not be written.
public struct NamespaceResolvConfError: Error, Sendable, CustomStringConvertible {
    public var description: String
}
