import DNSCore
import Foundation

/// `/etc/netns/NAME/resolv.conf`, which `ip netns exec` mounts over `/etc/resolv.conf`: a real
/// sender resolves through it. A receiver Postfix in the namespace writes one naming the world's
/// unbound; without one, `ensure` writes it and `remove` takes it away again.
struct NamespaceResolvConf {
    let namespaceName: String
    let resolvConf: ResolvConf

    var directory: String { "/etc/netns/\(namespaceName)" }

    /// Writes the files when the namespace has none; returns the folder to remove later, or nil.
    func ensure() throws -> String? {
        let fm = FileManager.default
        guard !fm.fileExists(atPath: directory + "/resolv.conf") else { return nil }
        let created = !fm.fileExists(atPath: directory)
        do {
            try fm.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            try resolvConf.text.write(toFile: directory + "/resolv.conf", atomically: true, encoding: .utf8)
            try "127.0.0.1 localhost\n::1 localhost\n".write(toFile: directory + "/hosts", atomically: true, encoding: .utf8)
            chmod(directory + "/resolv.conf", 0o644)
            chmod(directory + "/hosts", 0o644)
        } catch {
            if created { try? fm.removeItem(atPath: directory) }
            throw SenderMTAError("cannot write \(directory)/resolv.conf for the sending MTA: \(error)")
        }
        return created ? directory : nil
    }
}
