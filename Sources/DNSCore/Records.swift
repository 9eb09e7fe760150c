/// The record types mxharness serves and looks up.
public enum RecordType: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    case a = "A"
    case aaaa = "AAAA"
    case ptr = "PTR"
    case mx = "MX"
    case txt = "TXT"
    case cname = "CNAME"
    case ns = "NS"
    case soa = "SOA"
    case tlsa = "TLSA"

    /// The RR type number (RFC 1035 3.2.2, RFC 3596, RFC 6698 7.1).
    public var code: UInt16 {
        switch self {
        case .a: 1
        case .ns: 2
        case .cname: 5
        case .soa: 6
        case .ptr: 12
        case .mx: 15
        case .txt: 16
        case .aaaa: 28
        case .tlsa: 52
        }
    }

    public init?(code: UInt16) {
        guard let match = RecordType.allCases.first(where: { $0.code == code }) else { return nil }
        self = match
    }

    public var description: String { rawValue }

    /// The address record type for a family.
    public static func address(_ family: AddressFamily) -> RecordType { family == .ipv4 ? .a : .aaaa }
}

/// The data of one resource record. Names are normalized (lower case, no trailing dot).
public enum RecordData: Sendable, Hashable, CustomStringConvertible {
    case a(IPAddress)
    case aaaa(IPAddress)
    case ptr(String)
    case mx(preference: UInt16, exchange: String)
    /// The character-strings of one TXT record, unjoined (RFC 7208 3.3 joins them with nothing between).
    case txt([[UInt8]])
    case cname(String)
    case ns(String)
    case soa(
        mname: String, rname: String, serial: UInt32, refresh: UInt32, retry: UInt32, expire: UInt32, minimum: UInt32)
    /// A TLSA record (RFC 6698 2.1): certificate usage, selector, matching type and the
    /// association data, which in a scenario may stand for the receiver's certificate.
    case tlsa(usage: UInt8, selector: UInt8, matching: UInt8, data: TLSAData)

    public var type: RecordType {
        switch self {
        case .a: .a
        case .aaaa: .aaaa
        case .ptr: .ptr
        case .mx: .mx
        case .txt: .txt
        case .cname: .cname
        case .ns: .ns
        case .soa: .soa
        case .tlsa: .tlsa
        }
    }

    /// The joined text of a TXT record, decoded as UTF-8 with invalid bytes replaced.
    public var text: String? {
        guard case .txt(let strings) = self else { return nil }
        return String(decoding: strings.joined(), as: UTF8.self)
    }

    public var address: IPAddress? {
        switch self {
        case .a(let address), .aaaa(let address): address
        default: nil
        }
    }

    /// Presentation format of the rdata, as in a zone file.
    public var description: String {
        switch self {
        case .a(let address), .aaaa(let address): address.description
        case .ptr(let name), .cname(let name), .ns(let name): DNSName.presentation(name)
        case .mx(let preference, let exchange): "\(preference) \(DNSName.presentation(exchange))"
        case .txt(let strings): strings.map(Self.quote).joined(separator: " ")
        case .soa(let mname, let rname, let serial, let refresh, let retry, let expire, let minimum):
            "\(DNSName.presentation(mname)) \(DNSName.presentation(rname)) \(serial) \(refresh) \(retry) \(expire) \(minimum)"
        case .tlsa(let usage, let selector, let matching, let data): "\(usage) \(selector) \(matching) \(data)"
        }
    }

    /// Quotes one character-string for a zone file: `"` and `\` escaped, bytes outside printable ASCII as `\DDD`.
    public static func quote(_ bytes: [UInt8]) -> String {
        var out = "\""
        for byte in bytes {
            switch byte {
            case 0x22: out += "\\\""
            case 0x5c: out += "\\\\"
            // A quote mark is escaped too, so the line can sit inside unbound.conf's '...'.
            case 0x27: out += "\\039"
            case 0x20...0x7e: out.append(Character(Unicode.Scalar(byte)))
            default:
                let digits = String(byte)
                out += "\\" + String(repeating: "0", count: 3 - digits.count) + digits
            }
        }
        return out + "\""
    }
}

/// One resource record: owner, TTL and data.
public struct ResourceRecord: Sendable, Hashable, CustomStringConvertible {
    public var owner: String
    public var ttl: UInt32
    public var data: RecordData

    public init(owner: String, ttl: UInt32 = 300, data: RecordData) {
        self.owner = DNSName.normalize(owner)
        self.ttl = ttl
        self.data = data
    }

    public var type: RecordType { data.type }

    /// The record as one zone-file line: `owner. TTL IN TYPE RDATA`.
    public var description: String {
        "\(DNSName.presentation(owner)) \(ttl) IN \(data.type) \(data)"
    }
}

/// The certificate association data of a TLSA record: bytes, or (in a scenario, before the run's
/// certificates exist) a stand-in for a digest of the receiver's certificate (format 1.2) or of its
/// issuer's (docs/format-extensions.md, "DANE").
public enum TLSAData: Sendable, Hashable, CustomStringConvertible {
    case bytes([UInt8])
    /// `receiver-key`: the SHA-256 digest of the receiver certificate's SubjectPublicKeyInfo
    /// (what `3 1 1` matches).
    case receiverKey
    /// `receiver-cert`: the SHA-256 digest of the whole receiver certificate (`3 0 1`).
    case receiverCert
    /// `authority-key`: the SHA-256 digest of the SubjectPublicKeyInfo of the authority that
    /// issued the receiver's certificate, as the receiver presents it after its own (what a
    /// DANE-TA `2 1 1` record matches).
    case authorityKey
    /// `authority-cert`: the SHA-256 digest of that authority's whole certificate (`2 0 1`).
    case authorityCert

    /// Hex, as RFC 6698 2.2 writes it; the stand-ins by their names.
    public var description: String {
        switch self {
        case .bytes(let bytes):
            let digits = Array("0123456789ABCDEF")
            return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xf)]] })
        case .receiverKey: return "receiver-key"
        case .receiverCert: return "receiver-cert"
        case .authorityKey: return "authority-key"
        case .authorityCert: return "authority-cert"
        }
    }

    /// The bytes; nil for a stand-in not yet replaced.
    public var bytes: [UInt8]? {
        if case .bytes(let bytes) = self { return bytes }
        return nil
    }
}
