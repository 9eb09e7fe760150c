import Foundation
import Scenario
import Testing
import MXHarnessTestKit

/// `receiver.postfix_dir`: a site's Postfix configuration directory, relative to the file naming it.
@Suite struct PostfixDirectoryTests {
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
        let yaml = formatExample.replacingOccurrences(
            of: "  policy: fcrdns-strict", with: "  policy: fcrdns-strict\n  postfix_dir: \(value)")
        #expect(yaml.contains("postfix_dir"))
        let file = root + "/scenarios/case.yaml"
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        return try body(root, file)
    }

    @Test func aRelativePathIsResolvedFromTheFileThatNamesIt() throws {
        try withTree("../site") { root, file in
            let cases: [ScenarioCase] = try ScenarioLoader().load(paths: [file])
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
            let cases: [ScenarioCase] = try ScenarioLoader().load(paths: [file])
            let expected = (root as NSString).standardizingPath
            #expect(cases.first?.receiver.postfixDirectory == expected)
        }
    }

    @Test func aMissingFolderIsAnErrorAtTheKey() throws {
        try withTree("../nowhere") { root, file in
            let errors = loadErrors { () throws(ScenarioLoadError) in try ScenarioLoader().load(paths: [file]) }.map(
                \.description)
            let nowhere = (root + "/nowhere" as NSString).standardizingPath
            #expect(
                errors == [
                    "\(file):20:16: receiver.postfix_dir: ../nowhere (\(nowhere)) is not a directory: give the folder holding the site's main.cf and master.cf"
                ])
        }
    }

    @Test func aFolderWithoutMainCFIsAnError() throws {
        try withTree("../site", mainCF: false) { root, file in
            let errors = loadErrors { () throws(ScenarioLoadError) in try ScenarioLoader().load(paths: [file]) }.map(
                \.description)
            let site = (root + "/site" as NSString).standardizingPath
            #expect(
                errors == [
                    "\(file):20:16: receiver.postfix_dir: \(site) has no main.cf: give the folder holding the site's main.cf and master.cf"
                ])
        }
    }

    @Test func notAStringIsAnError() {
        let yaml = formatExample.replacingOccurrences(
            of: "  policy: fcrdns-strict", with: "  policy: fcrdns-strict\n  postfix_dir: [a]")
        #expect(
            loadErrors(yaml: yaml).first?.hasPrefix(
                "Scenarios/rdns.yaml:20:16: receiver.postfix_dir: expected a Postfix configuration directory") == true)
    }
}
