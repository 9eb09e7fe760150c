import Foundation

/// Line-buffered standard output and error that flush each line, so progress shows as cases finish.
/// A reader that goes away (`mxharness run | head`) ends the output, not the process: SIGPIPE is
/// ignored and the failed write is dropped, so clean-up still runs.
public struct Output: Sendable {
    public init() {
        Self.ignoreSIGPIPE
    }

    private static let ignoreSIGPIPE: Void = {
        signal(SIGPIPE, SIG_IGN)
    }()

    public func line(_ text: String) {
        try? FileHandle.standardOutput.write(contentsOf: Data((text + "\n").utf8))
    }

    public func error(_ text: String) {
        try? FileHandle.standardError.write(contentsOf: Data((text + "\n").utf8))
    }
}

/// Why a command stopped, with its message; the executable prints the message and exits with the
/// code: 2 for usage and load errors (as argument-parser's own usage errors) and for a receiver or
/// sender that cannot run here at all, 1 for a run that could not be done, 3 for a run in which no
/// case ran (`ExitCodes` in the executable lists them for `--help`).
public struct HarnessError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public var exitCode: Int32

    public init(_ description: String, exitCode: Int32) {
        self.description = description
        self.exitCode = exitCode
    }

    /// A usage or load error: exit 2.
    public static func usage(_ description: String) -> HarnessError { HarnessError(description, exitCode: 2) }
    /// The harness could not do what was asked (a world did not come up, a file could not be written): exit 1.
    public static func failed(_ description: String) -> HarnessError { HarnessError(description, exitCode: 1) }
    /// Nothing ran (no case matched, or every case was skipped): exit 3, so that a CI job that
    /// tested nothing is not green.
    public static func nothingRan(_ description: String) -> HarnessError { HarnessError(description, exitCode: 3) }
}

/// How a command that judges something ended, its report printed: the executable exits 0 or 1.
public enum Verdict: Sendable, Hashable {
    case passed
    case failed

    public init(passed: Bool) { self = passed ? .passed : .failed }
}
