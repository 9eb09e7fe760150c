/// One Authentication-Results header field (RFC 8601 2.2), as far as a decision needs it:
/// `authserv-id; method=result (comment) ptype.property=value ...; ...`.
public struct AuthenticationResults: Sendable, Hashable {
    public struct Result: Sendable, Hashable {
        /// `dkim`, `spf`, `dmarc` (lower case).
        public var method: String
        /// `pass`, `fail`, `none`, `temperror`, ... (lower case).
        public var result: String
        /// The comments of the result, in order, without their parentheses (`2048-bit key`).
        public var comments: [String]
        /// `header.d`, `smtp.mailfrom`, ..., and `reason` (names lower case, values as written,
        /// a quoted one without its quotes).
        public var properties: [String: String]
    }

    public var authservID: String
    public var results: [Result]

    /// Parses a field's value (after `Authentication-Results:`); nil when it has no authserv-id.
    public init?(_ value: String) {
        // Folding is white space (RFC 5322 2.2.3).
        let flat = String(value.map { $0.isWhitespace ? " " : $0 })
        let statements = Self.splitOutsideComments(flat, at: ";")
        guard let first = statements.first else { return nil }
        let idWords = Self.removingComments(first).text.split(separator: " ")
        guard let authserv = idWords.first else { return nil }
        authservID = String(authserv).lowercased()
        results = []
        for statement in statements.dropFirst() {
            let (text, comments) = Self.removingComments(statement)
            let words = Self.splitOutsideComments(text, at: " ").filter { !$0.isEmpty }
            guard let head = words.first, let equals = head.firstIndex(of: "=") else { continue }
            let method = String(head[..<equals]).lowercased()
            let result = String(head[head.index(after: equals)...]).lowercased()
            guard !method.isEmpty, method != "none" || !result.isEmpty else { continue }
            var properties: [String: String] = [:]
            for word in words.dropFirst() {
                // `ptype.property=value`, and the result's `reason="..."` (RFC 8601 2.2).
                guard let equals = word.firstIndex(of: "=") else { continue }
                let name = String(word[..<equals]).lowercased()
                guard name.contains(".") || name == "reason" else { continue }
                var value = String(word[word.index(after: equals)...])
                if value.count >= 2, value.first == "\"", value.last == "\"" {
                    value = String(value.dropFirst().dropLast())
                }
                properties[name] = value
            }
            results.append(Result(method: method, result: result, comments: comments, properties: properties))
        }
    }

    /// The results of `method` in the fields of `values` whose authserv-id is `authservID`
    /// (other fields, a sender's own among them, are not this receiver's: RFC 8601 5).
    public static func results(_ method: String, in values: [String], authservID: String) -> [Result] {
        values.compactMap(AuthenticationResults.init).filter { $0.authservID == authservID.lowercased() }
            .flatMap(\.results).filter { $0.method == method }
    }

    /// `text` cut at `separator`s that stand outside parenthesised comments and quoted strings.
    static func splitOutsideComments(_ text: String, at separator: Character) -> [String] {
        var parts: [String] = []
        var current = ""
        var depth = 0
        var quoted = false
        var escaped = false
        for character in text {
            if escaped {
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "\"" && depth == 0 {
                quoted.toggle()
            } else if !quoted && character == "(" {
                depth += 1
            } else if !quoted && character == ")" && depth > 0 {
                depth -= 1
            } else if !quoted && depth == 0 && character == separator {
                parts.append(current.trimmingCharacters(in: " "))
                current = ""
                continue
            }
            current.append(character)
        }
        let last = current.trimmingCharacters(in: " ")
        if !last.isEmpty { parts.append(last) }
        return parts
    }

    /// `text` without its comments, and the comments (outermost level, parentheses removed).
    static func removingComments(_ text: String) -> (text: String, comments: [String]) {
        var out = ""
        var comments: [String] = []
        var comment = ""
        var depth = 0
        for character in text {
            if character == "(" {
                if depth > 0 { comment.append(character) }
                depth += 1
            } else if character == ")" && depth > 0 {
                depth -= 1
                if depth == 0 {
                    comments.append(comment.trimmingCharacters(in: " "))
                    comment = ""
                    out.append(" ")
                } else {
                    comment.append(character)
                }
            } else if depth > 0 {
                comment.append(character)
            } else {
                out.append(character)
            }
        }
        return (out.trimmingCharacters(in: " "), comments)
    }
}

extension String {
    fileprivate func trimmingCharacters(in character: Character) -> String {
        var s = Substring(self)
        while s.first == character { s = s.dropFirst() }
        while s.last == character { s = s.dropLast() }
        return String(s)
    }
}
