#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// One process of the machine as /proc shows it, for tests that check what a run started or left.
public struct LiveProcess: Sendable, CustomStringConvertible {
    public var pid: pid_t
    /// The command line with its arguments joined by spaces (/proc/PID/cmdline separates them with NUL).
    public var commandLine: String

    /// The process's working directory (/proc/PID/cwd), nil once it is gone or unreadable.
    public var workingDirectory: String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd")
    }

    /// The user the process runs as (the owner of /proc/PID), nil once it is gone.
    public var owner: uid_t? {
        ((try? FileManager.default.attributesOfItem(atPath: "/proc/\(pid)"))?[.ownerAccountID] as? NSNumber)?
            .uint32Value
    }

    public var description: String { "\(pid) \(commandLine)" }

    /// Every process whose command line could be read at the moment of the call.
    public static func all() -> [LiveProcess] {
        let fm = FileManager.default
        return ((try? fm.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry in
            guard let pid = pid_t(entry), let cmdline = fm.contents(atPath: "/proc/\(entry)/cmdline") else {
                return nil
            }
            return LiveProcess(
                pid: pid, commandLine: String(decoding: cmdline.map { $0 == 0 ? 32 : $0 }, as: UTF8.self))
        }
    }

    /// The processes whose command line contains `text`.
    public static func mentioning(_ text: String) -> [LiveProcess] {
        all().filter { $0.commandLine.contains(text) }
    }
}
