#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MXHarnessTestKit
import Testing

/// `mxharness` as an ordinary user (nobody, through setpriv): the built-in MX's runs enter a user
/// namespace of their own, with the same isolation, and leave nothing behind, killed or not.
@Suite(.serialized, .enabled(if: AsNobody.canSwitchUser, "needs root (to become user nobody with setpriv) and unbound"))
struct RootlessTests {
    typealias Finished = AsNobody.Finished
    static let nobody = AsNobody.nobody
    static func asNobody(_ command: [String], started: ((Process) throws -> Void)? = nil) throws -> Finished {
        try AsNobody.run(command, started: started)
    }

    /// A folder user nobody can read and write.
    static func folder(_ scenario: String) throws -> String {
        let directory = NSTemporaryDirectory() + "/rootless-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
        try scenario.write(toFile: directory + "/case.yaml", atomically: true, encoding: .utf8)
        chmod(directory + "/case.yaml", 0o644)
        return directory
    }

    /// Processes of user nobody whose command line mentions `text`.
    static func processes(mentioning text: String) -> [pid_t] {
        LiveProcess.mentioning(text).filter { $0.owner == nobody }.map(\.pid)
    }

    static func waitUntil(_ condition: () -> Bool) async throws {
        for _ in 0..<200 where !condition() { try await Task.sleep(for: .milliseconds(50)) }
    }

    @Test func theBuiltInMXRunsAsAnOrdinaryUser() async throws {
        try #require(AsNobody.userNamespacesAllowed, "this kernel does not give user nobody a user namespace")
        let directory = try Self.folder(CommandLineTests.passing)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = try Self.asNobody([CommandLineTests.binary, "run", directory, "--json", directory + "/run.json"])
        #expect(run.status == 0, "\(run.output)\(run.error)")
        #expect(
            run.output.contains("PASS good") && run.output.contains("1 passed, 0 failed, 0 skipped"), "\(run.output)")
        let owner =
            try FileManager.default.attributesOfItem(atPath: directory + "/run.json")[.ownerAccountID] as? NSNumber
        #expect(owner?.uint32Value == Self.nobody, "the report belongs to the user who ran it")
        let send = try Self.asNobody([CommandLineTests.binary, "send", directory + "/case.yaml"])
        #expect(send.status == 0, "\(send.output)\(send.error)")
        #expect(send.output.contains("250"), "\(send.output)")
        let matrix = try Self.asNobody([CommandLineTests.binary, "matrix", directory, "--policies", "open,fcrdns"])
        #expect(matrix.status == 0, "\(matrix.output)\(matrix.error)")
        #expect(matrix.output.contains("delivered/v6"), "\(matrix.output)")
        #expect(Self.processes(mentioning: "mxharness-tmp").isEmpty, "nothing of the runs is left")
    }

    /// SIGKILL of the harness inside: the kernel ends the rest (its unbound, its namespaces).
    @Test func killedItLeavesNothing() async throws {
        try #require(AsNobody.userNamespacesAllowed, "this kernel does not give user nobody a user namespace")
        // Six slow cases one after another (about 10 s each), so the run is still busy however
        // long a loaded machine takes to start it.
        let directory = try Self.folder(CleanupTests.slowScenario)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for index in 2...6 {
            let path = directory + "/case-\(index).yaml"
            try CleanupTests.slowScenario.replacingOccurrences(of: "name: slow", with: "name: slow-\(index)").write(
                toFile: path, atomically: true, encoding: .utf8)
            chmod(path, 0o644)
        }
        var unbounds: [pid_t] = []
        let finished = try Self.asNobody([
            CommandLineTests.binary, "run", directory, "--jobs", "1", "--dns-timeout", "20",
        ]) { _ in
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                unbounds = Self.processes(mentioning: "/run/mxharness-tmp/mxh-1-").filter { pid in
                    (FileManager.default.contents(atPath: "/proc/\(pid)/comm").map {
                        String(decoding: $0, as: UTF8.self)
                    } ?? "").hasPrefix("unbound")
                }
                if !unbounds.isEmpty { break }
                usleep(50_000)
            }
            // The harness inside is the only process of nobody named mxharness whose parent is unshare.
            let inside = Self.processes(mentioning: "mxharness").filter { pid in
                let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
                let parent = status.split(separator: "\n").first { $0.hasPrefix("PPid:") }.flatMap {
                    pid_t($0.split(separator: "\t").last ?? "")
                }
                return parent.flatMap { try? String(contentsOfFile: "/proc/\($0)/comm", encoding: .utf8) }?.hasPrefix(
                    "unshare") == true
            }
            for pid in inside { kill(pid, SIGKILL) }
        }
        #expect(!unbounds.isEmpty, "the run's unbound was seen running")
        #expect(finished.status != 0)
        try await Self.waitUntil { unbounds.allSatisfy { kill($0, 0) != 0 } }
        #expect(unbounds.allSatisfy { kill($0, 0) != 0 }, "unbound outlived the killed run")
        #expect(Self.processes(mentioning: "mxharness-tmp").isEmpty)
    }
}

enum AsNobody {
    static let nobody: uid_t = 65534
    static var canSwitchUser: Bool {
        IntegrationEnvironment.canRunWorlds && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")
    }

    /// Whether user nobody may create a user namespace here (the kernel may forbid it).
    static let userNamespacesAllowed: Bool = {
        (try? run(["/usr/bin/unshare", "--user", "--map-root-user", "--mount", "--net", "/bin/true"]).status) == 0
    }()

    struct Finished {
        var status: Int32
        var output: String
        var error: String
    }

    static func run(_ command: [String], started: ((Process) throws -> Void)? = nil) throws -> Finished {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = ["--reuid=\(nobody)", "--regid=\(nobody)", "--clear-groups"] + command
        process.currentDirectoryURL = URL(fileURLWithPath: "/")
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        try started?(process)
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let error = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Finished(
            status: process.terminationStatus, output: String(decoding: output, as: UTF8.self),
            error: String(decoding: error, as: UTF8.self))
    }

}
