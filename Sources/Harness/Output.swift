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

/// The exit codes of `mxharness` (0 all passed, 1 some failed, 2 usage or load errors).
public enum HarnessExit {
    public static let success: Int32 = 0
    public static let failures: Int32 = 1
    public static let usage: Int32 = 2
}
