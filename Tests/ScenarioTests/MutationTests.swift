import DNSCore
import Foundation
import Scenario
import Testing

/// The library's own scenario files, mutated (deterministic seed, bounded count): lines dropped,
/// repeated and swapped, values replaced by hostile ones (control and bidi characters, paths out
/// of the tree, devices, huge and deeply nested values), bytes flipped, files cut short. Every
/// load ends in cases or diagnostics (a crash ends the test run), and every diagnostic is one
/// safe line: a place in the file, no unsafe character, no long quote, nothing of a file
/// outside the tree.
@Suite struct MutationTests {
    static let library = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Scenarios").standardizedFileURL.path

    static let hostile = [
        "~", "[]", "{}", "\"\"", "\"\\0\"", "\"\\e[2J\\a\"", "\"\u{202E}kcatta\"", "\"zero\u{200B}width\"",
        "/etc/passwd",
        "[/etc/passwd]", "[../../../../../../etc/passwd]", "[/dev/zero]", "[/proc/self/environ]",
        "99999999999999999999999",
        "-1", "5.5.5.5.5", "\"\(String(repeating: "A", count: 5000))\"",
        String(repeating: "[", count: 300) + String(repeating: "]", count: 300),
        "*undefined", "&anchor x", "!!binary AAAA", "\"\\r\\n.\\r\\n\"", "\"\\n.\\n\"", "no", "yes", "reject", "0",
    ]

    static let keys = [
        "include", "receiver", "bare_newline", "raw", "messages_accepted", "policy", "addresses", "records", "expect",
        "variants", "name", "sender", "message", "headers", "outcome", "code", "text", "attempts",
    ]

    @Test func mutatedLibraryFilesNeverCrashTheLoaderOrLeakContent() throws {
        let files = try FileManager.default.subpathsOfDirectory(atPath: Self.library).filter { $0.hasSuffix(".yaml") }
            .sorted()
        #expect(files.count >= 20, "the library at \(Self.library)")
        let folder = try ScenarioFolder([:])
        for file in files {
            try folder.write(file, try String(contentsOfFile: Self.library + "/" + file, encoding: .utf8))
        }
        let scenarios = files.filter { !$0.hasPrefix("_profiles/") }
        var rng = SeededGenerator(seed: 23)
        var loads = 0, loaded = 0, diagnostics = 0
        for _ in 0..<400 {
            let file = files.randomElement(using: &rng)!
            let original = try String(contentsOfFile: folder.file(file), encoding: .utf8)
            var lines = original.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                mutate(&lines, using: &rng)
            }
            var text = lines.joined(separator: "\n")
            if Int.random(in: 0..<8, using: &rng) == 0, !text.isEmpty {
                text = String(text.prefix(Int.random(in: 0..<text.count, using: &rng)))
            }
            try folder.write(file, text)
            // Load a scenario (the mutated one, or one that may include a mutated profile).
            let target = file.hasPrefix("_profiles/") ? scenarios.randomElement(using: &rng)! : file
            loads += 1
            do {
                loaded += try ScenarioLoader().load(paths: [folder.file(target)]).count
            } catch {
                diagnostics += error.diagnostics.count
                for diagnostic in error.diagnostics {
                    let line = diagnostic.description
                    #expect(diagnostic.location.line >= 1 && diagnostic.location.column >= 1, "\(line)")
                    #expect(!line.unicodeScalars.contains(where: Printable.isUnsafe), "\(line.debugDescription)")
                    #expect(!line.contains("root:x:0:0"), "content of /etc/passwd quoted: \(line)")
                    #expect(!line.contains(String(repeating: "A", count: 200)), "a long quote: \(line.prefix(300))")
                    #expect(line.utf8.count < 2000 + diagnostic.location.file.utf8.count, "\(line.prefix(300))")
                }
            }
            try folder.write(file, original)
        }
        print(
            "scenario mutation: \(files.count) library files, \(loads) mutated loads, \(loaded) cases loaded, \(diagnostics) diagnostics, 0 crashes"
        )
        #expect(diagnostics > 0)
    }

    func mutate(_ lines: inout [String], using rng: inout SeededGenerator) {
        guard !lines.isEmpty else {
            lines = ["include: [/etc/passwd]"]
            return
        }
        let at = Int.random(in: 0..<lines.count, using: &rng)
        switch Int.random(in: 0..<7, using: &rng) {
        case 0:
            lines.remove(at: at)
        case 1:
            lines.insert(lines[at], at: at)
        case 2:
            lines.swapAt(at, Int.random(in: 0..<lines.count, using: &rng))
        case 3, 4:
            // A value replaced, the indentation and key kept.
            if let colon = lines[at].range(of: ": ") {
                lines[at] = lines[at][..<colon.upperBound] + Self.hostile.randomElement(using: &rng)!
            } else {
                lines[at] += " " + Self.hostile.randomElement(using: &rng)!
            }
        case 5:
            let indent = String(lines[at].prefix { $0 == " " })
            lines.insert(
                indent + Self.keys.randomElement(using: &rng)! + ": " + Self.hostile.randomElement(using: &rng)!, at: at
            )
        default:
            var bytes = Array(lines[at].utf8)
            if !bytes.isEmpty {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            lines[at] = String(decoding: bytes, as: UTF8.self)
        }
    }
}
