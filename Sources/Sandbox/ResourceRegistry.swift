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

    /// A fresh resource name `mxh-PID-N-LABEL`, unique in this process.
    public func makeName(_ label: String = "") -> String {
        lock.lock()
        counter += 1
        let n = counter
        lock.unlock()
        let suffix = label.isEmpty ? "" : "-" + String(label.filter { $0.isLetter || $0.isNumber }.prefix(12))
        return "\(Self.prefix)-\(getpid())-\(n)\(suffix)"
    }

    func register(namespace: String) { lock.withLock { _ = namespaces.insert(namespace) } }
    func unregister(namespace: String) { lock.withLock { _ = namespaces.remove(namespace) } }
    func register(process: ManagedProcess) { lock.withLock { processes[ObjectIdentifier(process)] = process } }
    func unregister(process: ManagedProcess) { lock.withLock { _ = processes.removeValue(forKey: ObjectIdentifier(process)) } }
    public func register(directory: String) { lock.withLock { _ = directories.insert(directory) } }
    public func unregister(directory: String) { lock.withLock { _ = directories.remove(directory) } }

    /// A new temporary folder `/tmp/mxh-PID-N-LABEL`, mode 0755 (Postfix's daemons, running as
    /// user postfix, must traverse it), removed by `removeAll()`.
    public func makeTemporaryDirectory(_ label: String) throws -> String {
        let path = NSTemporaryDirectory().appending("/").replacingOccurrences(of: "//", with: "/") + makeName(label)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        register(directory: path)
        return path
    }

    public func removeDirectory(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
        unregister(directory: path)
    }

    /// Kills every registered process, deletes every namespace and folder. Synchronous, so a
    /// signal handler can call it before exiting.
    public func removeAll() {
        let (procs, spaces, dirs) = lock.withLock { () -> ([ManagedProcess], Set<String>, Set<String>) in
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
    }

    /// On SIGINT or SIGTERM: remove everything, then exit with 128+signal.
    public func installSignalHandlers() {
        lock.lock()
        defer { lock.unlock() }
        guard signalSources.isEmpty else { return }
        for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [weak self] in
                self?.removeAll()
                exit(128 + signalNumber)
            }
            source.resume()
            signalSources.append(source)
        }
    }
}
