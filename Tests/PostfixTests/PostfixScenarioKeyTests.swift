import Foundation
import MXHarnessTestKit
import Postfix
import RunnerTestKit
import Scenario
import Testing

/// `receiver.postfix` and `receiver.postfix_dir`: the Postfix receiver's own keys, read, defaulted
/// and explained in Sources/Postfix, known to a loader given the Postfix kind and unknown to one
/// without it. Errors name file:line:column and the key, as the loader's own do.
@Suite struct PostfixScenarioKeyTests {
    static let kinds = postfixKinds

    func load(_ yaml: String, file: String = "Scenarios/rdns.yaml") throws -> ScenarioCase {
        try #require(try ScenarioLoader(kinds: Self.kinds).load(yaml: yaml, file: file).first)
    }

    func problems(_ file: String) -> [String] {
        do {
            _ = try ScenarioLoader(kinds: Self.kinds).load(paths: [file])
            return []
        } catch {
            return error.diagnostics.map(\.description)
        }
    }

    /// A folder with `scenarios/case.yaml` naming `postfix_dir: VALUE` and `site/main.cf`.
    func withTree<T>(_ value: String, mainCF: Bool = true, _ body: (String, String) throws -> T) throws -> T {
        let root = NSTemporaryDirectory() + "/mxh-test-postfixdir-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root + "/scenarios", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/site", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        if mainCF {
            try "smtpd_banner = $myhostname ESMTP site\n".write(
                toFile: root + "/site/main.cf", atomically: true, encoding: .utf8)
        }
        let yaml = formatExample("  policy: fcrdns-strict", "  policy: fcrdns-strict\n  postfix_dir: \(value)")
        #expect(yaml.contains("postfix_dir"))
        let file = root + "/scenarios/case.yaml"
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        return try body(root, file)
    }

    @Test func aRelativePathIsResolvedFromTheFileThatNamesIt() throws {
        try withTree("../site") { root, file in
            let cases: [ScenarioCase] = try ScenarioLoader(kinds: Self.kinds).load(paths: [file])
            let expected = (root + "/site" as NSString).standardizingPath
            #expect(cases.first?.receiver.postfixDirectory == expected)
        }
    }

    @Test func anAbsolutePathIsKept() throws {
        let root = NSTemporaryDirectory() + "/mxh-test-postfixdir-abs-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try "biff = no\n".write(toFile: root + "/main.cf", atomically: true, encoding: .utf8)
        try withTree(root) { _, file in
            let cases: [ScenarioCase] = try ScenarioLoader(kinds: Self.kinds).load(paths: [file])
            let expected = (root as NSString).standardizingPath
            #expect(cases.first?.receiver.postfixDirectory == expected)
        }
    }

    @Test func aMissingFolderIsAnErrorAtTheKey() throws {
        try withTree("../nowhere") { root, file in
            let nowhere = (root + "/nowhere" as NSString).standardizingPath
            #expect(
                problems(file) == [
                    "\(file):20:16: receiver.postfix_dir: ../nowhere (\(nowhere)) is not a directory: give the folder holding the site's main.cf and master.cf"
                ])
        }
    }

    @Test func aFolderWithoutMainCFIsAnError() throws {
        try withTree("../site", mainCF: false) { root, file in
            let site = (root + "/site" as NSString).standardizingPath
            #expect(
                problems(file) == [
                    "\(file):20:16: receiver.postfix_dir: \(site) has no main.cf: give the folder holding the site's main.cf and master.cf"
                ])
        }
    }

    @Test func notAStringIsAnError() {
        #expect(
            loadProblems(
                formatExample("  policy: fcrdns-strict", "  policy: fcrdns-strict\n  postfix_dir: [a]"),
                kinds: Self.kinds
            ) == [
                "Scenarios/rdns.yaml:20:16: receiver.postfix_dir: expected a Postfix configuration directory (relative to this file), found a list"
            ])
    }

    @Test func mainCFSettingsLoad() throws {
        let c = try load(
            formatExample(
                "  policy: fcrdns-strict",
                "  policy: fcrdns-strict\n  postfix:\n    smtpd_helo_required: yes\n    message_size_limit: 2000"))
        #expect(c.receiver.postfix == ["smtpd_helo_required": "yes", "message_size_limit": "2000"])
        #expect(c.receiver.postfixDirectory == nil)
    }

    @Test func absentKeysDefaultToEmpty() throws {
        let c = try load(formatExample)
        #expect(c.receiver.postfix.isEmpty)
        #expect(c.receiver.postfixDirectory == nil)
        #expect(c.receiver.settings.isEmpty)
    }

    @Test func mainCFSettingsNotAMapIsAnError() {
        #expect(
            loadProblems(
                formatExample("  policy: fcrdns-strict", "  policy: fcrdns-strict\n  postfix: [a]"), kinds: Self.kinds)
                == [
                    "Scenarios/rdns.yaml:20:12: receiver.postfix: expected main.cf settings (a map of strings), found a list"
                ])
        #expect(
            loadProblems(
                formatExample("  policy: fcrdns-strict", "  policy: fcrdns-strict\n  postfix: {a: [b]}"),
                kinds: Self.kinds) == ["Scenarios/rdns.yaml:20:16: receiver.postfix.a: expected a string, found a list"]
        )
    }

    /// `explain` writes the keys where the format's core wrote them before they moved here (after
    /// `rspamd`, before `exec`), sorted, the folder as an absolute path; and reads back the same.
    @Test func explainWritesThemAsBefore() throws {
        try withTree("../site") { root, file in
            let yaml = try String(contentsOfFile: file, encoding: .utf8).replacingOccurrences(
                of: "  postfix_dir: ../site",
                with: "  postfix:\n    smtpd_helo_required: yes\n    message_size_limit: 2000\n  postfix_dir: ../site")
            try yaml.write(toFile: file, atomically: true, encoding: .utf8)
            let original = try #require(try ScenarioLoader(kinds: Self.kinds).load(paths: [file]).first)
            let text = explain(original)
            let site = (root + "/site" as NSString).standardizingPath
            #expect(
                text.contains(
                    "    on_fail: reject\n  postfix:\n    message_size_limit: 2000\n    smtpd_helo_required: yes\n"
                        + "  postfix_dir: \(site)\nsender:\n"), "\(text)")
            let again = try #require(try ScenarioLoader(kinds: Self.kinds).load(yaml: text, file: "again.yaml").first)
            #expect(again.receiver.postfix == original.receiver.postfix)
            #expect(again.receiver.postfixDirectory == site)
        }
    }

    /// Without the Postfix kind the keys are unknown: the format's core names no MTA's keys.
    @Test func withoutTheKindTheKeysAreUnknown() {
        let problems = loadProblems(
            formatExample("  policy: fcrdns-strict", "  policy: fcrdns-strict\n  postfix: {smtpd_helo_required: yes}"),
            kinds: .core)
        #expect(problems.count == 1)
        #expect(
            problems.first?.hasPrefix("Scenarios/rdns.yaml:20:3: receiver.postfix: unknown key \"postfix\"") == true)
    }
}
