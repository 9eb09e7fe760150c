#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MXHarnessTestKit
import Sandbox
import Testing

/// `mxharness run` interrupted: SIGINT and SIGTERM take everything down before exiting; after a
/// SIGKILL the next run's janitor removes what was left (namespaces, unbound, folders).
@Suite(.serialized, .enabled(if: IntegrationEnvironment.canRunWorlds, IntegrationEnvironment.worldSkipReason))
struct CleanupTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let binary = root.appendingPathComponent(".build/debug/mxharness").path

    /// A case that stays busy for seconds: the MX's PTR lookup meets a `timeout` fault and the run is
    /// given a long DNS timeout.
    static let slowScenario = """
        name: slow
        dns:
          records:
            - example.test. MX 10 mx.example.test.
            - mx.example.test. AAAA 2001:db8::10
          faults:
            - {name: 8.b.d.0.1.0.0.2.ip6.arpa, fault: timeout}
        receiver: {addresses: ["2001:db8::10"], policy: fcrdns}
        sender: {addresses: {ipv6: "2001:db8:5::25"}, helo: mail.sender.test, mail_from: a@sender.test, rcpt_to: [b@example.test]}
        expect: {outcome: deferred}
        """

    /// Starts a run of six slow cases one after another (each waits about 10 s for unbound to give
    /// up on the lookup), so the run is still busy however long a loaded machine takes to start it.
    /// The caller waits for its namespace: a warm slot's, or with `fresh` a namespace of the case's own.
    func startSlowRun(fresh: Bool) throws -> (SpawnedRun, String) {
        let directory = NSTemporaryDirectory() + "/cleanup-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for index in 1...6 {
            try Self.slowScenario.replacingOccurrences(of: "name: slow", with: "name: slow-\(index)")
                .write(toFile: directory + "/slow-\(index).yaml", atomically: true, encoding: .utf8)
        }
        let run = try SpawnedRun(
            Self.binary, ["run", directory, "--jobs", "1", "--dns-timeout", "20"] + (fresh ? ["--fresh-worlds"] : []))
        return (run, directory)
    }

    func resources(of pid: pid_t) -> [String] {
        let prefix = "mxh-\(pid)-"
        let fm = FileManager.default
        let spaces = ((try? fm.contentsOfDirectory(atPath: "/run/netns")) ?? []).filter { $0.hasPrefix(prefix) }
        // Folders in /tmp, and in memory (a warm slot's zone folder, ResourceRegistry.makeMemoryDirectory).
        let dirs = [NSTemporaryDirectory(), ResourceRegistry.memoryRoot].flatMap { root in
            ((try? fm.contentsOfDirectory(atPath: root)) ?? []).filter { $0.hasPrefix(prefix) }
        }
        return spaces + dirs
    }

    func unboundsServing(_ pid: pid_t) -> [pid_t] {
        LiveProcess.mentioning("/tmp/mxh-\(pid)-").map(\.pid)
    }

    /// Returns as soon as `condition` holds, or after 30 s of it not holding (measured on the clock,
    /// not in tries: on a busy machine one look at /proc can take long).
    @discardableResult
    func waitUntil(_ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    @Test(arguments: [SIGINT, SIGTERM], [false, true])
    func aSignalTakesEverythingDown(signal: Int32, fresh: Bool) async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build mxharness first (swift build)")
        let (run, directory) = try startSlowRun(fresh: fresh)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pid = run.pid
        let suffix = fresh ? "-case" : "-slot"
        let started = try await waitUntil {
            resources(of: pid).contains { $0.hasSuffix(suffix) } && !unboundsServing(pid).isEmpty
        }
        guard started else {
            run.signal(SIGKILL)
            let status = run.reap()
            ResourceJanitor.sweep()
            Issue.record("the run did not get going within 30 s (exit status \(status) after SIGKILL)")
            return
        }
        run.signal(signal)
        #expect(run.reap() == 128 + signal)
        #expect(resources(of: pid).isEmpty, "left: \(resources(of: pid))")
        try await waitUntil { unboundsServing(pid).isEmpty }
        #expect(unboundsServing(pid).isEmpty)
    }

    @Test(arguments: [false, true])
    func afterSIGKILLTheJanitorRemovesTheRest(fresh: Bool) async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build mxharness first (swift build)")
        let (run, directory) = try startSlowRun(fresh: fresh)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pid = run.pid
        let suffix = fresh ? "-case" : "-slot"
        let started = try await waitUntil {
            resources(of: pid).contains { $0.hasSuffix(suffix) } && !unboundsServing(pid).isEmpty
        }
        #expect(started, "the run got going within 30 s")
        run.signal(SIGKILL)
        // Looked at while the killed run is a zombie, which every janitor takes for a live run.
        try await waitUntil { run.hasEnded }
        #expect(!resources(of: pid).isEmpty, "a SIGKILL leaves things behind")
        #expect(!unboundsServing(pid).isEmpty)
        run.reap()
        ResourceJanitor.sweep()
        #expect(resources(of: pid).isEmpty, "left: \(resources(of: pid))")
        try await waitUntil { unboundsServing(pid).isEmpty }
        #expect(unboundsServing(pid).isEmpty, "unbound of the killed run is gone")
    }

    /// Three cases with one Postfix configuration, so that they share a pooled instance, each
    /// waiting about 2 s for a PTR lookup that times out (the instance's resolv.conf: timeout:2).
    func startSlowPostfixRun() throws -> (SpawnedRun, String) {
        let directory = NSTemporaryDirectory() + "/cleanup-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for name in ["a", "b", "c"] {
            try Self.slowScenario.replacingOccurrences(of: "name: slow", with: "name: slow-\(name)")
                .write(toFile: directory + "/\(name).yaml", atomically: true, encoding: .utf8)
        }
        return (try SpawnedRun(Self.binary, ["run", directory, "--target", "postfix", "--jobs", "1"]), directory)
    }

    /// `/etc/netns` folders of `pid`'s run, and Postfix processes working in its folders.
    func postfixResources(of pid: pid_t) -> (etc: [String], processes: [pid_t]) {
        let fm = FileManager.default
        let prefix = "mxh-\(pid)-"
        let etc = ((try? fm.contentsOfDirectory(atPath: "/etc/netns")) ?? []).filter { $0.hasPrefix(prefix) }
        let processes = ((try? fm.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry -> pid_t? in
            guard let candidate = pid_t(entry),
                let exe = try? fm.destinationOfSymbolicLink(atPath: "/proc/\(candidate)/exe"),
                exe.hasPrefix("/usr/lib/postfix/"),
                let cwd = try? fm.destinationOfSymbolicLink(atPath: "/proc/\(candidate)/cwd"),
                cwd.contains("/" + prefix)
            else { return nil }
            return candidate
        }
        return (etc, processes)
    }

    @Test(
        .enabled(if: IntegrationEnvironment.hasPostfix, "needs postfix (apt-get install postfix)"),
        arguments: [SIGTERM, SIGKILL])
    func aSharedPostfixIsTakenDownOnASignalOrByTheJanitor(signal: Int32) async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build mxharness first (swift build)")
        let (run, directory) = try startSlowPostfixRun()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pid = run.pid
        // Postfix's master, not only the short-lived helpers `postfix start` runs first.
        func masterRuns() -> Bool {
            postfixResources(of: pid).processes.contains {
                (try? String(contentsOfFile: "/proc/\($0)/comm", encoding: .utf8))?.hasPrefix("master") == true
            }
        }
        // One look that saw all three at once (processes come and go around a master, so a second
        // look a moment later proves nothing more).
        let started = try await waitUntil {
            resources(of: pid).contains { $0.hasSuffix("-pfhost") } && !postfixResources(of: pid).etc.isEmpty
                && masterRuns()
        }
        #expect(started, "a pooled host came up and its Postfix master runs")
        run.signal(signal)
        if signal == SIGKILL {
            try await waitUntil { run.hasEnded }
            #expect(!resources(of: pid).isEmpty, "a SIGKILL leaves things behind")
            run.reap()
            ResourceJanitor.sweep()
        } else {
            #expect(run.reap() == 128 + signal)
        }
        try await waitUntil { postfixResources(of: pid).processes.isEmpty }
        #expect(resources(of: pid).isEmpty, "left: \(resources(of: pid))")
        #expect(postfixResources(of: pid).etc.isEmpty, "left in /etc/netns: \(postfixResources(of: pid).etc)")
        #expect(
            postfixResources(of: pid).processes.isEmpty,
            "Postfix processes left: \(postfixResources(of: pid).processes)")
    }

    /// A real MTA as the receiver needs root: one line that says so, before anything is created.
    @Test func postfixWithoutRootSaysWhyAtOnce() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build mxharness first (swift build)")
        let finished = try CommandLineTests.run(
            [
                "--reuid=65534", "--regid=65534", "--clear-groups", Self.binary, "run",
                Self.root.appendingPathComponent("Scenarios").path, "--target", "postfix",
            ], executable: "/usr/bin/setpriv")
        let said = finished.error
        #expect(finished.status == 2)
        #expect(
            said
                == "mxharness: the Postfix receiver needs root: run mxharness as root (sudo), or use --target builtin, which runs as any user\n",
            "\(said)")
    }
}

/// The exit codes the issue fixes: 0 all passed, 1 some failed, 2 usage or load errors.
@Suite(.enabled(if: IntegrationEnvironment.canRunWorlds, IntegrationEnvironment.worldSkipReason))
struct ExitCodeTests {
    func run(_ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CleanupTests.binary)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    @Test func zeroOneAndTwo() throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: CleanupTests.binary), "build mxharness first (swift build)")
        let scenario = """
            dns:
              records: [example.test. MX 10 mx.example.test., mx.example.test. AAAA 2001:db8::10]
            receiver: {addresses: ["2001:db8::10"]}
            sender: {addresses: {ipv6: "2001:db8:5::25"}, helo: mail.sender.test, mail_from: a@sender.test, rcpt_to: [b@example.test]}
            expect: {outcome: OUTCOME, family: ipv6}
            """
        let directory = NSTemporaryDirectory() + "/exit-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let good = directory + "/good.yaml", wrong = directory + "/wrong.yaml"
        try scenario.replacingOccurrences(of: "OUTCOME", with: "delivered").write(
            toFile: good, atomically: true, encoding: .utf8)
        try scenario.replacingOccurrences(of: "OUTCOME", with: "bounced").write(
            toFile: wrong, atomically: true, encoding: .utf8)
        #expect(try run(["run", good]) == 0)
        #expect(try run(["run", wrong]) == 1)
        #expect(try run(["run", "/nonexistent/scenarios"]) == 2)
        #expect(try run(["run", "--jobs", "0", good]) == 2)
        #expect(try run(["no-such-command"]) == 2)
    }
}

/// A run of the harness spawned without Foundation's `Process`, which reaps its children as soon as
/// they exit. Until `reap()`, a killed run stays a zombie, and a zombie's PID still answers
/// `kill(pid, 0)`: the janitor of any other run started meanwhile (other suites run the harness in
/// parallel) takes its leftovers for a live run's and leaves them alone, so a test can look at them.
final class SpawnedRun {
    let pid: pid_t
    private var status: Int32?

    init(_ executable: String, _ arguments: [String]) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard result == 0 else { throw POSIXError(POSIXErrorCode(rawValue: result) ?? .EINVAL) }
        self.pid = pid
    }

    func signal(_ signal: Int32) { kill(pid, signal) }

    /// Whether the run has ended (a zombie counts as ended), without reaping it.
    var hasEnded: Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let state = stat.split(separator: ")").last?.split(separator: " ").first
        else { return true }
        return state == "Z"
    }

    /// Waits for the run to end and reaps it: its exit status, or 128 + the signal that killed it.
    @discardableResult
    func reap() -> Int32 {
        if let status { return status }
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) == -1 && errno == EINTR {}
        let signal = raw & 0x7f
        let result = signal == 0 ? (raw >> 8) & 0xff : 128 + signal
        status = result
        return result
    }

    deinit {
        if status == nil {
            kill(pid, SIGKILL)
            reap()
        }
    }
}
