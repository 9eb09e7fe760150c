#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import DNSCore
import Foundation
import Runner
import Sandbox
import Scenario

/// Bring your own MX (`receiver.target: exec`): the scenario's `receiver.exec.start` runs as a
/// shell command in the case's network namespace, with the case's resolv.conf (the world's
/// unbound) bind-mounted over /etc/resolv.conf in a mount namespace of its own, in a process
/// group of its own. The case starts once every receiver address greets with 220.
public struct ExecReceivers: ReceiverKind {
    public var target: ReceiverTarget { .exec }
    public var resolvesThroughNamespaceResolvConf: Bool { true }
    public var displayName: String { "the exec MX" }
    public var scenarioKeys: [ScenarioKey] { [ExecReceiverSpec.scenarioKey] }
    /// How long the command may take until every address greets.
    public var readyTimeout: Duration
    /// SIGTERM to SIGKILL.
    public var stopGrace: Duration

    public init(readyTimeout: Duration = .seconds(30), stopGrace: Duration = .seconds(5)) {
        self.readyTimeout = readyTimeout
        self.stopGrace = stopGrace
    }

    public func unsupportedReason(for scenario: ScenarioCase, settings: RunConfiguration) -> String? {
        if scenario.receiver.exec == nil { return "target exec needs receiver.exec ({start: COMMAND}) in the scenario" }
        return untranslatedIdentity(of: scenario, on: "an exec receiver") ?? untranslatedTLS(
            of: scenario, on: "an exec receiver")
            ?? unrunEngines(of: scenario, on: "an exec receiver")
    }

    public func makeReceiver(for scenario: ScenarioCase, settings: RunConfiguration) -> any Receiver {
        // The scenario file's folder, absolute: the command runs in the case's own folder.
        let file = URL(
            fileURLWithPath: scenario.location.file,
            relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        return ExecReceiver(
            spec: scenario.receiver.exec ?? ExecReceiverSpec(start: "false"), addresses: scenario.receiver.addresses,
            configDirectory: file.deletingLastPathComponent().standardizedFileURL.path,
            readyTimeout: readyTimeout, stopGrace: stopGrace)
    }
}

/// The user's command could not be started or did not greet in time.
public struct ExecReceiverError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var output: String

    public var description: String {
        let said = output.trimmingCharacters(in: .whitespacesAndNewlines)
        return message + (said.isEmpty ? "\n(the command printed nothing)" : "\nThe command said:\n" + said)
    }
}

struct ExecReceiver: Receiver {
    let spec: ExecReceiverSpec
    let addresses: [IPAddress]
    let configDirectory: String
    let readyTimeout: Duration
    let stopGrace: Duration

    /// `start` with `{config_dir}` (the scenario file's folder), `{work_dir}` (a folder of the
    /// case's own) and `{addresses}` (the receiver addresses, space-separated) replaced.
    static func command(_ start: String, configDirectory: String, workDirectory: String, addresses: [IPAddress])
        -> String
    {
        start.replacing("{config_dir}", with: configDirectory).replacing("{work_dir}", with: workDirectory)
            .replacing("{addresses}", with: addresses.map(\.description).joined(separator: " "))
    }

    func start(in context: CaseContext) async throws -> any RunningReceiver {
        let work = context.directory + "/" + "receiver"
        try FileManager.default.createDirectory(
            atPath: work, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let resolvConf = work + "/resolv.conf"
        try context.receiverResolvConf.text
            .write(toFile: resolvConf, atomically: true, encoding: .utf8)
        let output = work + "/output.log"
        let command = Self.command(
            spec.start, configDirectory: configDirectory, workDirectory: work, addresses: addresses)
        // setsid --fork --wait: the command leads a process group of its own (stopped as one)
        // while setsid stays as the process the harness watches.
        let script = #"mount --bind "$1" /etc/resolv.conf && cd "$2" && exec setsid --fork --wait /bin/sh -c "$3""#
        let process: ManagedProcess
        do {
            process = try ManagedProcess.launch(
                "/usr/bin/unshare",
                [
                    "--mount", "--propagation", "private", "/bin/sh", "-c", script, "exec-receiver", resolvConf, work,
                    command,
                ],
                in: context.namespace, outputPath: output,
                environment: ProcessInfo.processInfo.environment.merging([
                    "MXH_WORK_DIR": work, "MXH_CONFIG_DIR": configDirectory,
                ]) { $1 })
        } catch {
            throw ReceiverStartFailure(error, evidence: LogEvidence(log: RunningExecMX.said(output)))
        }
        var group: pid_t?
        do {
            let clock = ContinuousClock()
            let deadline = clock.now + readyTimeout
            var waiting = addresses
            var lastProblem = ""
            while !waiting.isEmpty {
                if group == nil { group = RunningExecMX.commandGroup(under: process.pid) }
                guard process.isRunning else {
                    throw ExecReceiverError(
                        message: "the receiver command exited before every address greeted: \(command)",
                        output: RunningExecMX.said(output))
                }
                guard clock.now < deadline else {
                    throw ExecReceiverError(
                        message:
                            "no 220 greeting from \(waiting.map(\.description).joined(separator: ", ")) within \(readyTimeout) (last: \(lastProblem)): \(command)",
                        output: RunningExecMX.said(output))
                }
                let address = waiting[0]
                switch await SMTPBanner.probe(address, in: context.namespace) {
                case .success: waiting.removeFirst()
                case .failure(let problem):
                    lastProblem = problem.description
                    try? await Task.sleep(for: .milliseconds(50))
                }
            }
        } catch {
            let running = RunningExecMX(process: process, group: group, outputPath: output, stopGrace: stopGrace)
            await running.stop(clean: false)
            throw ReceiverStartFailure(error, evidence: LogEvidence(log: RunningExecMX.said(output)))
        }
        return RunningExecMX(process: process, group: group, outputPath: output, stopGrace: stopGrace)
    }
}

/// The user's command greeting on every receiver address, in a process group of its own.
final class RunningExecMX: RunningReceiver, @unchecked Sendable {
    let process: ManagedProcess
    /// The command's process group, when `start` saw it.
    let group: pid_t?
    let outputPath: String
    let stopGrace: Duration
    // Set by the first `stop` (`evidence` stops the command), from the task that runs the case.
    private var stopped = false

    init(process: ManagedProcess, group: pid_t?, outputPath: String, stopGrace: Duration) {
        self.process = process
        self.group = group
        self.outputPath = outputPath
        self.stopGrace = stopGrace
    }

    /// What the command wrote to its output so far.
    static func said(_ outputPath: String) -> String {
        (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    }

    func evidence(of clients: [IPAddress]) async -> any ReceiverEvidence {
        await stop(clean: true)
        return LogEvidence(log: Self.said(outputPath))
    }

    func failureEvidence() async -> (any ReceiverEvidence)? {
        LogEvidence(log: Self.said(outputPath))
    }

    /// The command's process group: the descendant of the watched process that leads its own
    /// group (setsid's child), not a short-lived helper such as the `mount` before it.
    static func commandGroup(under root: pid_t) -> pid_t? {
        ProcessTree.descendants(of: root).first { getpgid($0) == $0 }
    }

    /// SIGTERM to the command's process group, SIGKILL after `stopGrace`; then setsid, which
    /// has exited by then. Safe to call twice.
    func stop(clean: Bool) async {
        guard !stopped else { return }
        stopped = true
        if let group = group ?? Self.commandGroup(under: process.pid) {
            kill(-group, SIGTERM)
            let deadline = ContinuousClock.now + stopGrace
            while kill(-group, 0) == 0, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
            if kill(-group, 0) == 0 { kill(-group, SIGKILL) }
            let gone = ContinuousClock.now + .seconds(2)
            while process.isRunning, ContinuousClock.now < gone { try? await Task.sleep(for: .milliseconds(10)) }
        }
        await process.terminate(grace: stopGrace)
    }
}

/// Whether an SMTP server answers a connection with 220 (RFC 5321 4.2: the greeting's last line
/// is `220 ` and may follow `220-` lines).
enum SMTPBanner {
    struct Problem: Error, CustomStringConvertible {
        var description: String
    }

    static func probe(_ address: IPAddress, in namespace: NetworkNamespace, timeout: Duration = .seconds(10)) async
        -> Result<Void, Problem>
    {
        let fd: CInt
        do {
            fd = try await Sockets.connect(from: nil, to: address, port: 25, timeout: .seconds(1), in: namespace)
        } catch {
            return .failure(Problem(description: "\(address): \(error)"))
        }
        defer { close(fd) }
        var received: [UInt8] = []
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&poller, 1, 50) > 0 {
                var buffer = [UInt8](repeating: 0, count: 1024)
                let count = read(fd, &buffer, buffer.count)
                if count <= 0 { return .failure(Problem(description: "\(address): closed before a greeting")) }
                received += buffer[0..<count]
                let lines = String(decoding: received, as: UTF8.self).components(separatedBy: "\r\n").dropLast()
                if let last = lines.last(where: { $0.count >= 4 && $0[$0.index($0.startIndex, offsetBy: 3)] == " " }) {
                    guard last.hasPrefix("220 ") else {
                        return .failure(Problem(description: "\(address) greeted: \(last)"))
                    }
                    _ = "QUIT\r\n".utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, 6) }
                    return .success(())
                }
            } else {
                try? await Task.sleep(for: .milliseconds(1))
            }
        }
        return .failure(Problem(description: "\(address): no greeting within \(timeout)"))
    }
}
