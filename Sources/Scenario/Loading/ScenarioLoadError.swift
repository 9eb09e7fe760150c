import DNSCore

/// One thing wrong with the scenarios of a run: where, at which key, and what.
public struct ScenarioDiagnostic: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem this is; a struct of static codes so new kinds can be added without breaking users.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        private init(_ rawValue: String) { self.rawValue = rawValue }

        /// The file cannot be read (missing, not a file, not UTF-8, not `.yaml`/`.yml`).
        public static let unreadable = Code("unreadable")
        /// YAML syntax, as libyaml reports it (with its mark).
        public static let syntax = Code("syntax")
        /// A key the format does not have.
        public static let unknownKey = Code("unknown-key")
        /// A required key is absent.
        public static let missingKey = Code("missing-key")
        /// A map where a string was expected, a string where a list was, and so on.
        public static let wrongType = Code("wrong-type")
        /// The type is right but the value is not (an address, a record line, a preset, a pattern...).
        public static let invalidValue = Code("invalid-value")
        /// Two cases with the same name in one run.
        public static let duplicateName = Code("duplicate-name")
        /// An included file is missing, unreadable, not a map, or includes itself.
        public static let include = Code("include")

        public var description: String { rawValue }
    }

    public var code: Code
    public var location: SourceLocation
    /// Where in the scenario: `receiver.policy.ipv6[1]`; empty for the document as a whole.
    public var keyPath: String
    public var message: String

    public init(_ code: Code, at location: SourceLocation, keyPath: String, _ message: String) {
        self.code = code
        self.location = location
        self.keyPath = keyPath
        self.message = message
    }

    /// `Scenarios/rdns.yaml:14:5: receiver.policy.ipv6[1]: unknown check "fcrnds" (known: ptr, fcrdns, ...)`.
    /// Control, invisible and bidi characters (from the file, or a path) are escaped.
    public var description: String {
        Printable.escaped(keyPath.isEmpty ? "\(location): \(message)" : "\(location): \(keyPath): \(message)")
    }
}

/// Every problem found while loading the scenarios of one run (loading does not stop at the first).
public struct ScenarioLoadError: Error, Sendable, Hashable, CustomStringConvertible {
    /// In the order found: by file (in load order), then by position.
    public var diagnostics: [ScenarioDiagnostic]

    public init(diagnostics: [ScenarioDiagnostic]) {
        self.diagnostics = diagnostics
    }

    /// One line per problem, then the count.
    public var description: String {
        let count = diagnostics.count == 1 ? "1 error" : "\(diagnostics.count) errors"
        let files = Set(diagnostics.map(\.location.file)).count
        return diagnostics.map(\.description).joined(separator: "\n")
            + "\n\(count) in \(files == 1 ? "1 file" : "\(files) files") of scenarios; fix them and load again"
    }
}
