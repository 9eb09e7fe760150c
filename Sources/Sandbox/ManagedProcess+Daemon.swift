import Foundation
import DNSCore

/// How waiting for a daemon to listen ended.
public enum DaemonStart: Sendable, Equatable {
    case listening
    /// The daemon's process exited first.
    case exited
    /// Still not listening on these addresses at the deadline.
    case timedOut(waiting: [IPAddress])
}

extension ManagedProcess {
    /// Waits until the daemon accepts on `port` of every address (read from its namespace's
    /// socket table, without a connection it would log), it exits, or `timeout` passes.
    public func waitUntilListening(on addresses: [IPAddress], port: UInt16 = 25, timeout: Duration) async -> DaemonStart
    {
        let deadline = ContinuousClock.now + timeout
        while true {
            let sockets = ListeningSockets(ofProcess: pid)
            let waiting = addresses.filter { !sockets.accepts($0, port: port) }
            if waiting.isEmpty { return .listening }
            if !isRunning { return .exited }
            if ContinuousClock.now > deadline { return .timedOut(waiting: waiting) }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// SIGTERM to the daemon (SIGKILL after `grace`), then SIGKILL to whatever process it started
    /// is left (an MTA's session or privilege-separated children).
    public func stopWithDescendants(grace: Duration = .seconds(2)) async {
        let children = ProcessTree.descendants(of: pid)
        await terminate(grace: grace)
        ProcessTree.kill(children)
    }
}

/// A daemon (an MTA started for a case) that could not be started, with its own words.
public struct DaemonStartError: Error, Sendable, CustomStringConvertible {
    /// The daemon's name as users know it: "Exim", "OpenSMTPD".
    public var daemon: String
    public var message: String
    /// What the daemon wrote to its output and logs.
    public var output: String

    public init(daemon: String, message: String, output: String) {
        self.daemon = daemon
        self.message = message
        self.output = output
    }

    public var description: String {
        let said = output.trimmingCharacters(in: .whitespacesAndNewlines)
        return message + (said.isEmpty ? "" : "\n\(daemon) said:\n" + said)
    }
}
