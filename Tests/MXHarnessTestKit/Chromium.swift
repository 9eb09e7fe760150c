import Foundation
import Testing

/// Debian's headless Chromium, run on a file: the DOM it built and what it logged. The HTML pages
/// (matrix, census) are checked in a real browser with it.
public enum Chromium {
    public static var path: String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    public static let skipReason: Comment =
        "needs Debian's chromium (apt-get install chromium; scripts/lib.sh installs it for CI)"

    public struct Run: Sendable {
        public var stdout: String
        public var stderr: String
        public var status: Int32

        /// Console messages (a script error, a blocked fetch under the page's CSP) as Chromium logs them.
        public var consoleErrors: [String] {
            stderr.split(separator: "\n").map(String.init).filter { $0.contains(":CONSOLE") || $0.contains("Uncaught") }
        }
    }

    /// `chromium --headless` on `file` with `arguments`, with a profile of its own and a time limit.
    public static func run(_ file: String, _ arguments: [String]) throws -> Run {
        guard let chromium = path else { throw CocoaError(.fileNoSuchFile) }
        let scratch = NSTemporaryDirectory() + "chromium-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let outPath = scratch + "/stdout", errPath = scratch + "/stderr"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments =
            [
                "120", chromium, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(scratch)/profile",
                "--enable-logging=stderr", "--v=0",
            ] + arguments + [URL(fileURLWithPath: file).absoluteString]
        process.standardOutput = FileHandle(forWritingAtPath: outPath)
        process.standardError = FileHandle(forWritingAtPath: errPath)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return Run(
            stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "",
            status: process.terminationStatus)
    }
}
