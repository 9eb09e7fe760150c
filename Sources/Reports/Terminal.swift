import Foundation

/// Whether and how to colour output: on a terminal, unless NO_COLOR is set (no-color.org).
public struct Terminal: Sendable {
    public var colour: Bool

    public init(colour: Bool) {
        self.colour = colour
    }

    public static func detect(fileDescriptor: Int32 = 1) -> Terminal {
        let env = ProcessInfo.processInfo.environment
        let noColour = env["NO_COLOR"].map { !$0.isEmpty } ?? false
        return Terminal(colour: !noColour && isatty(fileDescriptor) == 1 && env["TERM"] != "dumb")
    }

    public func green(_ text: String) -> String { paint(text, "32") }
    public func red(_ text: String) -> String { paint(text, "31") }
    public func yellow(_ text: String) -> String { paint(text, "33") }
    public func bold(_ text: String) -> String { paint(text, "1") }
    public func dim(_ text: String) -> String { paint(text, "2") }

    private func paint(_ text: String, _ code: String) -> String {
        colour ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}
