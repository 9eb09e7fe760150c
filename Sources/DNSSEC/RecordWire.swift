import DNSCore

/// The RR types a signer adds (RFC 4034 2-5).
public enum DNSSECType {
    public static let ds: UInt16 = 43
    public static let rrsig: UInt16 = 46
    public static let nsec: UInt16 = 47
    public static let dnskey: UInt16 = 48

    /// The mnemonic of an RR type, or `TYPEnnn` (RFC 3597 5) for one without.
    public static func name(_ code: UInt16) -> String {
        switch code {
        case ds: "DS"
        case rrsig: "RRSIG"
        case nsec: "NSEC"
        case dnskey: "DNSKEY"
        default: RecordType(code: code)?.rawValue ?? "TYPE\(code)"
        }
    }
}

/// The canonical wire form of a record's RDATA (RFC 4034 6.2): names uncompressed and lower-cased
/// in the types RFC 4034 6.2 item 3 lists (NS, CNAME, SOA, PTR, MX among those served here).
public enum RecordWire {
    public static func rdata(_ data: RecordData) -> [UInt8] {
        switch data {
        case .a(let address), .aaaa(let address):
            return address.bytes
        case .ptr(let name), .cname(let name), .ns(let name):
            return WireName.wire(name)
        case .mx(let preference, let exchange):
            return uint16(preference) + WireName.wire(exchange)
        case .txt(let strings):
            var out: [UInt8] = []
            for string in strings {
                out.append(UInt8(clamping: string.count))
                out += string.prefix(255)
            }
            return out
        case .soa(let mname, let rname, let serial, let refresh, let retry, let expire, let minimum):
            return WireName.wire(mname) + WireName.wire(rname)
                + uint32(serial) + uint32(refresh) + uint32(retry) + uint32(expire) + uint32(minimum)
        case .tlsa(let usage, let selector, let matching, let data):
            // A stand-in left unreplaced signs as no data (the world is resolved before signing).
            return [usage, selector, matching] + (data.bytes ?? [])
        }
    }

    static func uint16(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xff)] }

    static func uint32(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xff), UInt8((value >> 8) & 0xff), UInt8(value & 0xff)]
    }
}
