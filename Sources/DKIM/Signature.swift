import Foundation

/// The signing algorithms of the `a=` tag.
public enum DKIMAlgorithm: String, Sendable, Hashable, Codable, CaseIterable {
    case rsaSHA256 = "rsa-sha256"
    case ed25519SHA256 = "ed25519-sha256"
    /// Recognised only to be refused: RFC 8301 3.1 says verifiers must not accept rsa-sha1.
    case rsaSHA1 = "rsa-sha1"

    /// The `k=` key type the algorithm needs.
    public var keyType: String { self == .ed25519SHA256 ? "ed25519" : "rsa" }
    /// The `h=` hash name of the key record.
    public var hashName: String { self == .rsaSHA1 ? "sha1" : "sha256" }
}

/// A parsed DKIM-Signature header field (RFC 6376 3.5).
public struct DKIMSignature: Sendable, Hashable {
    public var tags: TagList
    public var algorithm: DKIMAlgorithm
    public var signature: [UInt8]
    public var bodyHash: [UInt8]
    public var canonicalization: CanonicalizationPair
    /// `d=`, lowercased.
    public var domain: String
    /// `h=`, lowercased, in order.
    public var signedHeaders: [String]
    /// `i=`; `@d` when absent.
    public var identity: String
    /// `l=`.
    public var bodyLength: Int?
    /// `s=`.
    public var selector: String
    /// `t=` and `x=`, seconds since the epoch.
    public var timestamp: Int?
    public var expiration: Int?

    /// The name whose TXT record holds the key (`s._domainkey.d`).
    public var keyName: String { "\(selector)._domainkey.\(domain)" }

    /// `d=football.example.com s=brisbane a=ed25519-sha256`, for decision records.
    public var label: String { "d=\(domain) s=\(selector) a=\(algorithm.rawValue)" }

    /// Reads and checks the tag list of a DKIM-Signature value (RFC 6376 6.1.1 checks that need
    /// no clock and no key).
    public init(value: String) throws(DKIMSignatureError) {
        let tags: TagList
        do { tags = try TagList(parsing: value) } catch { throw .syntax(error) }
        self.tags = tags
        func required(_ name: String) throws(DKIMSignatureError) -> String {
            guard let value = tags[name] else { throw .syntax(.missingTag(name)) }
            return value
        }
        guard try required("v") == "1" else { throw .unsupportedVersion(tags["v"] ?? "") }
        let a = try required("a")
        guard let algorithm = DKIMAlgorithm(rawValue: a.lowercased()) else { throw .unsupportedAlgorithm(a) }
        self.algorithm = algorithm
        guard let b = Self.base64(try required("b")) else {
            throw .syntax(.badValue(tag: "b", value: tags["b"]!, expected: "base64"))
        }
        guard let bh = Self.base64(try required("bh")) else {
            throw .syntax(.badValue(tag: "bh", value: tags["bh"]!, expected: "base64"))
        }
        signature = b
        bodyHash = bh
        if let c = tags["c"] {
            guard let pair = CanonicalizationPair(tag: c) else {
                throw .syntax(.badValue(tag: "c", value: c, expected: "simple or relaxed, as header/body"))
            }
            canonicalization = pair
        } else {
            canonicalization = CanonicalizationPair()
        }
        let d = try required("d")
        guard Self.isDomain(d) else { throw .syntax(.badValue(tag: "d", value: d, expected: "a domain name")) }
        domain = d.lowercased()
        let s = try required("s")
        guard Self.isSelector(s) else {
            throw .syntax(.badValue(tag: "s", value: s, expected: "a selector (dot-separated labels)"))
        }
        selector = s.lowercased()
        signedHeaders = try required("h").split(separator: ":").map { String(TagList.trimFWS($0)).lowercased() }
        guard signedHeaders.contains("from") else { throw .fromNotSigned }
        guard !signedHeaders.contains(where: \.isEmpty) else {
            throw .syntax(.badValue(tag: "h", value: tags["h"]!, expected: "header names separated by ':'"))
        }
        identity = tags["i"] ?? "@\(domain)"
        guard let at = identity.lastIndex(of: "@") else {
            throw .syntax(.badValue(tag: "i", value: identity, expected: "[local-part]@domain"))
        }
        let identityDomain = identity[identity.index(after: at)...].lowercased()
        guard identityDomain == domain || identityDomain.hasSuffix("." + domain) else {
            throw .identityOutsideDomain(identity: identity, domain: domain)
        }
        if let q = tags["q"] {
            guard q.split(separator: ":").contains(where: { TagList.trimFWS($0).lowercased() == "dns/txt" }) else {
                throw .unsupportedQuery(q)
            }
        }
        bodyLength = try Self.number(tags, "l")
        timestamp = try Self.number(tags, "t")
        expiration = try Self.number(tags, "x")
        if let t = timestamp, let x = expiration, x < t { throw .expiresBeforeSigned(t: t, x: x) }
    }

    /// Reads a DKIM-Signature header field.
    public init(field: DKIMMessage.Field) throws(DKIMSignatureError) {
        try self.init(value: String(decoding: field.value, as: UTF8.self))
    }

    static func number(_ tags: TagList, _ name: String) throws(DKIMSignatureError) -> Int? {
        guard let text = tags[name] else { return nil }
        // RFC 6376: at most 76 digits; values past Int are refused rather than wrapped.
        guard !text.isEmpty, text.count <= 18, text.allSatisfy(\.isASCIIDigit), let value = Int(text) else {
            throw .syntax(.badValue(tag: name, value: text, expected: "a decimal number"))
        }
        return value
    }

    static func base64(_ text: String) -> [UInt8]? {
        let compact = TagList.withoutFWS(text)
        guard let data = Data(base64Encoded: compact) else { return nil }
        return [UInt8](data)
    }

    static func isDomain(_ text: String) -> Bool {
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        guard !text.isEmpty, text.utf8.count <= 253, labels.count >= 1 else { return false }
        return labels.allSatisfy(isLabel)
    }

    /// A selector as s= takes it (dot-separated labels).
    public static func isValidSelector(_ text: String) -> Bool { isSelector(text) }

    static func isSelector(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 200
            && text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy(isLabel)
    }

    static func isLabel(_ label: Substring) -> Bool {
        guard !label.isEmpty, label.utf8.count <= 63, label.first != "-", label.last != "-" else { return false }
        return label.unicodeScalars.allSatisfy {
            $0.isASCIILetter || ("0"..."9").contains($0) || $0 == "-" || $0 == "_"
        }
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

/// Why a DKIM-Signature field cannot be used (RFC 6376 6.1.1: PERMFAIL).
public enum DKIMSignatureError: Error, Sendable, Hashable, CustomStringConvertible {
    case syntax(DKIMSyntaxError)
    case unsupportedVersion(String)
    case unsupportedAlgorithm(String)
    case fromNotSigned
    case identityOutsideDomain(identity: String, domain: String)
    case unsupportedQuery(String)
    case expiresBeforeSigned(t: Int, x: Int)

    public var description: String {
        switch self {
        case .syntax(let error): "signature syntax: \(error)"
        case .unsupportedVersion(let v): "signature version v=\(v) is not 1"
        case .unsupportedAlgorithm(let a): "algorithm a=\(a) is not supported (rsa-sha256, ed25519-sha256)"
        case .fromNotSigned: "h= does not include From (RFC 6376 5.4)"
        case .identityOutsideDomain(let i, let d): "i=\(i) is not in d=\(d) or below it"
        case .unsupportedQuery(let q): "q=\(q) does not include dns/txt"
        case .expiresBeforeSigned(let t, let x): "x=\(x) is before t=\(t)"
        }
    }
}
