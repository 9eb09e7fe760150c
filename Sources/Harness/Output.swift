import Foundation

/// Line-buffered standard output and error that flush each line, so progress shows as cases finish.
public struct Output: Sendable {
    public init() {}

    public func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    public func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}

/// The exit codes of `mxharness` (issue: 0 all passed, 1 some failed, 2 usage or load errors).
public enum HarnessExit {
    public static let success: Int32 = 0
    public static let failures: Int32 = 1
    public static let usage: Int32 = 2
}
