import Foundation
import Scenario
import Testing
import MXHarnessTestKit

/// SplitMix64: a seeded generator, so a failure here replays.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Loading never crashes: any input either loads or throws diagnostics that each name a real place.
@Suite struct FuzzTests {
    func assertWellFormed(_ yaml: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        do {
            _ = try ScenarioLoader().load(yaml: yaml, file: "fuzz.yaml")
        } catch {
            #expect(!error.diagnostics.isEmpty, sourceLocation: sourceLocation)
            let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false).count
            for diagnostic in error.diagnostics {
                #expect(diagnostic.location.file == "fuzz.yaml", sourceLocation: sourceLocation)
                #expect(
                    diagnostic.location.line >= 1 && diagnostic.location.line <= lines + 1,
                    "\(diagnostic) in \(yaml.debugDescription)", sourceLocation: sourceLocation)
                #expect(diagnostic.location.column >= 1, sourceLocation: sourceLocation)
                #expect(!diagnostic.message.isEmpty, sourceLocation: sourceLocation)
            }
        }
    }

    @Test func randomBytes() throws {
        var rng = SeededGenerator(seed: 1)
        let folder = try ScenarioFolder([:])
        for round in 0..<150 {
            let count = Int.random(in: 0..<400, using: &rng)
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let name = "r\(round).yaml"
            try folder.write(name, "")
            try Data(bytes).write(to: URL(fileURLWithPath: folder.file(name)))
            do {
                _ = try ScenarioLoader().load(paths: [folder.file(name)])
            } catch {
                #expect(error.diagnostics.allSatisfy { $0.location.line >= 1 && $0.location.column >= 1 })
            }
            // The same bytes as text (invalid UTF-8 repaired), through the YAML parser itself.
            assertWellFormed(String(decoding: bytes, as: UTF8.self))
        }
    }

    @Test func randomYAMLFromTheFormatsOwnPieces() {
        var rng = SeededGenerator(seed: 2)
        let keys = [
            "name", "description", "tags", "include", "dns", "receiver", "sender", "expect", "variants", "records",
            "faults", "reverse", "hostname", "addresses", "target", "policy", "postfix", "ipv4", "ipv6", "checks",
            "reject_at", "on_fail", "prefer", "helo", "mail_from", "rcpt_to", "relay", "message", "headers", "body",
            "outcome", "family", "stage", "code", "enhanced", "text", "attempts", "result", "fault", "host", "<<", "?",
        ]
        let scalars = [
            "~", "\"\"", "yes", "550", "5xx", "5.7.x", "/(/", "/ok/", "192.0.2.10", "\"2001:db8::10\"", "fcrdns",
            "example.test. MX 10 mx.example.test.", "x. A 1.2.3.4", "delivered", "&a x", "*a", "*b", "!!str 1",
            "[]", "{}", "[ptr, fcrdns]", "{host: h.test}", "'quoted'", "|\n  block", "-1", ".nan", "\"\\u0000\"",
        ]
        for _ in 0..<300 {
            var lines: [String] = []
            var depth = 0
            for _ in 0..<Int.random(in: 1...25, using: &rng) {
                let indent = String(repeating: "  ", count: depth)
                let key = keys.randomElement(using: &rng)!
                switch Int.random(in: 0..<5, using: &rng) {
                case 0:
                    lines.append("\(indent)\(key):")
                    depth = min(depth + 1, 6)
                case 1:
                    lines.append("\(indent)- \(key): \(scalars.randomElement(using: &rng)!)")
                case 2:
                    depth = max(0, depth - Int.random(in: 0...2, using: &rng))
                    lines.append(
                        "\(String(repeating: "  ", count: depth))\(key): \(scalars.randomElement(using: &rng)!)")
                case 3:
                    lines.append("\(indent)- \(scalars.randomElement(using: &rng)!)")
                default:
                    lines.append(
                        Bool.random(using: &rng)
                            ? "---"
                            : "\(indent)\(key): [\(scalars.randomElement(using: &rng)!), \(scalars.randomElement(using: &rng)!)]"
                    )
                }
            }
            assertWellFormed(lines.joined(separator: "\n"))
        }
    }

    @Test func mutationsOfTheSpecExample() {
        var rng = SeededGenerator(seed: 3)
        let pieces = [
            ":", " ", "-", "[", "]", "{", "}", "\"", "'", "#", "\n", "\t", "&x ", "*x", "~", "x", "5", ".", "/",
        ]
        for _ in 0..<300 {
            var chars = Array(formatExample.unicodeScalars)
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let index = Int.random(in: 0..<max(1, chars.count), using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0 where !chars.isEmpty:
                    chars.remove(at: min(index, chars.count - 1))
                case 1:
                    chars.insert(
                        contentsOf: pieces.randomElement(using: &rng)!.unicodeScalars, at: min(index, chars.count))
                default:
                    let other = Int.random(in: 0..<max(1, chars.count), using: &rng)
                    if chars.indices.contains(index), chars.indices.contains(other) { chars.swapAt(index, other) }
                }
            }
            var text = ""
            text.unicodeScalars.append(contentsOf: chars)
            assertWellFormed(text)
        }
    }

    @Test func hostileShapes() {
        // Deep nesting (libyaml stops at 1000 levels), alias bombs, huge keys, NUL escapes.
        assertWellFormed(String(repeating: "[", count: 5000))
        assertWellFormed(String(repeating: "- ", count: 3000) + "x")
        var bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...8 {
            bomb +=
                "\(Character(Unicode.Scalar(97 + level)!)): &\(Character(Unicode.Scalar(97 + level)!)) "
                + "["
                + Array(repeating: "*\(Character(Unicode.Scalar(96 + level)!))", count: 10).joined(separator: ", ")
                + "]\n"
        }
        assertWellFormed(bomb + "dns: {records: *i}\n")
        assertWellFormed(String(repeating: "k", count: 100_000) + ": v\n")
        assertWellFormed("name: \"\\0\"\ndns: {records: [\"\\0 A 1.2.3.4\"]}\n")
        assertWellFormed("a: \"\\uD800\"\nb: \"\\U0010FFFF\\x00\\xff\"\n")
        assertWellFormed("\u{FEFF}name: bom\r\ndns: {}\r\n")
        assertWellFormed("%YAML 1.2\n---\nname: x\n...\n---\n!!map {}\n")
        assertWellFormed("? [a, b]\n: c\n")
        assertWellFormed("dns: !!binary aGVsbG8=\n")
    }
}
