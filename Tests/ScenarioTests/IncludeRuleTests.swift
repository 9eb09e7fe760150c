import DNSCore
import Foundation
import Scenario
import Testing

/// Includes stay inside the tree of the paths given, read only regular files, and errors quote
/// a file's content only as a short escaped excerpt.
@Suite struct IncludeRuleTests {
    func errors(_ folder: ScenarioFolder, _ paths: [String]) -> [String] {
        loadErrors({ () throws(ScenarioLoadError) in try ScenarioLoader().load(paths: paths.map(folder.file)) }).map(
            \.description)
    }

    @Test func anAbsolutePathOutsideTheTreeIsRefusedUnread() throws {
        let folder = try ScenarioFolder(["x.yaml": "include: [/etc/shadow]\n"])
        let found = errors(folder, ["x.yaml"]).filter { $0.contains("include") }
        #expect(found.count == 1, "\(found)")
        let message = try #require(found.first)
        #expect(
            message.contains("cannot include \"/etc/shadow\": /etc/shadow is outside the scenario tree"), "\(message)")
        let tree = URL(fileURLWithPath: folder.path).resolvingSymlinksInPath().path
        #expect(
            message.contains("includes resolve only inside the folders of the scenario paths given (\(tree))"),
            "\(message)")
        #expect(!message.contains("root:"))
    }

    @Test func dotDotOutOfTheTreeIsRefused() throws {
        let folder = try ScenarioFolder([
            "common/outside.profile": "receiver: {hostname: secret.example.test}\n",
            "inner/x.yaml": "include: [../common/outside.profile]\n" + minimalWorld
                + "\nexpect: {outcome: delivered}\n",
        ])
        let found = errors(folder, ["inner/x.yaml"])
        #expect(found.count == 1)
        #expect(found.first?.contains("cannot include \"../common/outside.profile\"") == true)
        #expect(found.first?.contains("is outside the scenario tree") == true)
        // Given the folder above, the same include is inside the tree.
        let cases = try ScenarioLoader().load(paths: [folder.path])
        #expect(cases.first?.receiver.hostname == "secret.example.test")
    }

    @Test func aFileOfALibraryMayIncludeTheLibrarysProfiles() throws {
        let folder = try ScenarioFolder([
            "lib/_profiles/receiver.yaml": "receiver: {hostname: mx2.example.test}\n",
            "lib/theme/x.yaml": "include: [../_profiles/receiver.yaml]\n" + minimalWorld
                + "\nexpect: {outcome: delivered}\n",
        ])
        let cases = try ScenarioLoader().load(paths: [folder.file("lib/theme/x.yaml")])
        #expect(cases.first?.receiver.hostname == "mx2.example.test")
    }

    @Test func aSymlinkOutOfTheTreeIsRefused() throws {
        let folder = try ScenarioFolder([
            "outside.yaml": "receiver: {hostname: secret.example.test}\n",
            "inner/x.yaml": "include: [link.yaml]\n" + minimalWorld + "\nexpect: {outcome: delivered}\n",
        ])
        try FileManager.default.createSymbolicLink(
            atPath: folder.file("inner/link.yaml"), withDestinationPath: folder.file("outside.yaml"))
        let found = errors(folder, ["inner/x.yaml"])
        #expect(found.first?.contains("cannot include \"link.yaml\"") == true, "\(found)")
        #expect(found.first?.contains("is outside the scenario tree") == true, "\(found)")
    }

    @Test func onlyRegularFilesAreRead() throws {
        let folder = try ScenarioFolder(["x.yaml": minimalWorld + "\nexpect: {outcome: delivered}\n"])
        try FileManager.default.createSymbolicLink(atPath: folder.file("zero.yaml"), withDestinationPath: "/dev/zero")
        let found = errors(folder, ["zero.yaml"])
        #expect(found == ["\(folder.file("zero.yaml")):1:1: not a regular file: /dev/zero"])
        // With the whole file system as the tree, the device is still not read.
        let fromRoot = loadErrors({ () throws(ScenarioLoadError) in
            try ScenarioLoader().load(yaml: "include: [/dev/zero]\n", file: "/y.yaml")
        }).map(\.description)
        #expect(
            fromRoot.contains("/y.yaml:1:11: include[0]: cannot include \"/dev/zero\": not a regular file: /dev/zero"),
            "\(fromRoot)")
    }

    @Test func errorsQuoteAShortEscapedExcerpt() throws {
        let secret = String(repeating: "s3cr3t-", count: 40)
        let folder = try ScenarioFolder([
            // YAML itself refuses raw control characters; its escapes make them.
            "_profiles/p.yaml": "\"\u{202E}evil\\e[31m\": \(secret)\n",
            "x.yaml": "include: [_profiles/p.yaml]\n" + minimalWorld + "\nexpect: {outcome: delivered}\n",
        ])
        let found = errors(folder, ["x.yaml"])
        #expect(!found.isEmpty)
        for message in found {
            #expect(!message.unicodeScalars.contains(where: Printable.isUnsafe), "\(message.debugDescription)")
            #expect(!message.contains(secret), "no long quote of the file: \(message)")
        }
        #expect(found.contains { $0.contains("\\u{202E}evil\\x1b[31m") }, "\(found)")
    }

    @Test func caseNamesMayNotHoldUnsafeCharacters() {
        let found = loadErrors(yaml: "name: \"ok\\u202Etxt\"\n" + minimalWorld + "\nexpect: {outcome: delivered}\n")
        #expect(
            found == [
                "Scenarios/rdns.yaml:1:7: name: case name \"ok\\u{202E}txt\" holds a control, invisible or bidirectional character; give it a plain name (name:, or the file name)"
            ])
    }

    @Test func bidiAndControlCharactersInValuesAreEscaped() {
        let found = loadErrors(
            yaml: minimalWorld.replacingOccurrences(
                of: "helo: mail.sender.test", with: "helo: mail.sender.test\n  prefer: \"ipv\u{200B}6\\a\"")
                + "\nexpect: {outcome: delivered}\n")
        #expect(found.count == 1)
        #expect(found.first?.contains("\"ipv\\u{200B}6\\x07\"") == true, "\(found)")
    }
}
