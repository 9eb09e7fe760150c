import Crypto
import _CryptoExtras
import Foundation

/// A verification key from a key record's p=: RSA (SubjectPublicKeyInfo or RSAPublicKey DER) or
/// Ed25519 (the 32 raw bytes, RFC 8463 4).
public enum DKIMPublicKey: Sendable {
    case rsa(_RSA.Signing.PublicKey, bits: Int)
    /// The 32 raw bytes (Crypto's key type is not Sendable; it is made again for each check).
    case ed25519([UInt8])

    public init(algorithm: DKIMAlgorithm, bytes: [UInt8]) throws(DKIMKeyRecordError) {
        switch algorithm {
        case .ed25519SHA256:
            guard bytes.count == 32 else { throw .malformedKey("an Ed25519 key is 32 bytes, this one \(bytes.count)") }
            guard (try? Curve25519.Signing.PublicKey(rawRepresentation: bytes)) != nil else {
                throw .malformedKey("not an Ed25519 point")
            }
            self = .ed25519(bytes)
        case .rsaSHA256, .rsaSHA1:
            guard let (modulus, exponent) = DER.rsaPublicKey(bytes) else {
                throw .malformedKey("not an RSA public key in DER (SubjectPublicKeyInfo or RSAPublicKey)")
            }
            let bits = DER.bitLength(modulus)
            guard bits >= 1024 else { throw .keyTooSmall(bits: bits) }
            guard bits <= 8192 else { throw .keyTooLarge(bits: bits) }
            guard (2...64).contains(DER.bitLength(exponent)) else { throw .malformedKey("unusable public exponent") }
            do { self = .rsa(try _RSA.Signing.PublicKey(n: modulus, e: exponent), bits: bits) } catch {
                throw .malformedKey("rejected by the RSA library")
            }
        }
    }

    /// `rsa 2048 bits`, `ed25519`.
    public var summary: String {
        switch self {
        case .rsa(_, let bits): "rsa \(bits) bits"
        case .ed25519: "ed25519"
        }
    }

    /// Whether `signature` signs the SHA-256 `digest` of the header data: RSASSA-PKCS1-v1_5 for
    /// rsa-sha256 (RFC 6376 3.3.1), PureEdDSA over the digest for ed25519-sha256 (RFC 8463 3).
    public func verifies(_ signature: [UInt8], digest: SHA256.Digest) -> Bool {
        switch self {
        case .rsa(let key, let bits):
            guard signature.count == (bits + 7) / 8 else { return false }
            return key.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature), for: digest, padding: .insecurePKCS1v1_5)
        case .ed25519(let raw):
            guard signature.count == 64, let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else {
                return false
            }
            return key.isValidSignature(signature, for: Array(digest))
        }
    }
}

/// Just enough DER to find an RSA modulus and exponent, bounds-checked throughout.
enum DER {
    /// (modulus, exponent) of a SubjectPublicKeyInfo with an RSA key, or of a bare RSAPublicKey.
    static func rsaPublicKey(_ bytes: [UInt8]) -> ([UInt8], [UInt8])? {
        guard let (tag, outer, rest) = element(bytes[...]), tag == 0x30, rest.isEmpty else { return nil }
        // RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }
        if let pair = integerPair(outer) { return pair }
        // SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }
        guard let (algTag, algorithm, afterAlg) = element(outer), algTag == 0x30,
            let (oidTag, oid, _) = element(algorithm), oidTag == 0x06,
            // 1.2.840.113549.1.1.1 rsaEncryption
            oid.elementsEqual([0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01]),
            let (bitTag, bitString, end) = element(afterAlg), bitTag == 0x03, end.isEmpty,
            bitString.first == 0,
            let (innerTag, inner, innerRest) = element(bitString.dropFirst()), innerTag == 0x30, innerRest.isEmpty
        else { return nil }
        return integerPair(inner)
    }

    private static func integerPair(_ bytes: ArraySlice<UInt8>) -> ([UInt8], [UInt8])? {
        guard let (t1, n, rest) = element(bytes), t1 == 0x02,
            let (t2, e, end) = element(rest), t2 == 0x02, end.isEmpty,
            !n.isEmpty, !e.isEmpty
        else { return nil }
        return (Array(n.drop { $0 == 0 }), Array(e.drop { $0 == 0 }))
    }

    /// One TLV: tag, contents, and what follows.
    static func element(_ bytes: ArraySlice<UInt8>) -> (UInt8, ArraySlice<UInt8>, ArraySlice<UInt8>)? {
        var index = bytes.startIndex
        guard index < bytes.endIndex else { return nil }
        let tag = bytes[index]
        index += 1
        guard index < bytes.endIndex else { return nil }
        var length = Int(bytes[index])
        index += 1
        if length & 0x80 != 0 {
            let count = length & 0x7F
            guard count >= 1, count <= 4 else { return nil }
            length = 0
            for _ in 0..<count {
                guard index < bytes.endIndex else { return nil }
                length = length << 8 | Int(bytes[index])
                index += 1
            }
        }
        guard length >= 0, length <= bytes.endIndex - index else { return nil }
        return (tag, bytes[index..<(index + length)], bytes[(index + length)...])
    }

    static func bitLength(_ bytes: [UInt8]) -> Int {
        guard let first = bytes.first(where: { $0 != 0 }) else { return 0 }
        let significant = bytes.count - (bytes.firstIndex(of: first) ?? 0)
        return (significant - 1) * 8 + (8 - first.leadingZeroBitCount)
    }
}
