import Foundation
import MXHarnessTestKit
import Matrix
import Testing

@Suite(.serialized, .enabled(if: Chromium.path != nil, Chromium.skipReason))
struct ChromiumTests {
    /// A bigger matrix than the fixtures': 7 cases × 2 policies.
    static func page() throws -> (file: String, directory: String, cells: Int) {
        var matrix = Fixtures.matrix()
        for index in 0..<5 {
            var row = matrix.rows[index % 2]
            row.name += " #\(index)"
            matrix.rows.append(row)
        }
        let directory = try Fixtures.temporaryDirectory()
        let file = directory + "/matrix.html"
        try MatrixHTML.render(matrix).write(toFile: file, atomically: true, encoding: .utf8)
        return (file, directory, matrix.rows.count * matrix.columns.count)
    }

    @Test func thePageLoadsWithoutErrorsAndShowsEveryCell() throws {
        let page = try Self.page()
        defer { try? FileManager.default.removeItem(atPath: page.directory) }
        let run = try Chromium.run(page.file, ["--dump-dom"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.consoleErrors.isEmpty, "\(run.consoleErrors)")
        // The DOM Chromium built, not the text written: cells it parsed as table cells.
        #expect(run.stdout.components(separatedBy: "<td class=\"cell ").count - 1 == page.cells)
        #expect(run.stdout.components(separatedBy: "<details>").count - 1 == page.cells)
        #expect(run.stdout.contains("<tbody>"))
    }

    @Test func aScreenshotIsAPNG() throws {
        let page = try Self.page()
        defer { try? FileManager.default.removeItem(atPath: page.directory) }
        let png = page.directory + "/matrix.png"
        let run = try Chromium.run(page.file, ["--hide-scrollbars", "--window-size=390,844", "--screenshot=\(png)"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.consoleErrors.isEmpty, "\(run.consoleErrors)")
        let data = try Data(contentsOf: URL(fileURLWithPath: png))
        #expect(data.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
    }

    /// The check above can fail: a page that fetches something or runs a broken script is caught.
    @Test func aFetchOrAScriptErrorIsCaught() throws {
        let page = try Self.page()
        defer { try? FileManager.default.removeItem(atPath: page.directory) }
        let html = try String(contentsOfFile: page.file, encoding: .utf8)
            .replacingOccurrences(of: "</footer>", with: "</footer><img src=\"http://192.0.2.1/logo.png\">")
        try html.write(toFile: page.file, atomically: true, encoding: .utf8)
        let run = try Chromium.run(page.file, ["--dump-dom"])
        #expect(
            run.consoleErrors.contains { $0.contains("192.0.2.1") && $0.contains("Content Security Policy") },
            "\(run.stderr)")
    }
}

struct ChromiumInCITests {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["MXHARNESS_CI"] == "1"))
    func chromiumIsInstalledInCI() {
        #expect(
            Chromium.path != nil,
            "CI must run the HTML page in a real browser: add chromium to PACKAGES in scripts/lib.sh")
    }
}
