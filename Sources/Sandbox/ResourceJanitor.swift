#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
import Logging

/// Removes what an earlier run left when it was killed (SIGKILL, power loss): namespaces
/// (with every process inside), `/etc/netns` folders and temporary folders named
/// `mxh-PID-…` whose PID no longer runs. Resources of live runs are left alone.
public enum ResourceJanitor {
    public struct Report: Sendable {
        public var namespaces: [String] = []
        public var directories: [String] = []
        public var isEmpty: Bool { namespaces.isEmpty && directories.isEmpty }
    }

    @discardableResult
    public static func sweep(logger: Logger = Logger(label: "mxharness.sandbox")) -> Report {
        var report = Report()
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: "/run/netns")) ?? [] where isStale(name) {
            NetworkNamespace.destroy(name: name)
            report.namespaces.append(name)
        }
        for name in (try? fm.contentsOfDirectory(atPath: "/etc/netns")) ?? [] where isStale(name) {
            try? fm.removeItem(atPath: "/etc/netns/\(name)")
        }
        let tmp = NSTemporaryDirectory()
        for name in (try? fm.contentsOfDirectory(atPath: tmp)) ?? [] where isStale(name) {
            try? fm.removeItem(atPath: (tmp as NSString).appendingPathComponent(name))
            report.directories.append(name)
        }
        if !report.isEmpty {
            logger.notice("removed what an earlier, killed run left", metadata: [
                "namespaces": "\(report.namespaces)", "directories": "\(report.directories)",
            ])
        }
        return report
    }

    /// `mxh-PID-…` where PID is not a running process.
    static func isStale(_ name: String) -> Bool {
        let parts = name.split(separator: "-")
        guard parts.count >= 3, parts[0] == Substring(ResourceRegistry.prefix), let pid = pid_t(parts[1]), pid > 0 else { return false }
        if pid == getpid() { return false }
        return kill(pid, 0) != 0 && errno == ESRCH
    }
}
