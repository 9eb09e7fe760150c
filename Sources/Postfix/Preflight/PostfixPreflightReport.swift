/// What the preflight found in one Postfix configuration, before any case runs on it.
public struct PostfixPreflightReport: Sendable, Hashable {
    public struct Finding: Sendable, Hashable, CustomStringConvertible {
        public enum Severity: String, Sendable, Hashable {
            /// The configuration cannot serve mail as the site's would (the run stops, exit 2).
            case error
            /// Something differs from the site, and cases still run.
            case warning
        }

        public var severity: Severity
        /// `DIR/main.cf:LINE`, `DIR/master.cf`, or the command that said it.
        public var location: String
        public var message: String

        public init(_ severity: Severity, at location: String, _ message: String) {
            self.severity = severity
            self.location = location
            self.message = message
        }

        public var description: String { "\(location): \(severity.rawValue): \(message)" }
    }

    /// The configuration checked: the site's folder or the `--postfix-config` file.
    public var source: String
    public var findings: [Finding]
    /// Settings the harness replaced (`RenderedPostfixConfiguration.overridden`).
    public var overridden: [String]
    /// What to do about the errors, when there is one thing to say.
    public var hint: String?

    public init(source: String, findings: [Finding], overridden: [String], hint: String? = nil) {
        self.source = source
        self.findings = findings
        self.overridden = overridden
        self.hint = hint
    }

    public var errors: [Finding] { findings.filter { $0.severity == .error } }
    public var warnings: [Finding] { findings.filter { $0.severity == .warning } }
    /// No error: cases may run on it.
    public var canServeMail: Bool { errors.isEmpty }

    /// The report for a person: every finding once, errors first, then what the harness overrode.
    public var text: String {
        var out = "Postfix preflight of \(source): \(errors.count) error(s), \(warnings.count) warning(s)\n"
        for finding in errors + warnings { out += "  \(finding)\n" }
        if !overridden.isEmpty {
            out += "  settings the harness owns (the site's value is not used):\n"
            for item in overridden { out += "    \(item)\n" }
        }
        if let hint { out += "  \(hint)\n" }
        if !canServeMail { out += "  the configuration cannot serve mail here: no case runs (fix the errors above)\n" }
        return out
    }
}
