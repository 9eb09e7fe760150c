import ArgumentParser
import Foundation
import OpenSMTPD
import Testing

/// `--opensmtpd-config`, the OpenSMTPD kind's own option: the smtpd.conf's text is run as it is;
/// a file that cannot be read is a usage error naming the option and the path.
@Suite struct OpenSMTPDOptionsTests {
    @Test func theFileIsReadIntoTheReceivers() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("smtpd-\(UUID()).conf").path
        try "listen on lo\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(
            try OpenSMTPDOptions.parse(["--opensmtpd-config", path]).receivers().configurationText == "listen on lo\n")
        #expect(try OpenSMTPDOptions.parse([]).receivers().configurationText == nil)
    }

    @Test func anUnreadableFileIsAUsageError() throws {
        let options = try OpenSMTPDOptions.parse(["--opensmtpd-config", "/nonexistent/smtpd.conf"])
        #expect {
            try options.receivers()
        } throws: { error in
            "\(error)".hasPrefix("--opensmtpd-config /nonexistent/smtpd.conf: cannot read it")
        }
    }
}
