#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Sandbox
import Testing

/// Users and groups looked up from many threads at once get each their own answer (getpwnam(3)
/// shares one buffer between threads: two Postfix instances or senders set up at once gave a
/// queue folder meant for postfix to root, and `postfix start` failed).
struct SystemAccountsTests {
    @Test func usersAndGroupsMatchTheAccountDatabase() throws {
        let root = try #require(SystemAccounts.user(named: "root"))
        #expect(root.uid == 0 && root.gid == 0)
        #expect(SystemAccounts.groupID(named: "root") == 0)
        #expect(SystemAccounts.user(named: "no-such-user-mxh") == nil)
        #expect(SystemAccounts.groupID(named: "no-such-group-mxh") == nil)
        // Against the account files themselves, for every user and group they list.
        for line in try String(contentsOfFile: "/etc/passwd", encoding: .utf8).split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count >= 4, let uid = UInt32(fields[2]), let gid = UInt32(fields[3]) else { continue }
            #expect(SystemAccounts.user(named: String(fields[0])) == SystemAccounts.User(uid: uid, gid: gid), "\(line)")
        }
        for line in try String(contentsOfFile: "/etc/group", encoding: .utf8).split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count >= 3, let gid = UInt32(fields[2]) else { continue }
            #expect(SystemAccounts.groupID(named: String(fields[0])) == gid, "\(line)")
        }
    }

    @Test func manyThreadsAskingAtOnceEachGetTheirOwnAnswer() throws {
        let names = try String(contentsOfFile: "/etc/passwd", encoding: .utf8).split(separator: "\n")
            .compactMap { $0.split(separator: ":").first.map(String.init) }
        let expected = Dictionary(uniqueKeysWithValues: names.map { ($0, SystemAccounts.user(named: $0)) })
        #expect(Set(expected.values.map { $0?.uid }).count > 1, "needs users with different uids")
        let wrong = NSLock()
        nonisolated(unsafe) var mismatches: [String] = []
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for round in 0..<2_000 {
                let name = names[(round * 7 + thread) % names.count]
                let answer = SystemAccounts.user(named: name)
                if answer != expected[name]! {
                    wrong.withLock { mismatches.append("\(name): \(String(describing: answer))") }
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }

    /// Every part that looks up a system user does it here: a getpwnam(3) or getgrnam(3) call
    /// anywhere else in Sources brings the shared buffer back (the Postfix sender's queue folders
    /// were once owned by the wrong user that way, under `--jobs 2`).
    @Test func noOtherSourceCallsTheNonReentrantLookups() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Sources")
        let files = try #require(FileManager.default.enumerator(atPath: sources.path)?.allObjects as? [String])
            .filter { $0.hasSuffix(".swift") && !$0.hasSuffix("Sandbox/SystemAccounts.swift") }
        #expect(files.count > 50, "found the sources under \(sources.path)")
        for file in files {
            let text = try String(contentsOfFile: sources.path + "/" + file, encoding: .utf8)
            for name in ["getpwnam", "getgrnam", "getpwuid", "getgrgid"] {
                // A comment naming the manual page, `getpwnam(3)`, is not a call.
                let calls = text.replacingOccurrences(of: name + "(3)", with: "").contains(name + "(")
                #expect(!calls, "Sources/\(file) calls \(name)(...): use SystemAccounts")
            }
        }
    }
}
