#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
import Logging

/// A long-running helper process (unbound, Postfix) started inside a namespace and stopped
/// on request, on a signal, or at the latest by the janitor of a later run.
public final class ManagedProcess: @unchecked Sendable {
    public let executable: String
    public let arguments: [String]
    private let process: Process
    private let lock = NSLock()

    public var pid: pid_t { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    private init(executable: String, arguments: [String], process: Process) {
        self.executable = executable
        self.arguments = arguments
        self.process = process
    }

    /// Starts `executable arguments` in `namespace` (through nsenter(1), which enters only the
    /// network namespace), with standard output and error appended to `outputPath` when given.
    public static func launch(
        _ executable: String, _ arguments: [String], in namespace: NetworkNamespace?, outputPath: String? = nil,
        environment: [String: String]? = nil
    ) throws -> ManagedProcess {
        let process = Process()
        if let namespace {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/nsenter")
            process.arguments = ["--net=\(namespace.path)", "--", executable] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        }
        if let environment { process.environment = environment }
        process.standardInput = FileHandle.nullDevice
        if let outputPath {
            // A file that cannot be made shows as the handle's error on the next line.
            _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
            process.standardOutput = handle
            process.standardError = handle
        } else {
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        let managed = ManagedProcess(executable: executable, arguments: arguments, process: process)
        ResourceRegistry.shared.register(process: managed)
        return managed
    }

    /// SIGTERM, then SIGKILL after `grace`; returns when the process is gone.
    public func terminate(grace: Duration = .milliseconds(500)) async {
        defer { ResourceRegistry.shared.unregister(process: self) }
        guard process.isRunning else { return }
        kill(pid, SIGTERM)
        let deadline = ContinuousClock.now + grace
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(2))
        }
        if process.isRunning {
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// Immediate SIGKILL, for signal handlers.
    func killNow() {
        if process.isRunning { kill(pid, SIGKILL) }
    }
}
