/// A syntax error in an SPF record. RFC 7208 4.6: any syntax error anywhere in the record makes
/// `check_host()` return `permerror`, so the whole record is parsed before any term is evaluated.
public struct SPFSyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The record does not start with `v=spf1` followed by a space or its end (RFC 7208 4.5).
        case notVersion1
        /// A term that is neither a known mechanism nor a well-formed modifier (RFC 7208 4.6.1, 5).
        case unknownMechanism(String)
        /// `include` or `exists` without `:domain-spec` (RFC 7208 5.2, 5.7).
        case missingDomainSpec
        /// `a:`, `include:`, `redirect=`: the domain-spec after the separator is empty.
        case emptyDomainSpec
        /// The domain-spec does not end in a macro or in `.toplabel` (RFC 7208 7.1 `domain-end`).
        case invalidDomainEnd(String)
        /// A character outside the visible ASCII range (0x21-0x7E) where RFC 7208 7.1 allows only those.
        case invalidCharacter(Unicode.Scalar)
        /// A `%` not followed by `{`, `%`, `_` or `-` (RFC 7208 7.1).
        case invalidPercent
        /// A `%{...}` that is not `%{letter digits r delimiters}` (RFC 7208 7.1).
        case malformedMacro(String)
        /// A macro letter outside `slodipvhcrt` (RFC 7208 7.2).
        case unknownMacroLetter(Character)
        /// `c`, `r` or `t` outside an explanation string (RFC 7208 7.3).
        case macroLetterOnlyInExplanation(Character)
        /// A DIGIT transformer of zero (RFC 7208 7.3: it MUST be nonzero).
        case zeroPartsTransformer
        /// A CIDR length that is malformed, has a leading zero, or exceeds 32 / 128 (RFC 7208 5.6).
        case invalidCIDR(String)
        /// A CIDR length on a mechanism that takes none (`all`, `include`, `exists`, `ptr`, or a dual length on `ip4`/`ip6`).
        case cidrNotAllowed
        /// An argument on `all` (RFC 7208 5.1: `all` takes nothing).
        case argumentNotAllowed
        /// `ip4:` without a valid dotted-quad network (RFC 7208 5.6).
        case invalidIPv4Network(String)
        /// `ip6:` without a valid RFC 4291 network (RFC 7208 5.6).
        case invalidIPv6Network(String)
        /// `redirect=` or `exp=` given twice (RFC 7208 6).
        case duplicateModifier(String)
    }

    public var kind: Kind
    /// The offending term as written.
    public var term: String
    /// Its 1-based position among the record's terms (after `v=spf1`); 0 for the version itself.
    public var position: Int

    public init(_ kind: Kind, term: String, position: Int) {
        self.kind = kind
        self.term = term
        self.position = position
    }

    public var description: String {
        let place = position == 0 ? "the version" : "term \(position) \"\(term)\""
        return "\(place): \(problem)"
    }

    /// What is wrong and how to fix it, in a postmaster's words.
    public var problem: String {
        switch kind {
        case .notVersion1:
            "an SPF record starts with \"v=spf1\" followed by a space or the end of the record"
        case .unknownMechanism(let name):
            "unknown mechanism \"\(name)\"; use one of all, include, a, mx, ptr, ip4, ip6, exists, or a name=value modifier"
        case .missingDomainSpec:
            "this mechanism needs \":domain\" (RFC 7208 5.2, 5.7)"
        case .emptyDomainSpec:
            "the domain after the separator is empty"
        case .invalidDomainEnd(let spec):
            "\"\(spec)\" must end in a macro or in a top-level label such as \".example\" that is not all digits (RFC 7208 7.1)"
        case .invalidCharacter(let scalar):
            "character U+\(String(scalar.value, radix: 16, uppercase: true)) is not allowed; terms are visible ASCII separated by single spaces (RFC 7208 4.6.1, 7.1)"
        case .invalidPercent:
            "a \"%\" must be followed by \"{\", \"%\", \"_\" or \"-\"; write \"%%\" for a literal percent sign (RFC 7208 7.1)"
        case .malformedMacro(let macro):
            "malformed macro \"\(macro)\"; the form is %{letter digits r delimiters} (RFC 7208 7.1)"
        case .unknownMacroLetter(let letter):
            "unknown macro letter \"\(letter)\"; the letters are s l o d i p v h, and c r t in explanations (RFC 7208 7.2)"
        case .macroLetterOnlyInExplanation(let letter):
            "macro letter \"\(letter)\" is allowed only in explanation text (RFC 7208 7.3)"
        case .zeroPartsTransformer:
            "a macro's digit transformer must be nonzero (RFC 7208 7.3)"
        case .invalidCIDR(let text):
            "invalid CIDR length \"\(text)\"; IPv4 lengths are 0-32, IPv6 lengths 0-128, without leading zeros (RFC 7208 5.6)"
        case .cidrNotAllowed:
            "this mechanism takes no CIDR length (RFC 7208 5)"
        case .argumentNotAllowed:
            "\"all\" takes no argument (RFC 7208 5.1)"
        case .invalidIPv4Network(let text):
            "\"\(text)\" is not a dotted-quad IPv4 address (RFC 7208 5.6)"
        case .invalidIPv6Network(let text):
            "\"\(text)\" is not an IPv6 address (RFC 7208 5.6)"
        case .duplicateModifier(let name):
            "\"\(name)=\" appears more than once; redirect and exp may appear at most once each (RFC 7208 6)"
        }
    }
}
