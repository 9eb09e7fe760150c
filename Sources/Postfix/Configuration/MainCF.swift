/// The parameters of a Postfix `main.cf`, in order, one value per name (the last one written wins,
/// as in Postfix itself, which reads the file top to bottom).
public struct MainCF: Sendable, Hashable {
    public private(set) var names: [String] = []
    private var values: [String: String] = [:]
    /// The line of the file each parameter was last set on, for `parse`d files.
    public private(set) var lines: [String: Int] = [:]
    /// The file `parse` read, for messages.
    public private(set) var source: String?

    public init() {}

    /// Equal when the parameters are: where a parsed file had them is not part of the value.
    public static func == (lhs: MainCF, rhs: MainCF) -> Bool { lhs.names == rhs.names && lhs.values == rhs.values }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(names)
        hasher.combine(values)
    }

    public init(_ parameters: [(String, String)]) {
        for (name, value) in parameters { self[name] = value }
    }

    public subscript(name: String) -> String? {
        get { values[name] }
        set {
            if let newValue {
                if values.updateValue(newValue, forKey: name) == nil { names.append(name) }
            } else if values.removeValue(forKey: name) != nil {
                names.removeAll { $0 == name }
            }
        }
    }

    public var parameters: [(name: String, value: String)] { names.map { ($0, values[$0] ?? "") } }

    public var isEmpty: Bool { names.isEmpty }

    /// Parses main.cf text as postconf(5) describes it: `name = value`; a line that starts with
    /// white space continues the previous one; a line whose first non-blank character is `#` and
    /// a blank line are ignored.
    public static func parse(_ text: String, source: String = "main.cf") throws(PostfixConfigurationError) -> MainCF {
        var result = MainCF()
        result.source = source
        var current: (name: String, value: String, line: Int)?
        func finish() {
            if let current {
                result[current.name] = current.value
                result.lines[current.name] = current.line
            }
            current = nil
        }
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.hasSuffix("\r") ? String(rawLine.dropLast()) : String(rawLine)
            let trimmed = line.trimmingWhitespace()
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            if line.first == " " || line.first == "\t" {
                guard var continued = current else {
                    throw .invalidBase(
                        source: source, line: lineNumber,
                        problem: "a continuation line (starting with white space) before any parameter")
                }
                continued.value += (continued.value.isEmpty ? "" : " ") + trimmed
                current = continued
                continue
            }
            finish()
            guard let equals = line.firstIndex(of: "=") else {
                throw .invalidBase(
                    source: source, line: lineNumber, problem: "expected `name = value`, got `\(trimmed)`")
            }
            let name = String(line[..<equals]).trimmingWhitespace()
            guard isValidName(name) else {
                throw .invalidBase(
                    source: source, line: lineNumber,
                    problem: "`\(name)` is not a parameter name (letters, digits and _)")
            }
            current = (name, String(line[line.index(after: equals)...]).trimmingWhitespace(), lineNumber)
        }
        finish()
        return result
    }

    /// The file's text: `name = value` lines, with an optional comment line before each parameter.
    public func render(comments: [String: String] = [:], header: String? = nil) -> String {
        var out = ""
        if let header {
            for line in header.split(separator: "\n", omittingEmptySubsequences: false) { out += "# \(line)\n" }
            out += "\n"
        }
        for (name, value) in parameters {
            if let comment = comments[name] { out += "# \(comment)\n" }
            out += value.isEmpty ? "\(name) =\n" : "\(name) = \(value)\n"
        }
        return out
    }

    /// Postfix parameter names: ASCII letters, digits and `_` (postconf(5)).
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty
            && name.utf8.allSatisfy {
                ($0 >= 97 && $0 <= 122) || ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) || $0 == 95
            }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let first = s.first, first == " " || first == "\t" || first == "\r" { s = s.dropFirst() }
        while let last = s.last, last == " " || last == "\t" || last == "\r" { s = s.dropLast() }
        return String(s)
    }
}
