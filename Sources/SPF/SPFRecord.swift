import DNSCore

/// An SPF record parsed into its terms (RFC 7208 4.6, 5, 6, 12). Pure: no DNS.
public struct SPFRecord: Sendable, Hashable, CustomStringConvertible {
    /// The record as published (TXT strings joined).
    public var text: String
    /// The mechanisms in record order.
    public var directives: [SPFDirective]
    /// `redirect=`, applied when no mechanism matches (RFC 7208 6.1).
    public var redirect: SPFModifier?
    /// `exp=`, the explanation for a `fail` (RFC 7208 6.2).
    public var explanation: SPFModifier?
    /// Modifiers this evaluator does not know, which RFC 7208 6 says to ignore.
    public var unknownModifiers: [SPFModifier]

    public var description: String { text }

    /// True when `text` is an SPF version 1 record: `v=spf1` in any case, then a space or the end (RFC 7208 4.5).
    public static func isSPFRecord(_ text: String) -> Bool {
        let scalars = Array(text.unicodeScalars.prefix(7))
        guard scalars.count >= 6 else { return false }
        guard String(String.UnicodeScalarView(scalars[0..<6])).lowercased() == "v=spf1" else { return false }
        return scalars.count == 6 || scalars[6] == " "
    }

    /// Parses a whole record, so that a syntax error anywhere is found before evaluation (RFC 7208 4.6).
    public init(parsing text: String) throws(SPFSyntaxError) {
        guard Self.isSPFRecord(text) else { throw SPFSyntaxError(.notVersion1, term: text, position: 0) }
        self.text = text
        self.directives = []
        self.redirect = nil
        self.explanation = nil
        self.unknownModifiers = []
        // RFC 7208 4.6.1: terms are separated by one or more SP; no other white space.
        let terms = text.unicodeScalars.dropFirst(6).split(separator: " ").map { String(String.UnicodeScalarView($0)) }
        for (offset, term) in terms.enumerated() {
            let position = offset + 1
            if let modifier = try Self.parseModifier(term, position: position) {
                switch modifier.name {
                case "redirect":
                    guard redirect == nil else {
                        throw SPFSyntaxError(.duplicateModifier("redirect"), term: term, position: position)
                    }
                    redirect = modifier
                case "exp":
                    guard explanation == nil else {
                        throw SPFSyntaxError(.duplicateModifier("exp"), term: term, position: position)
                    }
                    explanation = modifier
                default:
                    unknownModifiers.append(modifier)
                }
            } else {
                directives.append(try Self.parseDirective(term, position: position))
            }
        }
    }

    /// A term is a modifier when what precedes its first `=` is a modifier name:
    /// `name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )` (RFC 7208 6, 12).
    private static func parseModifier(_ term: String, position: Int) throws(SPFSyntaxError) -> SPFModifier? {
        guard let equals = term.unicodeScalars.firstIndex(of: "=") else { return nil }
        let name = term.unicodeScalars[..<equals]
        guard let first = name.first, first.isASCII, first.properties.isAlphabetic else { return nil }
        let nameIsValid = name.allSatisfy { scalar in
            scalar.isASCII
                && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "-" || scalar == "_"
                    || scalar == ".")
        }
        guard nameIsValid else { return nil }
        let lowerName = String(String.UnicodeScalarView(name)).lowercased()
        let valueText = String(
            String.UnicodeScalarView(term.unicodeScalars[term.unicodeScalars.index(after: equals)...]))
        // Known names are not "greedy" unknown modifiers: their values must be domain-specs
        // (openspf suite, redirect-syntax-error and exp-syntax-error).
        let usage: SPFMacroString.Usage = (lowerName == "redirect" || lowerName == "exp") ? .domainSpec : .modifierValue
        let value = try SPFMacroString(parsing: valueText, as: usage, term: term, position: position)
        return SPFModifier(name: lowerName, value: value, text: term)
    }

    private static func parseDirective(_ term: String, position: Int) throws(SPFSyntaxError) -> SPFDirective {
        func fail(_ kind: SPFSyntaxError.Kind) -> SPFSyntaxError {
            SPFSyntaxError(kind, term: term, position: position)
        }
        var body = Substring(term)
        var qualifier = SPFQualifier.pass
        if let first = body.first, let written = SPFQualifier(rawValue: first) {
            qualifier = written
            body = body.dropFirst()
        }
        let nameEnd = body.firstIndex { $0 == ":" || $0 == "/" } ?? body.endIndex
        let name = body[..<nameEnd].lowercased()
        let rest = body[nameEnd...]
        if let bad = term.unicodeScalars.first(where: { $0.value < 0x21 || $0.value > 0x7e }) {
            throw fail(.invalidCharacter(bad))
        }

        let mechanism: SPFMechanism
        switch name {
        case "all":
            guard rest.isEmpty else { throw fail(rest.first == "/" ? .cidrNotAllowed : .argumentNotAllowed) }
            mechanism = .all
        case "include", "exists":
            guard rest.first == ":" else { throw fail(rest.isEmpty ? .missingDomainSpec : .cidrNotAllowed) }
            let spec = try domainSpec(rest.dropFirst(), term: term, position: position, cidrAllowed: false)
            mechanism = name == "include" ? .include(spec) : .exists(spec)
        case "ptr":
            guard rest.isEmpty || rest.first == ":" else { throw fail(.cidrNotAllowed) }
            mechanism = .ptr(
                rest.isEmpty
                    ? nil : try domainSpec(rest.dropFirst(), term: term, position: position, cidrAllowed: false))
        case "a", "mx":
            let (remainder, cidr) = try splitDualCIDR(rest, fail: fail)
            var spec: SPFMacroString?
            if !remainder.isEmpty {
                guard remainder.first == ":" else { throw fail(.invalidCIDR(String(remainder))) }
                spec = try domainSpec(remainder.dropFirst(), term: term, position: position, cidrAllowed: true)
            }
            mechanism = name == "a" ? .a(spec, cidr) : .mx(spec, cidr)
        case "ip4", "ip6":
            guard rest.first == ":" else {
                throw fail(name == "ip4" ? .invalidIPv4Network("") : .invalidIPv6Network(""))
            }
            let argument = rest.dropFirst()
            let slash = argument.firstIndex(of: "/")
            let network = String(argument[..<(slash ?? argument.endIndex)])
            let family: AddressFamily = name == "ip4" ? .ipv4 : .ipv6
            guard let address = IPAddress(network), address.family == family, family == .ipv6 || !network.contains(":")
            else {
                throw fail(family == .ipv4 ? .invalidIPv4Network(network) : .invalidIPv6Network(network))
            }
            var length = family == .ipv4 ? 32 : 128
            if let slash {
                let digits = argument[argument.index(after: slash)...]
                guard let parsed = cidrLength(digits, maximum: length) else {
                    throw fail(digits.hasPrefix("/") ? .cidrNotAllowed : .invalidCIDR(String(digits)))
                }
                length = parsed
            }
            mechanism = family == .ipv4 ? .ip4(address, prefixLength: length) : .ip6(address, prefixLength: length)
        default:
            throw fail(.unknownMechanism(String(body[..<nameEnd])))
        }
        return SPFDirective(qualifier: qualifier, mechanism: mechanism, text: term)
    }

    private static func domainSpec(_ text: Substring, term: String, position: Int, cidrAllowed: Bool)
        throws(SPFSyntaxError) -> SPFMacroString
    {
        do {
            return try SPFMacroString(parsing: String(text), as: .domainSpec, term: term, position: position)
        } catch {
            // `include:example.test/24` fails the domain-end rule; say what was really meant.
            if !cidrAllowed, case .invalidDomainEnd = error.kind, let slash = text.lastIndex(of: "/"),
                text[text.index(after: slash)...].allSatisfy(\.isASCIIDigit), slash < text.index(before: text.endIndex)
            {
                throw SPFSyntaxError(.cidrNotAllowed, term: term, position: position)
            }
            throw error
        }
    }

    /// Splits `[ "/" ip4-cidr ] [ "//" ip6-cidr ]` off the end of an `a`/`mx` argument (RFC 7208 5.6).
    private static func splitDualCIDR(
        _ text: Substring, fail: (SPFSyntaxError.Kind) -> SPFSyntaxError
    ) throws(SPFSyntaxError) -> (Substring, SPFDualCIDR) {
        var remainder = text
        var cidr = SPFDualCIDR()
        func trailingLength(_ text: Substring) -> (digits: Substring, slashes: Int)? {
            let digitsStart = text.lastIndex { !$0.isASCIIDigit }.map(text.index(after:)) ?? text.startIndex
            let digits = text[digitsStart...]
            guard !digits.isEmpty, digitsStart > text.startIndex else { return nil }
            let beforeDigits = text[..<digitsStart]
            guard beforeDigits.hasSuffix("/") else { return nil }
            return (digits, beforeDigits.hasSuffix("//") ? 2 : 1)
        }
        if let found = trailingLength(remainder), found.slashes == 2 {
            guard let length = cidrLength(found.digits, maximum: 128) else {
                throw fail(.invalidCIDR("//" + found.digits))
            }
            cidr.ipv6 = length
            remainder = remainder.dropLast(found.digits.count + 2)
        }
        if let found = trailingLength(remainder), found.slashes == 1 {
            guard let length = cidrLength(found.digits, maximum: 32) else {
                throw fail(.invalidCIDR("/" + found.digits))
            }
            cidr.ipv4 = length
            remainder = remainder.dropLast(found.digits.count + 1)
        }
        return (remainder, cidr)
    }

    /// `ip4-cidr-length = "/" ("0" / %x31-39 0*1DIGIT)`, `ip6-cidr-length = "/" ("0" / %x31-39 0*2DIGIT)`, within the maximum.
    private static func cidrLength(_ digits: Substring, maximum: Int) -> Int? {
        guard !digits.isEmpty, digits.count <= 3, digits.allSatisfy(\.isASCIIDigit) else { return nil }
        guard digits == "0" || digits.first != "0" else { return nil }
        guard let value = Int(digits), value <= maximum else { return nil }
        return value
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
