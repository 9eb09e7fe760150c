import Foundation
import Testing

/// The README's code map is the map of the tree: a row for every module under Sources/ and none for
/// a module that is gone, and the docs page it points to for adding a kind exists.
@Suite struct CodeMapTests {
    @Test func theCodeMapListsEveryModuleAndNothingElse() throws {
        let readme = try CITemplateTests.text("README.md")
        let start = try #require(readme.range(of: "## Code map"))
        let section = readme[start.upperBound...]
        let end = section.range(of: "\n## ")?.lowerBound ?? section.endIndex
        let rows = section[..<end].split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("| `"), let close = line.dropFirst(3).firstIndex(of: "`") else { return nil }
            return String(line[line.index(line.startIndex, offsetBy: 3)..<close])
        }
        let sources = CITemplateTests.root.appendingPathComponent("Sources").path
        let modules = try FileManager.default.contentsOfDirectory(atPath: sources).filter { !$0.hasPrefix(".") }
        #expect(
            Set(rows) == Set(modules),
            "in the tree only: \(Set(modules).subtracting(rows).sorted()); in the map only: \(Set(rows).subtracting(modules).sorted())"
        )
        #expect(rows.count == Set(rows).count, "a module listed twice")
        #expect(section[..<end].contains("docs/adding-a-kind.md"))
        #expect(
            FileManager.default.fileExists(
                atPath: CITemplateTests.root.appendingPathComponent("docs/adding-a-kind.md").path))
    }
}
