/// One `%{...}` macro of RFC 7208 7.1: a letter, transformers and delimiters.
public struct SPFMacro: Sendable, Hashable, CustomStringConvertible {
    /// The macro letters of RFC 7208 7.2.
    public enum Letter: Character, Sendable, Hashable, CaseIterable {
        case sender = "s", localPart = "l", senderDomain = "o", domain = "d", ip = "i"
        case validatedDomain = "p", ipVersion = "v", helo = "h"
        case clientIP = "c", receiver = "r", timestamp = "t"

        /// `c`, `r` and `t` may appear only in explanation text (RFC 7208 7.3).
        public var explanationOnly: Bool { self == .clientIP || self == .receiver || self == .timestamp }
    }

    public var letter: Letter
    /// An upper-case letter asks for URL escaping of the value (RFC 7208 7.3).
    public var urlEscape: Bool
    /// The DIGIT transformer: keep this many right-hand parts; nil keeps all.
    public var rightParts: Int?
    /// The `r` transformer: reverse the parts before keeping `rightParts`.
    public var reverse: Bool
    /// The characters the value is split on; `.` when none is given.
    public var delimiters: [Character]

    public init(
        letter: Letter, urlEscape: Bool = false, rightParts: Int? = nil, reverse: Bool = false,
        delimiters: [Character] = []
    ) {
        self.letter = letter
        self.urlEscape = urlEscape
        self.rightParts = rightParts
        self.reverse = reverse
        self.delimiters = delimiters
    }

    public var description: String {
        let letterText = urlEscape ? String(letter.rawValue).uppercased() : String(letter.rawValue)
        return "%{" + letterText + (rightParts.map(String.init) ?? "") + (reverse ? "r" : "") + String(delimiters) + "}"
    }
}

/// A parsed RFC 7208 7.1 `macro-string` (a domain-spec, an unknown modifier's value) or
/// `explain-string` (the TXT record an `exp=` names).
public struct SPFMacroString: Sendable, Hashable, CustomStringConvertible {
    public enum Piece: Sendable, Hashable {
        case literal(String)
        case macro(SPFMacro)
        /// `%%`: a percent sign.
        case percent
        /// `%_`: a space.
        case space
        /// `%-`: the URL-encoded space `%20`.
        case urlSpace
    }

    /// What the string is, which decides the characters and macro letters it may hold.
    public enum Usage: Sendable, Hashable {
        /// The target of a mechanism, `redirect=` or `exp=`: no `c`/`r`/`t`, must end in a macro or `.toplabel`.
        case domainSpec
        /// The TXT record an `exp=` points to: spaces allowed, all letters allowed (RFC 7208 6.2).
        case explanation
        /// The value of an unknown modifier: only checked for macro syntax (RFC 7208 6).
        case modifierValue
    }

    public var pieces: [Piece]
    /// The text as written.
    public var text: String

    public var description: String { text }

    /// True when expanding needs the validated domain name of the client (`%{p}`), which costs DNS lookups.
    public var usesValidatedDomain: Bool {
        pieces.contains {
            if case .macro(let macro) = $0 { return macro.letter == .validatedDomain } else { return false }
        }
    }

    /// Parses `text` for `usage`. `term` and `position` only label the error.
    public init(parsing text: String, as usage: Usage, term: String = "", position: Int = 0) throws(SPFSyntaxError) {
        func fail(_ kind: SPFSyntaxError.Kind) -> SPFSyntaxError {
            SPFSyntaxError(kind, term: term.isEmpty ? text : term, position: position)
        }
        let scalars = Array(text.unicodeScalars)
        var pieces: [Piece] = []
        var literal = String.UnicodeScalarView()
        func flush() {
            if !literal.isEmpty { pieces.append(.literal(String(literal))); literal = String.UnicodeScalarView() }
        }
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar != "%" {
                // macro-literal = %x21-24 / %x26-7E; explain-string adds SP.
                let visible = scalar.value >= 0x21 && scalar.value <= 0x7e
                guard visible || (usage == .explanation && scalar == " ") else { throw fail(.invalidCharacter(scalar)) }
                literal.append(scalar)
                index += 1
                continue
            }
            guard index + 1 < scalars.count else { throw fail(.invalidPercent) }
            switch scalars[index + 1] {
            case "%": flush(); pieces.append(.percent); index += 2
            case "_": flush(); pieces.append(.space); index += 2
            case "-": flush(); pieces.append(.urlSpace); index += 2
            case "{":
                guard let close = scalars[(index + 2)...].firstIndex(of: "}") else {
                    throw fail(.malformedMacro(String(String.UnicodeScalarView(scalars[index...]))))
                }
                let body = Array(scalars[(index + 2)..<close])
                let written = String(String.UnicodeScalarView(scalars[index...close]))
                let macro = try Self.parseMacro(body, written: written, usage: usage, fail: fail)
                flush()
                pieces.append(.macro(macro))
                index = close + 1
            default:
                throw fail(.invalidPercent)
            }
        }
        flush()
        if usage == .domainSpec {
            guard !pieces.isEmpty else { throw fail(.emptyDomainSpec) }
            if case .literal(let tail) = pieces[pieces.count - 1], !Self.endsInTopLabel(tail) {
                throw fail(.invalidDomainEnd(text))
            }
        }
        self.pieces = pieces
        self.text = text
    }

    private static func parseMacro(
        _ body: [Unicode.Scalar], written: String, usage: Usage, fail: (SPFSyntaxError.Kind) -> SPFSyntaxError
    ) throws(SPFSyntaxError) -> SPFMacro {
        guard let first = body.first else { throw fail(.malformedMacro(written)) }
        let lower = Character(first).lowercased()
        guard first.isASCII, let letter = SPFMacro.Letter(rawValue: Character(lower)) else {
            throw fail(.unknownMacroLetter(Character(first)))
        }
        if usage == .domainSpec, letter.explanationOnly { throw fail(.macroLetterOnlyInExplanation(letter.rawValue)) }
        var index = 1
        var digits = ""
        while index < body.count, body[index].value >= 0x30, body[index].value <= 0x39 {
            digits.unicodeScalars.append(body[index])
            index += 1
        }
        var rightParts: Int?
        if !digits.isEmpty {
            // More parts than a name can have all mean "all of them"; cap to stay clear of overflow.
            let value = digits.count > 3 ? 999 : Int(digits) ?? 999
            guard value > 0 else { throw fail(.zeroPartsTransformer) }
            rightParts = value
        }
        var reverse = false
        if index < body.count, body[index] == "r" || body[index] == "R" {
            reverse = true
            index += 1
        }
        var delimiters: [Character] = []
        while index < body.count {
            // delimiter = "." / "-" / "+" / "," / "/" / "_" / "="
            guard ".-+,/_=".unicodeScalars.contains(body[index]) else { throw fail(.malformedMacro(written)) }
            delimiters.append(Character(body[index]))
            index += 1
        }
        return SPFMacro(
            letter: letter, urlEscape: first != lower.unicodeScalars.first, rightParts: rightParts, reverse: reverse,
            delimiters: delimiters)
    }

    /// RFC 7208 7.1 `domain-end = ( "." toplabel [ "." ] ) / macro-expand`, for a literal tail.
    static func endsInTopLabel(_ tail: String) -> Bool {
        var text = Substring(tail)
        if text.hasSuffix(".") { text = text.dropLast() }
        guard let dot = text.lastIndex(of: ".") else { return false }
        return isTopLabel(text[text.index(after: dot)...])
    }

    /// `toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )`.
    static func isTopLabel(_ label: Substring) -> Bool {
        let bytes = Array(label.utf8)
        guard let first = bytes.first, let last = bytes.last else { return false }
        func isAlpha(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7a }
        func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
        guard bytes.allSatisfy({ isAlpha($0) || isDigit($0) || $0 == 0x2d }) else { return false }
        guard first != 0x2d, last != 0x2d else { return false }
        return bytes.contains(where: isAlpha) || bytes.contains(0x2d)
    }
}
