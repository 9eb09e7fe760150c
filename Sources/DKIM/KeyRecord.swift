import Foundation

/// A DKIM key record, the TXT record at `selector._domainkey.domain` (RFC 6376 3.6.1).
public struct DKIMKeyRecord: Sendable, Hashable {
    public var tags: TagList
    /// `k=`, lowercased; `rsa` when absent.
    public var keyType: String
    /// `h=`: the hash algorithms allowed; nil when absent (all allowed).
    public var hashAlgorithms: [String]?
    /// `s=`: the service types; `*` when absent.
    public var services: [String]
    /// `t=` flags (`y` testing, `s` no subdomains in i=).
    public var flags: [String]
    /// `p=` decoded; empty when the key is revoked.
    public var publicKey: [UInt8]

    public var isRevoked: Bool { publicKey.isEmpty }
    /// `t=y`: RFC 6376 3.6.1 says verifiers must treat such messages like unsigned ones.
    public var isTesting: Bool { flags.contains("y") }
    /// `t=s`: the i= domain must be d= itself.
    public var isStrict: Bool { flags.contains("s") }

    public init(text: String) throws(DKIMKeyRecordError) {
        do { tags = try TagList(parsing: text) } catch { throw .syntax(error) }
        if let v = tags["v"] {
            guard tags.tags.first?.name == "v" else { throw .versionNotFirst }
            guard v == "DKIM1" else { throw .unsupportedVersion(v) }
        }
        keyType = (tags["k"] ?? "rsa").lowercased()
        hashAlgorithms = tags["h"].map { $0.split(separator: ":").map { String(TagList.trimFWS($0)).lowercased() } }
        services = (tags["s"] ?? "*").split(separator: ":").map { String(TagList.trimFWS($0)).lowercased() }
        flags = (tags["t"] ?? "").split(separator: ":").map { String(TagList.trimFWS($0)).lowercased() }
        guard let p = tags["p"] else { throw .syntax(.missingTag("p")) }
        let compact = TagList.withoutFWS(p)
        if compact.isEmpty {
            publicKey = []
        } else {
            guard let data = Data(base64Encoded: compact) else { throw .badBase64 }
            publicKey = [UInt8](data)
        }
    }

    /// The checks of RFC 6376 6.1.2 between a signature and this record, before the key is decoded.
    public func check(for signature: DKIMSignature) throws(DKIMKeyRecordError) {
        guard !isRevoked else { throw .revoked }
        guard keyType == signature.algorithm.keyType else {
            throw .keyTypeMismatch(record: keyType, signature: signature.algorithm.rawValue)
        }
        if let hashAlgorithms, !hashAlgorithms.contains(signature.algorithm.hashName) {
            throw .hashNotAllowed(signature.algorithm.hashName, allowed: hashAlgorithms)
        }
        guard services.contains("*") || services.contains("email") else { throw .serviceNotEmail(services) }
        if isStrict {
            let identityDomain = signature.identity.split(separator: "@").last.map { $0.lowercased() } ?? ""
            guard identityDomain == signature.domain else {
                throw .strictIdentity(identity: signature.identity, domain: signature.domain)
            }
        }
    }

    /// The public key of this record for a signature's algorithm, with RFC 8301's size rule.
    public func key(for algorithm: DKIMAlgorithm) throws(DKIMKeyRecordError) -> DKIMPublicKey {
        try DKIMPublicKey(algorithm: algorithm, bytes: publicKey)
    }
}

/// Why a key record cannot verify a signature.
public enum DKIMKeyRecordError: Error, Sendable, Hashable, CustomStringConvertible {
    case syntax(DKIMSyntaxError)
    case versionNotFirst
    case unsupportedVersion(String)
    case badBase64
    case revoked
    case keyTypeMismatch(record: String, signature: String)
    case hashNotAllowed(String, allowed: [String])
    case serviceNotEmail([String])
    case strictIdentity(identity: String, domain: String)
    case unsupportedKeyType(String)
    case malformedKey(String)
    /// RFC 8301 3.2: verifiers must not consider signatures with RSA keys under 1024 bits valid.
    case keyTooSmall(bits: Int)
    case keyTooLarge(bits: Int)

    public var description: String {
        switch self {
        case .syntax(let error): "key record syntax: \(error)"
        case .versionNotFirst: "key record: v= must be the first tag (RFC 6376 3.6.1)"
        case .unsupportedVersion(let v): "key record: v=\(v) is not DKIM1"
        case .badBase64: "key record: p= is not base64"
        case .revoked: "key revoked (empty p=)"
        case .keyTypeMismatch(let record, let signature): "key record k=\(record) does not fit a=\(signature)"
        case .hashNotAllowed(let hash, let allowed):
            "key record h=\(allowed.joined(separator: ":")) does not allow \(hash)"
        case .serviceNotEmail(let services): "key record s=\(services.joined(separator: ":")) is not for email"
        case .strictIdentity(let i, let d): "key record t=s: i=\(i) must be in d=\(d) itself"
        case .unsupportedKeyType(let k): "key record k=\(k) is not supported (rsa, ed25519)"
        case .malformedKey(let why): "key record p= is not a usable key: \(why)"
        case .keyTooSmall(let bits): "RSA key of \(bits) bits: RFC 8301 3.2 refuses keys under 1024 bits"
        case .keyTooLarge(let bits): "RSA key of \(bits) bits: larger than the 8192 bits this verifier accepts"
        }
    }
}
