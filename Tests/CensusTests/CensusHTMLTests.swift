import Census
import Foundation
import MXHarnessTestKit
import Testing

/// The census page in Debian's headless Chromium: it loads without errors, fetches nothing, and
/// shows every policy and world.
@Suite(.serialized, .enabled(if: Chromium.path != nil, Chromium.skipReason))
struct CensusHTMLTests {
    static func page(_ mutate: (String) -> String = { $0 }) throws -> (file: String, directory: String) {
        let directory = try temporaryDirectory()
        let file = directory + "/census.html"
        var report = ReportTests.report()
        report.groups[0].examples[0].helo = "<script>alert(1)</script>"
        report.compute(columns: ["open", "fcrdns", "fcrdns-strict"])
        try mutate(CensusHTML.render(report)).write(toFile: file, atomically: true, encoding: .utf8)
        return (file, directory)
    }

    @Test func thePageRendersInARealBrowser() throws {
        let page = try Self.page()
        defer { try? FileManager.default.removeItem(atPath: page.directory) }
        let run = try Chromium.run(page.file, ["--dump-dom"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.consoleErrors.isEmpty, "\(run.consoleErrors)")
        // The DOM Chromium built: a row per policy, a cell per world and policy.
        #expect(run.stdout.components(separatedBy: "<tr class=\"policy\">").count - 1 == 3)
        #expect(run.stdout.components(separatedBy: "<td class=\"cell ").count - 1 == 2 * 3)
        #expect(run.stdout.contains("no PTR over IPv6"))
        #expect(!run.stdout.contains("<script>"), "the HELO is text, not markup")
        let png = page.directory + "/census.png"
        let shot = try Chromium.run(page.file, ["--hide-scrollbars", "--window-size=390,844", "--screenshot=\(png)"])
        #expect(shot.status == 0)
        let data = try Data(contentsOf: URL(fileURLWithPath: png))
        #expect(data.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
    }

    /// The check can fail: a page that fetches something is caught by its Content Security Policy.
    @Test func aFetchIsCaught() throws {
        let page = try Self.page {
            $0.replacingOccurrences(of: "</footer>", with: "</footer><img src=\"http://192.0.2.1/x.png\">")
        }
        defer { try? FileManager.default.removeItem(atPath: page.directory) }
        let run = try Chromium.run(page.file, ["--dump-dom"])
        #expect(
            run.consoleErrors.contains { $0.contains("192.0.2.1") && $0.contains("Content Security Policy") },
            "\(run.stderr)")
    }
}
