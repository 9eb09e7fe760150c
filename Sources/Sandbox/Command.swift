import Foundation

/// A helper program (ip, unbound-checkconf, postfix) that failed, with what it said.
public struct CommandError: Error, Sendable, CustomStringConvertible {
    public var command: [String]
    public var status: Int32
    public var output: String

    public var description: String {
        let said = output.trimmingCharacters(in: .whitespacesAndNewlines)
        return "`\(command.joined(separator: " "))` exited with status \(status)" + (said.isEmpty ? "" : ": \(said)")
    }
}

/// Runs short helper programs to completion.
public enum Command {
    /// Runs `path args`, feeding `input` on standard input; throws `CommandError` on a non-zero exit.
    @discardableResult
    public static func run(_ path: String, _ arguments: [String], input: String? = nil) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try runSync(path, arguments, input: input) })
            }
        }
    }

    /// A write to a pipe whose reader has exited raises SIGPIPE, which ends the whole process
    /// unless ignored (as NIO and the CLI's output do anyway); ignored, the write fails with EPIPE.
    private static let ignoreSIGPIPE: Void = {
        signal(SIGPIPE, SIG_IGN)
    }()

    @discardableResult
    public static func runSync(_ path: String, _ arguments: [String], input: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let stdin = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        try process.run()
        if let input {
            Self.ignoreSIGPIPE
            // The throwing write: the process may be gone already (killed with its namespace when
            // a run is interrupted), and the legacy write(_:) traps on EPIPE instead of reporting
            // it. The exit status below says what became of the process.
            try? stdin.fileHandleForWriting.write(contentsOf: Data(input.utf8))
            try? stdin.fileHandleForWriting.close()
        }
        let data = (try? output.fileHandleForReading.readToEnd()) ?? Data()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw CommandError(command: [path] + arguments, status: process.terminationStatus, output: text)
        }
        return text
    }
}
