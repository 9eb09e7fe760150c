#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
import Logging

/// Removes what an earlier run left when it was killed (SIGKILL, power loss): namespaces
/// (with every process inside), `/etc/netns` folders and temporary folders named
/// `mxh-PID-…` whose PID no longer runs, and processes still working in such a folder after
/// their namespace's name is gone (a daemon whose namespace was deleted while it ran lives on in
/// it, out of reach of the namespace scan). Resources of live runs are left alone.
public enum ResourceJanitor {
    public struct Report: Sendable {
        public var namespaces: [String] = []
        public var directories: [String] = []
        public var processes: [pid_t] = []
        public var isEmpty: Bool { namespaces.isEmpty && directories.isEmpty && processes.isEmpty }
    }

    @discardableResult
    public static func sweep(logger: Logger = Logger(label: "mxharness.sandbox")) -> Report {
        var report = Report()
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: "/run/netns")) ?? [] where isStale(name) {
            NetworkNamespace.destroy(name: name)
            report.namespaces.append(name)
        }
        // Again until none is left: a master may respawn a child the first pass missed.
        for _ in 0..<20 {
            let strays = strayProcesses()
            if strays.isEmpty { break }
            for pid in strays { kill(pid, SIGKILL) }
            report.processes += strays.filter { !report.processes.contains($0) }
        }
        for name in (try? fm.contentsOfDirectory(atPath: "/etc/netns")) ?? [] where isStale(name) {
            try? fm.removeItem(atPath: "/etc/netns/\(name)")
        }
        for tmp in ResourceRegistry.temporaryRoots {
            for name in (try? fm.contentsOfDirectory(atPath: tmp)) ?? [] where isStale(name) {
                try? fm.removeItem(atPath: (tmp as NSString).appendingPathComponent(name))
                report.directories.append(name)
            }
        }
        if !report.isEmpty {
            logger.notice(
                "removed what an earlier, killed run left",
                metadata: [
                    "namespaces": "\(report.namespaces)", "directories": "\(report.directories)",
                    "processes": "\(report.processes)",
                ])
        }
        return report
    }

    /// Processes in a network namespace other than this one whose working folder or command line
    /// names a stale `mxh-PID-…` folder (a Postfix daemon works in its queue folder, unbound and
    /// Exim name their configuration file). A process in this namespace (a user's `tail` of a
    /// left-over log) is never the harness's.
    static func strayProcesses() -> [pid_t] {
        let fm = FileManager.default
        let me = getpid()
        var own = stat()
        guard stat("/proc/self/ns/net", &own) == 0 else { return [] }
        return ((try? fm.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry), pid != me else { return nil }
            var net = stat()
            guard stat("/proc/\(pid)/ns/net", &net) == 0, net.st_ino != own.st_ino || net.st_dev != own.st_dev else {
                return nil
            }
            let cwd = (try? fm.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd")) ?? ""
            let cmdline = fm.contents(atPath: "/proc/\(pid)/cmdline").map { String(decoding: $0, as: UTF8.self) } ?? ""
            return namesStaleFolder(cwd) || namesStaleFolder(cmdline) ? pid : nil
        }
    }

    /// Whether `text` (a path, or a command line with NUL between arguments) has a path component
    /// `mxh-PID-…` of a run that no longer runs.
    static func namesStaleFolder(_ text: String) -> Bool {
        guard text.contains("\(ResourceRegistry.prefix)-") else { return false }
        return text.split(whereSeparator: { $0 == "/" || $0 == "\0" || $0 == " " || $0 == "=" }).contains {
            isStale(String($0))
        }
    }

    /// `mxh-PID-…` where PID is not a running process.
    static func isStale(_ name: String) -> Bool {
        let parts = name.split(separator: "-")
        guard parts.count >= 3, parts[0] == Substring(ResourceRegistry.prefix), let pid = pid_t(parts[1]), pid > 0
        else { return false }
        if pid == getpid() { return false }
        return kill(pid, 0) != 0 && errno == ESRCH
    }
}
