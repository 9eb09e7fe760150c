#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MXHarnessTestKit
@testable import Postfix
import Runner
import RunnerTestKit
import Sandbox
import Scenario
import Testing

/// Pooled Postfix hosts started at the same moment (issue 23 item 1: with `--jobs 2`, one start in
/// a few failed with "not owned by postfix: .../queue/public ... mail system startup failed").
@Suite(
    .serialized,
    .enabled(
        if: IntegrationEnvironment.canRunWorlds && IntegrationEnvironment.hasPostfix,
        "needs root (network namespaces), unbound and postfix (apt-get install unbound postfix); run as root"))
struct PostfixPoolStartTests {
    /// Rounds of eight hosts of one configuration checked out at once (none idle, so eight starts
    /// run together): every start succeeds, and every queue folder of every instance has the owner,
    /// group and mode `postfix-files` gives it.
    @Test func manyHostsStartingAtOnceEachGetAWorkingInstanceWithItsQueueOwnedAsPostfixFilesSays() async throws {
        let (good, _) = try PostfixPoolTests.fcrdnsPair()
        let configuration = PostfixReceivers().configuration(for: good)
        let key = try #require(configuration.sharingKey)
        let layout = QueueLayout(
            postfixFiles: try String(contentsOfFile: "/etc/postfix/postfix-files", encoding: .utf8))
        #expect(layout.folders.contains { $0.path == "public" && $0.owner == "postfix" })
        let pool = PostfixPool(capacity: 8)
        for round in 1...3 {
            let hosts = await withTaskGroup(of: Result<PostfixHost, any Error>.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        do { return .success(try await pool.checkOut(configuration, key: key).host) } catch {
                            return .failure(error)
                        }
                    }
                }
                var results: [Result<PostfixHost, any Error>] = []
                for await result in group { results.append(result) }
                return results
            }
            let started = hosts.compactMap { try? $0.get() }
            for case .failure(let error) in hosts { Issue.record("round \(round): a start failed: \(error)") }
            #expect(
                Set(started.map(\.instance.paths.queueDirectory)).count == started.count,
                "two hosts share a queue directory")
            for host in started {
                #expect(host.instance.processes.contains(host.instance.masterPID))
                for folder in layout.folders {
                    let path =
                        folder.path.isEmpty
                        ? host.instance.paths.queueDirectory : host.instance.paths.queueDirectory + "/" + folder.path
                    var info = stat()
                    guard stat(path, &info) == 0 else {
                        Issue.record("round \(round): \(path) is missing")
                        continue
                    }
                    #expect(
                        info.st_uid == SystemAccounts.user(named: folder.owner)?.uid, "round \(round): owner of \(path)"
                    )
                    if let group = folder.group {
                        #expect(info.st_gid == SystemAccounts.groupID(named: group), "round \(round): group of \(path)")
                    }
                    #expect(UInt16(info.st_mode & 0o7777) == folder.mode, "round \(round): mode of \(path)")
                }
                var data = stat()
                #expect(
                    stat(host.instance.paths.dataDirectory, &data) == 0
                        && data.st_uid == SystemAccounts.user(named: "postfix")?.uid)
            }
            // Not reusable: each round starts eight new ones.
            for host in started { await pool.checkIn(host, reusable: false) }
        }
        let records = await pool.started
        #expect(records.count == 24)
        await pool.close()
        PostfixPoolTests.expectGone(records)
    }
}
