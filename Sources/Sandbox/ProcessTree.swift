#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

/// The processes a daemon started, read from /proc (proc(5): `/proc/PID/task/TID/children`).
public enum ProcessTree {
    /// Every descendant of `root`, children before grandchildren.
    public static func descendants(of root: pid_t) -> [pid_t] {
        var found: [pid_t] = []
        var frontier = [root]
        while !frontier.isEmpty {
            let pid = frontier.removeFirst()
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
            for task in tasks {
                let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8)) ?? ""
                let children = text.split(separator: " ").compactMap {
                    pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines))
                }
                found += children
                frontier += children
            }
        }
        return found
    }

    /// SIGKILL to each of `pids` still running.
    public static func kill(_ pids: [pid_t]) {
        for pid in pids { _ = Glibc.kill(pid, SIGKILL) }
    }
}
