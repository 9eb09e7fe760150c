/// Why a case cannot run on Postfix as the receiver: its policy has no Postfix equivalent.
/// The runner reports such a case as skipped with `reason`, never as passed.
public struct PostfixUnsupported: Error, Sendable, Hashable, CustomStringConvertible {
    public var reason: String

    public init(reason: String) {
        self.reason = reason
    }

    public var description: String { reason }
}

/// A `main.cf` that could not be built for a case.
public enum PostfixConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The policy has no Postfix equivalent (skip the case).
    case unsupported(PostfixUnsupported)
    /// The user's base main.cf (`--postfix-config`) could not be read.
    case invalidBase(source: String, line: Int, problem: String)
    /// A setting from the scenario's `receiver.postfix` (or the policy) that cannot go into main.cf.
    case invalidSetting(name: String, origin: String, problem: String)
    /// The receiver itself (hostname, addresses) cannot be configured.
    case invalidReceiver(problem: String)
    /// The site's configuration directory (`--postfix-config-dir`, `receiver.postfix_dir`) cannot be used.
    case invalidSite(path: String, problem: String)

    /// The reason to report when the case is to be skipped, nil for real errors.
    public var unsupportedReason: String? {
        if case .unsupported(let unsupported) = self { return unsupported.reason }
        return nil
    }

    public var description: String {
        switch self {
        case .unsupported(let unsupported):
            "no Postfix equivalent: \(unsupported.reason)"
        case .invalidBase(let source, let line, let problem):
            "\(source):\(line): \(problem); fix the file given with --postfix-config"
        case .invalidSetting(let name, let origin, let problem):
            "\(origin): postfix setting `\(name)`: \(problem)"
        case .invalidReceiver(let problem):
            "receiver: \(problem)"
        case .invalidSite(let path, let problem):
            "Postfix configuration directory \(path): \(problem)"
        }
    }
}

/// A Postfix instance that could not be started or stopped, with what Postfix said.
public struct PostfixInstanceError: Error, Sendable, CustomStringConvertible {
    public var message: String
    /// Postfix's own words: the output of the `postfix` command and the maillog lines.
    public var output: String

    public init(message: String, output: String = "") {
        self.message = message
        self.output = output
    }

    public var description: String {
        let said = output.trimmingWhitespaceAndNewlines()
        return message + (said.isEmpty ? "" : "\nPostfix said:\n" + said)
    }
}

extension String {
    func trimmingWhitespaceAndNewlines() -> String {
        var s = Substring(self)
        while let first = s.first, first.isWhitespace { s = s.dropFirst() }
        while let last = s.last, last.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
