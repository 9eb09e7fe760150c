import ArgumentParser
import Foundation
import Postfix
import Testing

/// `--postfix-config`, `--postfix-config-dir` and `--fresh-postfix`, the Postfix kind's own options:
/// the main.cf becomes the receivers' base, a file or folder that cannot serve is a usage error
/// naming the path (and the line), and the two configurations exclude each other.
@Suite struct PostfixOptionsTests {
    @Test func theMainCFIsTheReceiversBase() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("postfix-options-\(UUID()).cf").path
        try "myhostname = mx.example.test\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let receivers = try PostfixOptions.parse(["--postfix-config", path, "--fresh-postfix"]).receivers()
        #expect(receivers.base?["myhostname"] == "mx.example.test")
        #expect(receivers.site == nil)
        #expect(!receivers.sharing)
        let plain = try PostfixOptions.parse([]).receivers()
        #expect(plain.base == nil && plain.site == nil && plain.sharing)
    }

    @Test func aBrokenMainCFNamesTheFileAndLine() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("postfix-options-\(UUID()).cf").path
        try "myhostname = mx.example.test\ngarbage line\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let options = try PostfixOptions.parse(["--postfix-config", path])
        #expect {
            try options.receivers()
        } throws: { error in
            error is ValidationError && "\(error)".hasPrefix("\(path):2: expected `name = value`")
        }
        let missing = try PostfixOptions.parse(["--postfix-config", "/nonexistent/main.cf"])
        #expect {
            try missing.receivers()
        } throws: { error in
            "\(error)".hasPrefix("/nonexistent/main.cf: cannot read the Postfix configuration: ")
        }
    }

    @Test func aFolderWithoutASiteIsAUsageError() throws {
        let options = try PostfixOptions.parse(["--postfix-config-dir", "/nonexistent"])
        #expect {
            try options.receivers()
        } throws: { error in
            "\(error)" == "/nonexistent: /nonexistent/main.cf cannot be read: "
                + "give the folder holding the site's main.cf and master.cf"
        }
    }

    @Test func bothConfigurationsAreRefused() {
        #expect(throws: (any Error).self) {
            try PostfixOptions.parse(["--postfix-config", "a.cf", "--postfix-config-dir", "site"])
        }
    }
}
