import ArgumentParser
import Exim
import Foundation
import Testing

/// `--exim-config`, the Exim kind's own option: the file's text becomes the receivers' base
/// configuration; a file that cannot be read is a usage error naming the option and the path.
@Suite struct EximOptionsTests {
    @Test func theFileIsReadIntoTheReceivers() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("exim-options-\(UUID()).conf").path
        try "primary_hostname = mx.example.test\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let options = try EximOptions.parse(["--exim-config", path])
        #expect(try options.receivers().configurationText == "primary_hostname = mx.example.test\n")
        #expect(try EximOptions.parse([]).receivers().configurationText == nil)
    }

    @Test func anUnreadableFileIsAUsageError() throws {
        let options = try EximOptions.parse(["--exim-config", "/nonexistent/exim.conf"])
        #expect {
            try options.receivers()
        } throws: { error in
            "\(error)".hasPrefix("--exim-config /nonexistent/exim.conf: cannot read it")
        }
    }
}
