import Crypto
import _CryptoExtras
import Foundation

/// A private key a signer uses: RSA (1024 or 2048 bits and up) or Ed25519.
public enum DKIMSigningKey: Sendable {
    case rsa(_RSA.Signing.PrivateKey)
    case ed25519(Curve25519.Signing.PrivateKey)

    /// A new key for `algorithm`; `bits` for RSA (1024 or more).
    public static func generate(_ algorithm: DKIMAlgorithm, bits: Int = 2048) throws(DKIMKeyError) -> DKIMSigningKey {
        switch algorithm {
        case .ed25519SHA256:
            return .ed25519(Curve25519.Signing.PrivateKey())
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
            if let key = try? Curve25519.Signing.PrivateKey(pemRepresentation: trimmed) {
                self = .ed25519(key)
                return
            }
            throw .unreadable("a PEM block that is neither an RSA key of 1024 bits or more nor an Ed25519 key")
        }
        guard let seed = Data(base64Encoded: trimmed), seed.count == 32,
              let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: seed) else {
            throw .unreadable("neither PEM nor the base64 of a 32-byte Ed25519 seed")
        }
        self = .ed25519(key)
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
        case .ed25519(let key): key.publicKey.rawRepresentation.base64EncodedString()
        }
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
        case .ed25519(let key): key.pemRepresentation
        }
    }

    func sign(_ digest: SHA256.Digest) throws(DKIMKeyError) -> [UInt8] {
        do {
            switch self {
            case .rsa(let key): return Array(try key.signature(for: digest, padding: .insecurePKCS1v1_5).rawRepresentation)
            case .ed25519(let key): return Array(try key.signature(for: Array(digest)))
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
        case .unsupportedSize(let bits): "an RSA signing key of \(bits) bits is not supported (1024 to 4096, a multiple of 8)"
        case .generationFailed(let why): "key generation failed: \(why)"
        case .unreadable(let why): "the private key is unreadable: \(why)"
        case .signingFailed(let why): "signing failed: \(why)"
        }
    }
}
