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
    /// RFC 3207.
    case starttls

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
        var line = line
        return line.withUTF8 { ASCIICommandParser.verb(of: $0) }
            ?? String(line.prefix { $0 != " " && $0 != ":" }).uppercased()
    }

    /// Parses one command line (without its line ending).
    public static func parse(_ line: String) -> Result<SMTPCommand, ParseError> {
        var line = line
        if let parsed = line.withUTF8({ ASCIICommandParser.parse($0) }) { return parsed }
        return parseText(line)
    }

    /// `parse(_:)` on Characters: any line, also one with non-ASCII bytes.
    static func parseText(_ line: String) -> Result<SMTPCommand, ParseError> {
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
        case "STARTTLS":
            // RFC 3207 section 4: no parameters; Postfix answers "501 5.5.4 Syntax: STARTTLS".
            return argument.isEmpty ? .success(.starttls) : .failure(.syntax("STARTTLS"))
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
                guard let value, !value.isEmpty, value.count <= 18, value.allSatisfy(\.isASCIIDigit),
                    let size = Int(value)
                else {
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
            guard !keyword.isEmpty, keyword.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
            else { return nil }
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
        return path.utf8.allSatisfy(isAddressByte)
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

/// The fast path of `SMTPCommand.parse(_:)` and `verb(of:)` for the usual line, all ASCII: the same
/// results on its bytes, without the Strings and Character steps (grapheme breaking, Unicode
/// upper-casing) that make up most of a command's cost in the Character version. Lines with other
/// bytes are left to that version (nil), whose upper-casing and grapheme rules then apply.
enum ASCIICommandParser {
    typealias Bytes = UnsafeBufferPointer<UInt8>
    typealias Command = SMTPCommand

    static func parse(_ line: Bytes) -> Result<Command, Command.ParseError>? {
        guard line.allSatisfy({ $0 < 0x80 }) else { return nil }
        var end = line.count
        while end > 0, line[end - 1] == space || line[end - 1] == tab { end -= 1 }
        guard end > 0 else { return .failure(.empty) }
        let trimmed = Bytes(rebasing: line[..<end])
        var verbEnd = 0
        while verbEnd < trimmed.count, trimmed[verbEnd] != space { verbEnd += 1 }
        let verb = Bytes(rebasing: trimmed[..<verbEnd])
        var argumentStart = verbEnd
        while argumentStart < trimmed.count, trimmed[argumentStart] == space { argumentStart += 1 }
        let argument = Bytes(rebasing: trimmed[argumentStart...])
        if equalsIgnoringCase(verb, "EHLO") || equalsIgnoringCase(verb, "HELO") {
            // RFC 5321 4.1.1.1: exactly one domain or address literal.
            let extended = equalsIgnoringCase(verb, "EHLO")
            guard !argument.isEmpty, !argument.contains(space) else {
                return .failure(.syntax(extended ? "EHLO hostname" : "HELO hostname"))
            }
            return .success(extended ? .ehlo(string(argument)) : .helo(string(argument)))
        }
        if equalsIgnoringCase(verb, "DATA") { return argument.isEmpty ? .success(.data) : .failure(.syntax("DATA")) }
        if equalsIgnoringCase(verb, "RSET") { return argument.isEmpty ? .success(.rset) : .failure(.syntax("RSET")) }
        if equalsIgnoringCase(verb, "QUIT") { return argument.isEmpty ? .success(.quit) : .failure(.syntax("QUIT")) }
        // RFC 5321 4.1.1.9: the argument, if any, is ignored.
        if equalsIgnoringCase(verb, "NOOP") { return .success(.noop) }
        if equalsIgnoringCase(verb, "STARTTLS") {
            return argument.isEmpty ? .success(.starttls) : .failure(.syntax("STARTTLS"))
        }
        if equalsIgnoringCase(verb, "VRFY") {
            guard !argument.isEmpty else { return .failure(.syntax("VRFY address")) }
            return .success(.vrfy(string(argument)))
        }
        if hasPrefixIgnoringCase(trimmed, "MAIL FROM:") {
            return parseMail(Bytes(rebasing: trimmed[10...]))
        }
        if hasPrefixIgnoringCase(trimmed, "RCPT TO:") {
            return parseRcpt(Bytes(rebasing: trimmed[8...]))
        }
        if equalsIgnoringCase(verb, "MAIL") { return .failure(.syntax("MAIL FROM:<address>")) }
        if equalsIgnoringCase(verb, "RCPT") { return .failure(.syntax("RCPT TO:<address>")) }
        return .failure(.unrecognized(string(verb).uppercased()))
    }

    private static func parseMail(_ rest: Bytes) -> Result<Command, Command.ParseError> {
        guard let (path, parameterText) = splitPath(rest), path.isEmpty || isMailbox(path) else {
            return .failure(.syntax("MAIL FROM:<address>"))
        }
        var parameters: [Command.MailParameter] = []
        for (keyword, value) in parameterText {
            switch keyword {
            case "SIZE":
                guard let value, !value.isEmpty, value.count <= 18, value.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                    let size = Int(string(value))
                else {
                    return .failure(.syntax("MAIL FROM:<address> SIZE=number"))
                }
                parameters.append(.size(size))
            case "BODY":
                guard let value else { return .failure(.syntax("MAIL FROM:<address> BODY=7BIT|8BITMIME")) }
                let upper = string(value).uppercased()
                guard upper == "7BIT" || upper == "8BITMIME" else {
                    return .failure(.syntax("MAIL FROM:<address> BODY=7BIT|8BITMIME"))
                }
                parameters.append(.body(upper))
            default:
                return .failure(.unsupportedParameter(keyword))
            }
        }
        return .success(.mail(reversePath: string(path), parameters: parameters))
    }

    private static func parseRcpt(_ rest: Bytes) -> Result<Command, Command.ParseError> {
        // RFC 5321 4.1.1.3: `<Postmaster>` without a domain must be accepted.
        guard let (path, parameterText) = splitPath(rest), !path.isEmpty,
            isMailbox(path) || equalsIgnoringCase(path, "POSTMASTER")
        else { return .failure(.syntax("RCPT TO:<address>")) }
        guard parameterText.isEmpty else {
            return .failure(.unsupportedParameter(parameterText[0].keyword))
        }
        return .success(.rcpt(forwardPath: string(path)))
    }

    /// `SMTPCommand.splitPath` on bytes.
    private static func splitPath(_ rest: Bytes) -> (Bytes, [(keyword: String, value: Bytes?)])? {
        var start = 0
        while start < rest.count, rest[start] == space { start += 1 }
        let text = Bytes(rebasing: rest[start...])
        guard text.first == UInt8(ascii: "<"), let close = text.firstIndex(of: UInt8(ascii: ">")) else { return nil }
        var path = Bytes(rebasing: text[1..<close])
        if path.first == UInt8(ascii: "@") {
            guard let colon = path.firstIndex(of: UInt8(ascii: ":")) else { return nil }
            path = Bytes(rebasing: path[(colon + 1)...])
        }
        let after = Bytes(rebasing: text[(close + 1)...])
        guard after.isEmpty || after.first == space else { return nil }
        var parameters: [(String, Bytes?)] = []
        for word in after.split(separator: space) {
            let word = Bytes(rebasing: word)
            let equals = word.firstIndex(of: UInt8(ascii: "="))
            let keyword = Bytes(rebasing: word[..<(equals ?? word.count)])
            guard !keyword.isEmpty, keyword.allSatisfy(isKeywordByte) else { return nil }
            parameters.append((string(keyword).uppercased(), equals.map { Bytes(rebasing: word[($0 + 1)...]) }))
        }
        return (path, parameters)
    }

    /// `SMTPCommand.isMailbox` on bytes.
    private static func isMailbox(_ path: Bytes) -> Bool {
        guard let at = path.lastIndex(of: UInt8(ascii: "@")) else { return false }
        guard at > 0, at < path.count - 1, path.count <= 256 else { return false }
        return path.allSatisfy(SMTPCommand.isAddressByte)
    }

    /// `SMTPCommand.verb(of:)` for an ASCII line; nil for any other.
    static func verb(of line: Bytes) -> String? {
        guard line.allSatisfy({ $0 < 0x80 }) else { return nil }
        var end = 0
        while end < line.count, line[end] != space, line[end] != UInt8(ascii: ":") { end += 1 }
        return String(decoding: line[..<end].lazy.map(upper), as: UTF8.self)
    }

    private static let space = UInt8(ascii: " ")
    private static let tab = UInt8(ascii: "\t")

    private static func isKeywordByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7a) || byte == UInt8(ascii: "-")
    }

    private static func upper(_ byte: UInt8) -> UInt8 {
        byte >= 0x61 && byte <= 0x7a ? byte - 0x20 : byte
    }

    /// `bytes` upper-cased equals `word` (given in upper case).
    private static func equalsIgnoringCase(_ bytes: Bytes, _ word: StaticString) -> Bool {
        bytes.count == word.utf8CodeUnitCount && hasPrefixIgnoringCase(bytes, word)
    }

    private static func hasPrefixIgnoringCase(_ bytes: Bytes, _ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard bytes.count >= count else { return false }
        let start = word.utf8Start
        for index in 0..<count where upper(bytes[index]) != start[index] { return false }
        return true
    }

    private static func string(_ bytes: Bytes) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}

extension SMTPCommand {
    /// The reply Postfix's smtpd gives a MAIL or RCPT whose address its RFC 822 tokenizer cannot
    /// read (`smtpd.c` extract_addr(): `501 5.1.7 Bad sender address syntax`,
    /// `501 5.1.3 Bad recipient address syntax`): a `<` without its `>`, a `<CR>` in the
    /// address, a `[` without its `]`. Checked against postfix-3.7.11; nil for anything else.
    static func postfixAddressSyntaxError(_ line: String, verb: String) -> SMTPReply? {
        let reply: SMTPReply
        switch verb {
        case "MAIL": reply = SMTPReply(code: 501, enhanced: "5.1.7", "Bad sender address syntax")
        case "RCPT": reply = SMTPReply(code: 501, enhanced: "5.1.3", "Bad recipient address syntax")
        default: return nil
        }
        let bytes = Array(line.utf8)
        guard let open = bytes.firstIndex(of: UInt8(ascii: "<")) else { return nil }
        guard let close = bytes[open...].firstIndex(of: UInt8(ascii: ">")) else { return reply }
        let path = bytes[(open + 1)..<close]
        if path.contains(0x0d) { return reply }
        if let bracket = path.firstIndex(of: UInt8(ascii: "[")), !path[bracket...].contains(UInt8(ascii: "]")) {
            return reply
        }
        return nil
    }

    /// A byte an address may hold as Postfix takes it: control characters pass (checked against
    /// postfix-3.7.11: `MAIL FROM:<a<SOH>b@x>` and `RCPT TO:<b<DEL>@x>` get 250), but not NUL,
    /// <CR>, <LF>, <TAB>, space or the angle brackets.
    static func isAddressByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x00, 0x09, 0x0a, 0x0d, 0x20, UInt8(ascii: "<"), UInt8(ascii: ">"): false
        case 0x80...: false
        default: true
        }
    }
}
