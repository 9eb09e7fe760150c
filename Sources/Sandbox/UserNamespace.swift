#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CNamespace
import Foundation

/// Runs without root: the command starts again inside a user namespace of its own, where it is
/// root over namespaces it owns and nothing else (user_namespaces(7)). util-linux's unshare makes
/// it: `--user --map-root-user` (the caller's uid as root inside), `--mount` (a private /run for
/// `ip netns`' mounts), `--net` (even the outer network is the run's own), and `--pid --fork
/// --mount-proc --kill-child`, so that when the run ends, however it ends (SIGKILL too), the kernel
/// ends every process it started (pid_namespaces(7): the namespace's init dying kills the rest),
/// and its namespaces and mounts go with them.
public enum UserNamespace {
    /// Set in the environment of the command started inside.
    public static let environmentKey = "MXHARNESS_USER_NAMESPACE"
    /// The pid of the process outside that started it (for commands that tell the user how to
    /// reach inside: the command's own pid is 1 in there).
    public static let outerProcessKey = "MXHARNESS_OUTER_PID"
    public static let unsharePath = "/usr/bin/unshare"
    /// The private /run inside: `ip netns` mounts and the temporary folders.
    static let privateRun = "/run"
    public static let temporaryDirectory = "/run/mxharness-tmp"

    static let unshareArguments = [
        "--user", "--map-root-user", "--mount", "--net", "--pid", "--fork", "--mount-proc", "--kill-child=SIGTERM",
    ]

    /// Whether this process is the one started inside the user namespace.
    public static var isInside: Bool { ProcessInfo.processInfo.environment[environmentKey] == "1" }

    /// Why this machine does not give this user a user namespace, naming the setting; nil when it does.
    public static func unavailableReason() -> String? {
        let settings =
            "enable them with sysctl kernel.unprivileged_userns_clone=1 (Debian kernels before 5.10) "
            + "and user.max_user_namespaces > 0, and on Ubuntu 23.10 and later "
            + "kernel.apparmor_restrict_unprivileged_userns=0; or run mxharness as root"
        if read("/proc/sys/kernel/unprivileged_userns_clone") == "0" {
            return "user namespaces are disabled for unprivileged users (kernel.unprivileged_userns_clone = 0): "
                + settings
        }
        if read("/proc/sys/user/max_user_namespaces") == "0" {
            return "user namespaces are disabled (user.max_user_namespaces = 0): " + settings
        }
        guard FileManager.default.isExecutableFile(atPath: unsharePath) else {
            return "\(unsharePath) is missing: apt-get install util-linux, or run mxharness as root"
        }
        do {
            try Command.runSync(unsharePath, unshareArguments + ["--", "/bin/true"])
        } catch {
            return "this user cannot create a user namespace (\(error)): " + settings
        }
        return nil
    }

    /// Runs this command again inside a user namespace, passes its output through, and exits with
    /// its status. SIGINT reaches the command inside from the terminal; SIGTERM and SIGHUP sent to
    /// this process are passed on to it.
    public static func reexecute() -> Never {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let executable =
            length > 0
            ? String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            : CommandLine.arguments[0]
        var environment = ProcessInfo.processInfo.environment
        environment[environmentKey] = "1"
        environment[outerProcessKey] = String(getpid())
        environment["TMPDIR"] = temporaryDirectory
        let process = Process()
        process.executableURL = URL(fileURLWithPath: unsharePath)
        process.arguments = unshareArguments + ["--", executable] + CommandLine.arguments.dropFirst()
        process.environment = environment
        signal(SIGINT, SIG_IGN)
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGTERM, SIGHUP] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { for child in children(of: process.processIdentifier) { kill(child, SIGTERM) } }
            source.resume()
            sources.append(source)
        }
        do { try process.run() } catch {
            try? FileHandle.standardError.write(
                contentsOf: Data("mxharness: cannot start \(unsharePath): \(error)\n".utf8))
            exit(2)
        }
        process.waitUntilExit()
        withExtendedLifetime(sources) {}
        exit(process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus)
    }

    /// In the command started inside: a private /run (tmpfs) with /run/netns for `ip netns` and the
    /// temporary folder, and the outer namespace's loopback up. First thing, before any helper
    /// program: Foundation's Process learns that a child ended through a socket pair it cannot make
    /// while loopback is down, and would wait for ever.
    public static func prepareInside() throws {
        // Before any helper program starts: Foundation's Process waits on a loopback socket pair.
        guard mxh_loopback_up() == 0 else {
            throw UserNamespaceError(
                "cannot bring up the loopback link in the user namespace: \(String(cString: strerror(errno)))")
        }
        guard mount("tmpfs", privateRun, "tmpfs", UInt(MS_NOSUID) | UInt(MS_NODEV), "mode=0755") == 0 else {
            throw UserNamespaceError(
                "cannot mount a private \(privateRun) in the user namespace: \(String(cString: strerror(errno)))")
        }
        for (path, mode) in [(privateRun + "/netns", 0o755), (temporaryDirectory, 0o1777)] {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: mode])
        }
    }

    /// A shell prefix that runs a command inside this run's namespaces, from outside (nil when
    /// this process is not inside a user namespace of its own).
    public static var enterPrefix: String? {
        guard isInside, let outer = ProcessInfo.processInfo.environment[outerProcessKey] else { return nil }
        return "nsenter --preserve-credentials --user --mount --net --target \"$(pgrep -P \"$(pgrep -P \(outer))\")\" "
    }

    /// The direct children of `pid` (Linux 3.5+: /proc/PID/task/PID/children).
    static func children(of pid: pid_t) -> [pid_t] {
        (read("/proc/\(pid)/task/\(pid)/children") ?? "").split(separator: " ").compactMap { pid_t($0) }
    }

    static func read(_ path: String) -> String? {
        (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

public struct UserNamespaceError: Error, Sendable, CustomStringConvertible {
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}
