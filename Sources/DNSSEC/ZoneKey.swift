import Crypto
import DNSCore
import Synchronization

/// A zone's signing key: ECDSA P-256 with SHA-256 (algorithm 13, RFC 6605), one key with the
/// SEP flag that signs every RRset of the zone (a combined signing key, as `ldns-keygen -k` makes).
///
/// Unchecked: Crypto's key type is not marked Sendable, but it is never changed once made, and
/// signing only reads it; making it again for each signature would cost a scalar multiplication.
public struct ZoneKey: @unchecked Sendable {
    public static let algorithm: UInt8 = 13
    /// Zone Key and Secure Entry Point (RFC 4034 2.1.1).
    public static let flags: UInt16 = 257
    /// SHA-256 (RFC 4509).
    public static let digestType: UInt8 = 2

    public let zone: String
    let privateKey: P256.Signing.PrivateKey
    /// DNSKEY RDATA: flags, protocol 3, algorithm, then the public key as X || Y (RFC 6605 4).
    public let dnskeyRDATA: [UInt8]
    public let keyTag: UInt16

    public init(zone: String, privateKey: P256.Signing.PrivateKey = P256.Signing.PrivateKey()) {
        self.zone = DNSName.normalize(zone)
        self.privateKey = privateKey
        let rdata = RecordWire.uint16(Self.flags) + [3, Self.algorithm] + Array(privateKey.publicKey.rawRepresentation)
        self.dnskeyRDATA = rdata
        self.keyTag = Self.keyTag(of: rdata)
    }

    /// The key tag of a DNSKEY RDATA (RFC 4034 Appendix B).
    public static func keyTag(of rdata: [UInt8]) -> UInt16 {
        var accumulator: UInt32 = 0
        for (index, byte) in rdata.enumerated() {
            accumulator += index & 1 == 1 ? UInt32(byte) : UInt32(byte) << 8
        }
        accumulator += (accumulator >> 16) & 0xffff
        return UInt16(accumulator & 0xffff)
    }

    /// The DS RDATA for this key: key tag, algorithm, digest type 2, and SHA-256 over the owner
    /// name in canonical wire form followed by the DNSKEY RDATA (RFC 4034 5.1.4).
    public var dsRDATA: [UInt8] {
        RecordWire.uint16(keyTag) + [Self.algorithm, Self.digestType] + digest
    }

    /// The DS digest.
    public var digest: [UInt8] {
        Array(SHA256.hash(data: WireName.wire(zone) + dnskeyRDATA))
    }

    /// `flags 3 13 BASE64`, the DNSKEY RDATA in presentation form.
    public var dnskeyText: String {
        "\(Self.flags) 3 \(Self.algorithm) \(Base64.encode(Array(privateKey.publicKey.rawRepresentation)))"
    }

    /// `TAG 13 2 HEX`, the DS RDATA in presentation form.
    public var dsText: String {
        "\(keyTag) \(Self.algorithm) \(Self.digestType) \(Hex.encode(digest))"
    }

    /// An ECDSA signature over `data` (SHA-256), as the 64 bytes r || s (RFC 6605 4).
    func sign(_ data: [UInt8]) throws -> [UInt8] {
        Array(try privateKey.signature(for: data).rawRepresentation)
    }
}

/// Keys kept for the life of the process, one per zone name (and a spare one per zone, whose DS
/// is the `wrong-ds` state's): a world is signed anew for every case, its keys need not be new.
public final class KeyRing: Sendable {
    public static let shared = KeyRing()

    private let keys = Mutex<[String: ZoneKey]>([:])

    public init() {}

    /// The key of `zone`.
    public func key(for zone: String) -> ZoneKey { key(named: DNSName.normalize(zone), zone: zone) }

    /// A second key of `zone` that signs nothing: the key a stale DS names.
    public func spareKey(for zone: String) -> ZoneKey { key(named: "spare " + DNSName.normalize(zone), zone: zone) }

    private func key(named name: String, zone: String) -> ZoneKey {
        keys.withLock { keys in
            if let key = keys[name] { return key }
            let key = ZoneKey(zone: zone)
            keys[name] = key
            return key
        }
    }
}

enum Hex {
    static func encode(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

enum Base64 {
    static func encode(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= bytes.count {
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            out += [
                alphabet[Int(value >> 18)], alphabet[Int((value >> 12) & 63)], alphabet[Int((value >> 6) & 63)],
                alphabet[Int(value & 63)],
            ]
            index += 3
        }
        let rest = bytes.count - index
        if rest == 1 {
            let value = UInt32(bytes[index]) << 16
            out += [
                alphabet[Int(value >> 18)], alphabet[Int((value >> 12) & 63)], UInt8(ascii: "="), UInt8(ascii: "="),
            ]
        } else if rest == 2 {
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
            out += [
                alphabet[Int(value >> 18)], alphabet[Int((value >> 12) & 63)], alphabet[Int((value >> 6) & 63)],
                UInt8(ascii: "="),
            ]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
