import Crypto
import _CryptoExtras
import Foundation

/// A private key a signer uses: RSA (1024 or 2048 bits and up) or Ed25519.
public enum DKIMSigningKey: Sendable {
    case rsa(_RSA.Signing.PrivateKey)
    /// The 32-byte seed (Crypto's key type is not Sendable; it is made again when used).
    case ed25519([UInt8])

    /// A new key for `algorithm`; `bits` for RSA (1024 or more).
    public static func generate(_ algorithm: DKIMAlgorithm, bits: Int = 2048) throws(DKIMKeyError) -> DKIMSigningKey {
        switch algorithm {
        case .ed25519SHA256:
            return .ed25519(Array(Curve25519.Signing.PrivateKey().rawRepresentation))
        case .rsaSHA256, .rsaSHA1:
            guard bits >= 1024, bits <= 4096, bits % 8 == 0 else { throw .unsupportedSize(bits) }
            do { return .rsa(try _RSA.Signing.PrivateKey(unsafeKeySize: .init(bitCount: bits))) } catch {
                throw .generationFailed("\(error)")
            }
        }
    }

    /// Reads a key: a PEM RSA key (PKCS#1 or PKCS#8), a PEM Ed25519 key (PKCS#8), or the base64 of
    /// the 32-byte Ed25519 seed (as RFC 8463 Appendix A gives it).
    public init(text: String) throws(DKIMKeyError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("-----BEGIN") {
            if let key = try? _RSA.Signing.PrivateKey(unsafePEMRepresentation: trimmed) {
                self = .rsa(key)
                return
            }
            if let seed = Self.ed25519Seed(pem: trimmed) {
                self = .ed25519(seed)
                return
            }
            throw .unreadable("a PEM block that is neither an RSA key of 1024 bits or more nor an Ed25519 key")
        }
        guard let seed = Data(base64Encoded: trimmed), seed.count == 32,
            (try? Curve25519.Signing.PrivateKey(rawRepresentation: seed)) != nil
        else {
            throw .unreadable("neither PEM nor the base64 of a 32-byte Ed25519 seed")
        }
        self = .ed25519(Array(seed))
    }

    public var algorithm: DKIMAlgorithm {
        switch self {
        case .rsa: .rsaSHA256
        case .ed25519: .ed25519SHA256
        }
    }

    /// p= for the key record: SubjectPublicKeyInfo DER for RSA, the raw 32 bytes for Ed25519, in base64.
    public var publicKeyBase64: String {
        switch self {
        case .rsa(let key): key.publicKey.derRepresentation.base64EncodedString()
        case .ed25519(let seed): Self.ed25519(seed).publicKey.rawRepresentation.base64EncodedString()
        }
    }

    /// RFC 8410 7: a PKCS#8 Ed25519 private key is this DER prefix and the 32-byte seed.
    static let ed25519PKCS8Prefix: [UInt8] = [
        0x30, 0x2E, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
    ]

    static func ed25519Seed(pem: String) -> [UInt8]? {
        let body = pem.split(whereSeparator: \.isNewline).filter { !$0.hasPrefix("-----") }.joined()
        guard let der = Data(base64Encoded: body).map(Array.init), der.count == 48,
            der.starts(with: ed25519PKCS8Prefix)
        else { return nil }
        return Array(der.suffix(32))
    }

    static func ed25519(_ seed: [UInt8]) -> Curve25519.Signing.PrivateKey {
        // The seed was read by this same initialiser when the key was made.
        try! Curve25519.Signing.PrivateKey(rawRepresentation: seed)
    }

    /// The key record to publish at `selector._domainkey.domain`, with extra tags (`t=y`) if given.
    public func keyRecord(flags: String? = nil) -> String {
        var text = "v=DKIM1; k=\(algorithm.keyType)"
        if let flags { text += "; t=\(flags)" }
        return text + "; p=\(publicKeyBase64)"
    }

    /// The private key as PEM (PKCS#8 for both kinds), for writing into a case's artifacts.
    public var pem: String {
        switch self {
        case .rsa(let key): key.pkcs8PEMRepresentation
        case .ed25519(let seed):
            "-----BEGIN PRIVATE KEY-----\n" + Data(Self.ed25519PKCS8Prefix + seed).base64EncodedString()
                + "\n-----END PRIVATE KEY-----\n"
        }
    }

    func sign(_ digest: SHA256.Digest) throws(DKIMKeyError) -> [UInt8] {
        do {
            switch self {
            case .rsa(let key):
                return Array(try key.signature(for: digest, padding: .insecurePKCS1v1_5).rawRepresentation)
            case .ed25519(let seed): return Array(try Self.ed25519(seed).signature(for: Array(digest)))
            }
        } catch {
            throw .signingFailed("\(error)")
        }
    }
}

public enum DKIMKeyError: Error, Sendable, Hashable, CustomStringConvertible {
    case unsupportedSize(Int)
    case generationFailed(String)
    case unreadable(String)
    case signingFailed(String)

    public var description: String {
        switch self {
        case .unsupportedSize(let bits):
            "an RSA signing key of \(bits) bits is not supported (1024 to 4096, a multiple of 8)"
        case .generationFailed(let why): "key generation failed: \(why)"
        case .unreadable(let why): "the private key is unreadable: \(why)"
        case .signingFailed(let why): "signing failed: \(why)"
        }
    }
}
