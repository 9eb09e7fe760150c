import DNSCore
import Yams

/// One scenario's DNS data from the openspf suite, ready for any DNS backend: the records to serve
/// and the names that time out. Built by `ConformanceZone(zonedata:)`, a pure function of the YAML.
///
/// Serving rules (those of pyspf's `test/testspf.py`, see rfc7208/README.md):
/// - `SPF` (type 99) records are served as TXT unless the name lists TXT records (or `TXT: NONE`) of its own;
/// - `TXT: NONE` means no TXT record;
/// - a `TIMEOUT` name times out for every type it lists no records of. pyspf stops at `TIMEOUT` only
///   when no record of the asked type came before it, and its generated TXT records come after it,
///   so a `TIMEOUT` name gets no TXT records from its `SPF` entries;
/// - a list value is the character-strings of one TXT record (`[]`: a record with no strings);
/// - `\xNN` escapes in double-quoted values are raw bytes (Latin-1), not UTF-8 encoded characters.
public struct ConformanceZone: Sendable, Hashable {
    public var records: [ResourceRecord]
    /// Names (normalized) that time out, not the names below them.
    public var timeouts: Set<String>

    public init(records: [ResourceRecord] = [], timeouts: Set<String> = []) {
        self.records = records
        self.timeouts = timeouts
    }

    /// True when a query for `name` and `type` times out under the rules above.
    public func timesOut(_ name: String, _ type: RecordType) -> Bool {
        let name = DNSName.normalize(name)
        return timeouts.contains(name) && !records.contains { $0.owner == name && $0.type == type }
    }

    /// Builds the zone from a scenario's `zonedata` mapping (name → list of `{TYPE: value}` or `TIMEOUT`).
    public init(zonedata: Node) throws(ConformanceDataError) {
        guard let names = zonedata.mapping else { throw ConformanceDataError("zonedata is not a mapping") }
        var records: [ResourceRecord] = []
        var timeouts: Set<String> = []
        for (nameNode, entriesNode) in names {
            guard let rawName = nameNode.scalar?.string else {
                throw ConformanceDataError("zonedata key is not a name")
            }
            let name = DNSName.normalize(rawName)
            guard let entries = entriesNode.sequence else {
                throw ConformanceDataError("zonedata \(rawName): not a list")
            }
            var ownTXT = false
            var generated: [ResourceRecord] = []
            for entry in entries {
                if entry.scalar?.string == "TIMEOUT" {
                    timeouts.insert(name)
                    continue
                }
                guard let pair = entry.mapping, pair.count == 1, let (typeNode, value) = pair.first,
                    let type = typeNode.scalar?.string
                else {
                    throw ConformanceDataError("zonedata \(rawName): entry is neither TIMEOUT nor {TYPE: value}")
                }
                let location = "zonedata \(rawName) \(type)"
                switch type {
                case "TXT", "SPF":
                    if type == "TXT" { ownTXT = true }
                    if value.scalar?.string == "NONE" { continue }
                    let data = RecordData.txt(try Self.characterStrings(value, location))
                    // Type 99 itself is not served: an RFC 7208 evaluator must not need it.
                    if type == "TXT" {
                        records.append(ResourceRecord(owner: name, data: data))
                    } else {
                        generated.append(ResourceRecord(owner: name, data: data))
                    }
                case "A", "AAAA":
                    guard let text = value.scalar?.string, let address = IPAddress(text),
                        address.family == (type == "A" ? .ipv4 : .ipv6)
                    else {
                        throw ConformanceDataError("\(location): not an \(type) address")
                    }
                    records.append(ResourceRecord(owner: name, data: type == "A" ? .a(address) : .aaaa(address)))
                case "MX":
                    guard let parts = value.sequence, parts.count == 2,
                        let preferenceText = parts[0].scalar?.string, let preference = UInt16(preferenceText),
                        let exchange = parts[1].scalar?.string
                    else {
                        throw ConformanceDataError("\(location): expected [preference, exchange]")
                    }
                    records.append(
                        ResourceRecord(
                            owner: name, data: .mx(preference: preference, exchange: DNSName.normalize(exchange))))
                case "PTR", "CNAME":
                    guard let target = value.scalar?.string else {
                        throw ConformanceDataError("\(location): expected a name")
                    }
                    let normal = DNSName.normalize(target)
                    records.append(ResourceRecord(owner: name, data: type == "PTR" ? .ptr(normal) : .cname(normal)))
                default:
                    throw ConformanceDataError("\(location): unknown record type")
                }
            }
            if !ownTXT && !timeouts.contains(name) { records += generated }
        }
        self.records = records
        self.timeouts = timeouts
    }

    /// A scalar is one character-string, a list several (joined without separator by SPF, RFC 7208 3.3).
    private static func characterStrings(_ value: Node, _ location: String) throws(ConformanceDataError) -> [[UInt8]] {
        if let text = value.scalar?.string { return [bytes(text)] }
        if let list = value.sequence {
            var strings: [[UInt8]] = []
            for item in list {
                guard let text = item.scalar?.string else {
                    throw ConformanceDataError("\(location): list item is not a string")
                }
                strings.append(bytes(text))
            }
            return strings
        }
        throw ConformanceDataError("\(location): expected a string or a list of strings")
    }

    /// YAML turns `\xEF` into U+00EF; the suite means the byte 0xEF. Strings of code points up to
    /// U+00FF are therefore taken byte for byte, anything else as UTF-8.
    static func bytes(_ text: String) -> [UInt8] {
        let scalars = text.unicodeScalars
        if scalars.allSatisfy({ $0.value <= 0xff }) { return scalars.map { UInt8($0.value) } }
        return Array(text.utf8)
    }
}

/// The suite file did not have the expected shape.
public struct ConformanceDataError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = "rfc7208-tests.yml: " + description }
}
