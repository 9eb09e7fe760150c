import Foundation
import Harness
import Testing

/// `mxharness --version`: the version and the commit the binary was built from. The commit gets in
/// through scripts/build-info, which the BuildInfo plugin runs before every build; these tests run
/// that script on clones and folders of their own, and the binary this clone built.
@Suite struct VersionTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @discardableResult
    static func run(_ executable: String, _ arguments: [String], in directory: String? = nil) throws -> (
        status: Int32, output: String
    ) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.environment = [
            "PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory(), "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.test",
            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.test",
            "GIT_COMMITTER_DATE": "2026-11-29T23:30:00+02:00", "GIT_AUTHOR_DATE": "2026-11-29T23:30:00+02:00",
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    @discardableResult
    static func git(_ arguments: [String], in directory: String) throws -> String {
        let result = try run("/usr/bin/git", arguments, in: directory)
        try #require(result.status == 0, "git \(arguments.joined(separator: " ")): \(result.output)")
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func folder() throws -> String {
        let path = NSTemporaryDirectory() + "/version-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// scripts/build-info PACKAGE OUTPUT, then the file it wrote.
    static func buildInfo(_ package: String, _ output: String) throws -> String {
        let result = try run("/bin/sh", [root.appendingPathComponent("scripts/build-info").path, package, output])
        try #require(result.status == 0, "scripts/build-info: \(result.output)")
        return try String(contentsOfFile: output + "/BuildInfo.swift", encoding: .utf8)
    }

    @Test func theLineNamesTheVersionAndTheCommit() {
        let commit = "9b707aee0a0718b8b7965beb1c90d9d2bf25fdab"
        #expect(
            Version.line(commit: commit, date: "2026-12-02", modified: false)
                == "mxharness \(Version.number) (commit \(commit), 2026-12-02)")
        #expect(
            Version.line(commit: commit, date: "2026-12-02", modified: true)
                == "mxharness \(Version.number) (commit \(commit) with uncommitted changes, 2026-12-02)")
        #expect(
            Version.line(commit: nil, date: nil, modified: false)
                == "mxharness \(Version.number) (commit unknown: built outside a git clone)")
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/git"), "needs git"))
    func buildInfoRecordsTheCommitAndUncommittedChanges() throws {
        let clone = try Self.folder(), output = try Self.folder()
        defer {
            try? FileManager.default.removeItem(atPath: clone); try? FileManager.default.removeItem(atPath: output)
        }
        try Self.git(["init", "-q"], in: clone)
        try "a\n".write(toFile: clone + "/Package.swift", atomically: true, encoding: .utf8)
        try Self.git(["add", "Package.swift"], in: clone)
        try Self.git(["commit", "-q", "-m", "one"], in: clone)
        let head = try Self.git(["rev-parse", "HEAD"], in: clone)

        let clean = try Self.buildInfo(clone, output)
        #expect(clean.contains("static let commit: String? = \"\(head)\""), "\(clean)")
        // The commit's date in UTC: 23:30 at +02:00 is 21:30 UTC the same day.
        #expect(clean.contains("static let commitDate: String? = \"2026-11-29\""), "\(clean)")
        #expect(clean.contains("static let modified = false"), "\(clean)")

        // Unchanged: the file is not written again, so a build with nothing new compiles nothing.
        let before =
            try FileManager.default.attributesOfItem(atPath: output + "/BuildInfo.swift")[.modificationDate] as? Date
        Thread.sleep(forTimeInterval: 1.1)
        _ = try Self.buildInfo(clone, output)
        #expect(
            try FileManager.default.attributesOfItem(atPath: output + "/BuildInfo.swift")[.modificationDate] as? Date
                == before)

        // A new untracked file is not the build's source; a changed tracked file is.
        try "x\n".write(toFile: clone + "/notes.txt", atomically: true, encoding: .utf8)
        #expect(try Self.buildInfo(clone, output).contains("static let modified = false"))
        try "b\n".write(toFile: clone + "/Package.swift", atomically: true, encoding: .utf8)
        let modified = try Self.buildInfo(clone, output)
        #expect(modified.contains("static let modified = true") && modified.contains(head), "\(modified)")
    }

    /// A source archive: no commit. Unpacked inside another git repository (a home folder kept in
    /// git), still none: that repository's commit is not mxharness's.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/git"), "needs git"))
    func outsideAGitCloneThereIsNoCommit() throws {
        let archive = try Self.folder(), home = try Self.folder(), output = try Self.folder()
        defer { for path in [archive, home, output] { try? FileManager.default.removeItem(atPath: path) } }
        let none = try Self.buildInfo(archive, output)
        #expect(
            none.contains("static let commit: String? = nil") && none.contains("static let commitDate: String? = nil"),
            "\(none)")

        try Self.git(["init", "-q"], in: home)
        try "dotfile\n".write(toFile: home + "/.profile", atomically: true, encoding: .utf8)
        try Self.git(["add", ".profile"], in: home)
        try Self.git(["commit", "-q", "-m", "home"], in: home)
        try FileManager.default.createDirectory(atPath: home + "/src/mxharness", withIntermediateDirectories: true)
        let nested = try Self.buildInfo(home + "/src/mxharness", output)
        #expect(nested.contains("static let commit: String? = nil"), "\(nested)")
    }

    /// The binary this clone built says the commit the clone is at (the build runs scripts/build-info,
    /// so a stale binary is one built before the last commit: build again).
    @Test func theBuiltBinaryNamesThisClonesCommit() throws {
        let binary = Self.root.appendingPathComponent(".build/debug/mxharness").path
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build mxharness first (swift build)")
        let result = try Self.run(binary, ["--version"])
        #expect(result.status == 0)
        let line = result.output.trimmingCharacters(in: .newlines)
        #expect(line.hasPrefix("mxharness \(Version.number) (commit "), "\(line)")
        let head = try? Self.run("/usr/bin/git", ["-C", Self.root.path, "rev-parse", "HEAD"])
        if let head, head.status == 0 {
            let commit = head.output.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(
                line.hasPrefix("mxharness \(Version.number) (commit \(commit)"),
                "\(line) is not HEAD \(commit): build again")
            #expect(line.range(of: #", \d{4}-\d{2}-\d{2}\)$"#, options: .regularExpression) != nil, "\(line)")
        } else {
            #expect(line == "mxharness \(Version.number) (commit unknown: built outside a git clone)")
        }
    }
}
