#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import DNSCore
import Foundation
import Logging
import Sandbox

extension PostfixInstance {
    static func readMasterPID(queueDirectory: String) -> pid_t? {
        guard let text = try? String(contentsOfFile: queueDirectory + "/pid/master.pid", encoding: .utf8) else {
            return nil
        }
        return pid_t(text.trimmingWhitespaceAndNewlines())
    }

    /// Processes in `namespace` that belong to this instance: the master's process group (the
    /// master calls setsid(2); its children inherit the group) or, without a master pid, any
    /// Postfix daemon there.
    static func instanceProcesses(namespace: NetworkNamespace, masterPID: pid_t?) -> [pid_t] {
        var target = stat()
        guard stat(namespace.path, &target) == 0 else { return [] }
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        var found: [pid_t] = []
        for entry in entries {
            guard let pid = pid_t(entry) else { continue }
            var info = stat()
            guard stat("/proc/\(pid)/ns/net", &info) == 0, info.st_ino == target.st_ino, info.st_dev == target.st_dev,
                isAlive(pid)
            else { continue }
            if let masterPID, processGroup(of: pid) == masterPID {
                found.append(pid)
            } else if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe"),
                exe.hasPrefix("/usr/lib/postfix/")
            {
                found.append(pid)
            }
        }
        return found
    }

    /// Field 5 of /proc/PID/stat (proc(5)); the command name in field 2 may hold spaces and parentheses.
    static func processGroup(of pid: pid_t) -> pid_t? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 2 else { return nil }
        return pid_t(fields[2])
    }

    /// Running, not a zombie: a process whose parent is init may stay a zombie for a while (seen
    /// under gVisor, whose init reaps late), and a zombie holds nothing.
    package static func isAlive(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        let state = stat[stat.index(after: close)...].split(separator: " ").first
        return state != "Z" && state != "X"
    }

    static func daemonName(of pid: pid_t) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")")
        else { return nil }
        return String(stat[stat.index(after: open)..<close])
    }

    /// Runs a command to its end with output to a file, not a pipe: `postfix start` leaves the
    /// master running, and a master holding the pipe's write end would make a reader wait forever.
    static func run(_ executable: String, _ arguments: [String], outputPath: String?, timeout: Duration) async -> Int32
    {
        await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            DispatchQueue.global().async {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: executable)
                process.arguments = arguments
                process.standardInput = FileHandle.nullDevice
                var handle: FileHandle?
                if let outputPath {
                    if !FileManager.default.fileExists(atPath: outputPath) {
                        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
                    }
                    handle = FileHandle(forWritingAtPath: outputPath)
                    _ = try? handle?.seekToEnd()
                }
                process.standardOutput = handle ?? FileHandle.nullDevice
                process.standardError = handle ?? FileHandle.nullDevice
                do {
                    try process.run()
                } catch {
                    if let handle { try? handle.write(contentsOf: Data("cannot run \(executable): \(error)\n".utf8)) }
                    continuation.resume(returning: -1)
                    return
                }
                let done = DispatchSemaphore(value: 0)
                DispatchQueue.global().async {
                    process.waitUntilExit()
                    done.signal()
                }
                let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
                if done.wait(timeout: .now() + seconds) == .timedOut {
                    kill(process.processIdentifier, SIGKILL)
                    done.wait()
                }
                try? handle?.close()
                continuation.resume(returning: process.terminationStatus)
            }
        }
    }
}
