#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
import Logging

/// Everything this process created outside itself (namespaces, processes, temporary folders),
/// so that it can all be removed on success, failure, SIGINT and SIGTERM. What a SIGKILL
/// leaves is found by name (`mxh-PID-…`) and removed by `ResourceJanitor` in a later run.
public final class ResourceRegistry: @unchecked Sendable {
    public static let shared = ResourceRegistry()

    /// The prefix of every namespace and temporary folder the harness creates.
    public static let prefix = "mxh"

    private let lock = NSLock()
    private var namespaces: Set<String> = []
    private var processes: [ObjectIdentifier: ManagedProcess] = [:]
    private var directories: Set<String> = []
    private var counter = 0
    private var signalSources: [any DispatchSourceSignal] = []
    /// Set by `removeAll()`: the process is ending, and what its other tasks still create is
    /// removed as soon as it is registered.
    private var sealed = false

    /// A fresh resource name `mxh-PID-N-LABEL`, unique in this process.
    public func makeName(_ label: String = "") -> String {
        lock.lock()
        counter += 1
        let n = counter
        lock.unlock()
        let suffix = label.isEmpty ? "" : "-" + String(label.filter { $0.isLetter || $0.isNumber }.prefix(12))
        return "\(Self.prefix)-\(getpid())-\(n)\(suffix)"
    }

    // After `removeAll()` a resource is removed as it is registered: a run's tasks keep going
    // while a signal handler cleans up (a pooled Postfix host may be starting, the next case
    // setting up), and what they create then would otherwise outlive the process.
    func register(namespace: String) {
        if !admit({ namespaces.insert(namespace) }) { NetworkNamespace.destroy(name: namespace) }
    }
    func unregister(namespace: String) { lock.withLock { _ = namespaces.remove(namespace) } }
    func register(process: ManagedProcess) {
        if !admit({ processes[ObjectIdentifier(process)] = process }) { process.killNow() }
    }
    func unregister(process: ManagedProcess) {
        lock.withLock { _ = processes.removeValue(forKey: ObjectIdentifier(process)) }
    }
    public func register(directory: String) {
        if !admit({ directories.insert(directory) }) { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// Runs `record` under the lock unless the registry is sealed; false when it is.
    private func admit(_ record: () -> Void) -> Bool {
        lock.withLock {
            guard !sealed else { return false }
            record()
            return true
        }
    }
    public func unregister(directory: String) { lock.withLock { _ = directories.remove(directory) } }

    /// True once `removeAll()` ran: the process is ending.
    public var isSealed: Bool { lock.withLock { sealed } }

    /// A new temporary folder `/tmp/mxh-PID-N-LABEL`, mode 0755 (Postfix's daemons, running as
    /// user postfix, must traverse it), removed by `removeAll()`.
    public func makeTemporaryDirectory(_ label: String) throws -> String {
        guard !isSealed else { throw ResourceRegistryError() }
        let path = NSTemporaryDirectory().appending("/").replacingOccurrences(of: "//", with: "/") + makeName(label)
        try FileManager.default.createDirectory(
            atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        register(directory: path)
        return path
    }

    /// A new folder in memory, `/dev/shm/mxh-PID-N-LABEL` where /dev/shm is there (a tmpfs on
    /// Linux), else a temporary folder as `makeTemporaryDirectory`; removed by `removeAll()`.
    /// For files rewritten for every case (a signed world's zones): on a disk, replacing a file
    /// waits for the file system's journal, which a busy machine makes slow. Inside the run's own
    /// user namespace the temporary folder is in memory already, and private to the run (so
    /// nothing is left when the kernel ends it): it is used instead.
    public func makeMemoryDirectory(_ label: String) throws -> String {
        guard !isSealed else { throw ResourceRegistryError() }
        if UserNamespace.isInside { return try makeTemporaryDirectory(label) }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: Self.memoryRoot, isDirectory: &isDirectory), isDirectory.boolValue,
            access(Self.memoryRoot, W_OK) == 0
        else { return try makeTemporaryDirectory(label) }
        let path = Self.memoryRoot + "/" + makeName(label)
        try FileManager.default.createDirectory(
            atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        register(directory: path)
        return path
    }

    /// Where `makeMemoryDirectory` makes folders.
    public static let memoryRoot = "/dev/shm"

    /// The folders temporary folders are made in (the sweeps look in each).
    static var temporaryRoots: [String] { [NSTemporaryDirectory(), memoryRoot] }

    public func removeDirectory(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
        unregister(directory: path)
    }

    /// Kills every registered process, deletes every namespace and folder, and seals the
    /// registry: whatever is registered afterwards is removed at once. Synchronous, so a signal
    /// handler can call it before exiting; for the end of the process only.
    public func removeAll() {
        let (procs, spaces, dirs) = lock.withLock { () -> ([ManagedProcess], Set<String>, Set<String>) in
            sealed = true
            defer {
                processes.removeAll()
                namespaces.removeAll()
                directories.removeAll()
            }
            return (Array(processes.values), namespaces, directories)
        }
        for process in procs { process.killNow() }
        for name in spaces { NetworkNamespace.destroy(name: name) }
        for dir in dirs { try? FileManager.default.removeItem(atPath: dir) }
        removeOwnByName()
    }

    /// Everything named `mxh-PID-…` for this process: namespaces (with their processes),
    /// `/etc/netns` folders and temporary folders, also ones a task re-created or never
    /// registered while `removeAll()` ran (a Postfix configuration written into `/etc/netns/NAME`
    /// just after its namespace went).
    func removeOwnByName() {
        let prefix = "\(Self.prefix)-\(getpid())-"
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: "/run/netns")) ?? [] where name.hasPrefix(prefix) {
            NetworkNamespace.destroy(name: name)
        }
        for name in (try? fm.contentsOfDirectory(atPath: "/etc/netns")) ?? [] where name.hasPrefix(prefix) {
            try? fm.removeItem(atPath: "/etc/netns/\(name)")
        }
        for tmp in Self.temporaryRoots {
            for name in (try? fm.contentsOfDirectory(atPath: tmp)) ?? [] where name.hasPrefix(prefix) {
                try? fm.removeItem(atPath: (tmp as NSString).appendingPathComponent(name))
            }
        }
    }

    /// On SIGINT or SIGTERM: remove everything, then exit with 128+signal.
    public func installSignalHandlers() {
        lock.lock()
        defer { lock.unlock() }
        guard signalSources.isEmpty else { return }
        // The run's tasks fail fast once the registry is sealed and could end the process (with
        // their own exit status) before the handler has cleaned up: an exit then waits for the
        // handler, which ends the process itself.
        atexit {
            if ResourceRegistry.shared.isSealed {
                while true { sleep(1) }
            }
        }
        for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [weak self] in
                self?.removeAll()
                // Tasks that were mid-step when the registry was sealed (a Postfix start, a
                // configuration being written) fail within moments; a second pass by name takes
                // what they made meanwhile.
                usleep(100_000)
                self?.removeOwnByName()
                fflush(nil)
                _exit(128 + signalNumber)
            }
            source.resume()
            signalSources.append(source)
        }
    }
}

/// A temporary folder asked for after `ResourceRegistry.removeAll()`.
public struct ResourceRegistryError: Error, Sendable, CustomStringConvertible {
    public var description: String { "mxharness is stopping (interrupted): no new world is set up" }
}
