/// A client command of RFC 5321 4.1.1, parsed from one line.
public enum SMTPCommand: Sendable, Hashable {
    case ehlo(String)
    case helo(String)
    /// `reversePath` is empty for the null sender `<>`.
    case mail(reversePath: String, parameters: [MailParameter])
    case rcpt(forwardPath: String)
    case data
    case rset
    case noop
    case quit
    case vrfy(String)

    /// An ESMTP parameter of MAIL FROM this server understands.
    public enum MailParameter: Sendable, Hashable {
        /// RFC 1870 SIZE.
        case size(Int)
        /// RFC 6152 BODY=7BIT or BODY=8BITMIME.
        case body(String)
    }

    /// Why a line is not a command this server runs.
    public enum ParseError: Error, Sendable, Hashable {
        /// An empty line or one that is no command at all.
        case empty
        /// A verb this server does not implement (502 5.5.2).
        case unrecognized(String)
        /// A known verb with bad arguments (501 5.5.4), with the syntax to show.
        case syntax(String)
        /// A MAIL parameter this server does not support (555 5.5.4, RFC 5321 4.1.1.11).
        case unsupportedParameter(String)
    }

    /// The verb as the client wrote it, upper-cased, for transcripts and error texts.
    public static func verb(of line: String) -> String {
        String(line.prefix { $0 != " " && $0 != ":" }).uppercased()
    }

    /// Parses one command line (without its line ending).
    public static func parse(_ line: String) -> Result<SMTPCommand, ParseError> {
        let trimmed = line.trimmingTrailingSpaces
        guard !trimmed.isEmpty else { return .failure(.empty) }
        let verb = trimmed.prefix { $0 != " " }.uppercased()
        let argument = String(trimmed.dropFirst(verb.count).drop { $0 == " " })
        switch verb {
        case "EHLO", "HELO":
            // RFC 5321 4.1.1.1: exactly one domain or address literal.
            guard !argument.isEmpty, !argument.contains(" ") else { return .failure(.syntax("\(verb) hostname")) }
            return .success(verb == "EHLO" ? .ehlo(argument) : .helo(argument))
        case "DATA", "RSET", "QUIT":
            guard argument.isEmpty else { return .failure(.syntax(verb)) }
            return .success(verb == "DATA" ? .data : verb == "RSET" ? .rset : .quit)
        case "NOOP":
            // RFC 5321 4.1.1.9: the argument, if any, is ignored.
            return .success(.noop)
        case "VRFY":
            guard !argument.isEmpty else { return .failure(.syntax("VRFY address")) }
            return .success(.vrfy(argument))
        default:
            let upper = trimmed.uppercased()
            if upper.hasPrefix("MAIL FROM:") {
                return parseMail(String(trimmed.dropFirst("MAIL FROM:".count)))
            }
            if upper.hasPrefix("RCPT TO:") {
                return parseRcpt(String(trimmed.dropFirst("RCPT TO:".count)))
            }
            if verb == "MAIL" { return .failure(.syntax("MAIL FROM:<address>")) }
            if verb == "RCPT" { return .failure(.syntax("RCPT TO:<address>")) }
            return .failure(.unrecognized(verb))
        }
    }

    private static func parseMail(_ rest: String) -> Result<SMTPCommand, ParseError> {
        guard let (path, parameterText) = splitPath(rest), path.isEmpty || isMailbox(path) else {
            return .failure(.syntax("MAIL FROM:<address>"))
        }
        var parameters: [MailParameter] = []
        for (keyword, value) in parameterText {
            switch keyword {
            case "SIZE":
                guard let value, !value.isEmpty, value.count <= 18, value.allSatisfy(\.isASCIIDigit), let size = Int(value) else {
                    return .failure(.syntax("MAIL FROM:<address> SIZE=number"))
                }
                parameters.append(.size(size))
            case "BODY":
                guard let value, ["7BIT", "8BITMIME"].contains(value.uppercased()) else {
                    return .failure(.syntax("MAIL FROM:<address> BODY=7BIT|8BITMIME"))
                }
                parameters.append(.body(value.uppercased()))
            default:
                return .failure(.unsupportedParameter(keyword))
            }
        }
        return .success(.mail(reversePath: path, parameters: parameters))
    }

    private static func parseRcpt(_ rest: String) -> Result<SMTPCommand, ParseError> {
        // RFC 5321 4.1.1.3: `<Postmaster>` without a domain must be accepted.
        guard let (path, parameterText) = splitPath(rest), !path.isEmpty,
              isMailbox(path) || path.lowercased() == "postmaster"
        else { return .failure(.syntax("RCPT TO:<address>")) }
        guard parameterText.isEmpty else {
            return .failure(.unsupportedParameter(parameterText[0].keyword))
        }
        return .success(.rcpt(forwardPath: path))
    }

    /// Splits `<path> KEY=VALUE ...` (a space after the colon is tolerated, as Postfix does);
    /// strips an RFC 5321 4.1.2 source route (`<@a,@b:user@domain>`).
    private static func splitPath(_ text: String) -> (String, [(keyword: String, value: String?)])? {
        let text = text.drop { $0 == " " }
        guard text.first == "<", let close = text.firstIndex(of: ">") else { return nil }
        var path = String(text[text.index(after: text.startIndex)..<close])
        if path.hasPrefix("@") {
            guard let colon = path.firstIndex(of: ":") else { return nil }
            path = String(path[path.index(after: colon)...])
        }
        let after = text[text.index(after: close)...]
        guard after.isEmpty || after.first == " " else { return nil }
        var parameters: [(String, String?)] = []
        for word in after.split(separator: " ") {
            let parts = word.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let keyword = parts[0].uppercased()
            guard !keyword.isEmpty, keyword.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else { return nil }
            parameters.append((keyword, parts.count > 1 ? String(parts[1]) : nil))
        }
        return (path, parameters)
    }

    /// A `local@domain` mailbox: printable ASCII without spaces or angle brackets, one `@`
    /// before a non-empty domain (quoted local parts are not supported).
    static func isMailbox(_ path: String) -> Bool {
        guard let at = path.lastIndex(of: "@") else { return false }
        let local = path[..<at], domain = path[path.index(after: at)...]
        guard !local.isEmpty, !domain.isEmpty, path.utf8.count <= 256 else { return false }
        return path.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "<") && $0 != UInt8(ascii: ">") }
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

extension String {
    var trimmingTrailingSpaces: String {
        var text = Substring(self)
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return String(text)
    }
}
