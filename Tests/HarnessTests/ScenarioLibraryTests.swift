import Foundation
import Harness
import Testing

/// Where `run`, `parity`, `matrix`, `validate` and `list` look when given no path: ./Scenarios, or
/// the library installed beside the executable (/usr/share/mxharness/Scenarios for
/// /usr/bin/mxharness, as the Debian package puts them).
@Suite struct ScenarioLibraryTests {
    static func folder() throws -> String {
        let path = NSTemporaryDirectory() + "/library-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func theInstalledLibraryIsBesideTheBinFolder() {
        #expect(ScenarioLibrary.installed(executable: "/usr/bin/mxharness") == "/usr/share/mxharness/Scenarios")
        #expect(ScenarioLibrary.installed(executable: "/opt/mx/bin/mxharness") == "/opt/mx/share/mxharness/Scenarios")
    }

    @Test func givenPathsAreKept() {
        #expect(
            ScenarioLibrary.paths(["a.yaml", "b/"], currentDirectory: "/nonexistent", executable: "/usr/bin/mxharness")
                == ["a.yaml", "b/"])
    }

    @Test func noPathIsTheCurrentFoldersScenariosThenTheInstalledLibrary() throws {
        let prefix = try Self.folder(), work = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: prefix); try? FileManager.default.removeItem(atPath: work) }
        let executable = prefix + "/bin/mxharness"
        // Neither: "Scenarios", which the loader reports missing.
        #expect(ScenarioLibrary.paths([], currentDirectory: work, executable: executable) == ["Scenarios"])
        try FileManager.default.createDirectory(
            atPath: prefix + "/share/mxharness/Scenarios", withIntermediateDirectories: true)
        #expect(
            ScenarioLibrary.paths([], currentDirectory: work, executable: executable) == [
                prefix + "/share/mxharness/Scenarios"
            ])
        // A clone's own Scenarios comes first.
        try FileManager.default.createDirectory(atPath: work + "/Scenarios", withIntermediateDirectories: true)
        #expect(ScenarioLibrary.paths([], currentDirectory: work, executable: executable) == ["Scenarios"])
        #expect(ScenarioLibrary.paths([], currentDirectory: work, executable: nil) == ["Scenarios"])
    }
}
