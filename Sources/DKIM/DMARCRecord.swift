/// `adkim=` / `aspf=`.
public enum DMARCAlignment: String, Sendable, Hashable, Codable {
    case relaxed = "r"
    case strict = "s"
}

/// `p=` / `sp=`.
public enum DMARCDisposition: String, Sendable, Hashable, Codable {
    case none
    case quarantine
    case reject
}

/// A DMARC policy record, the TXT record at `_dmarc.domain` (RFC 7489 6.3).
public struct DMARCRecord: Sendable, Hashable {
    public var policy: DMARCDisposition
    /// `sp=`: the policy for subdomains of the organisational domain; `p=` when absent.
    public var subdomainPolicy: DMARCDisposition
    public var dkimAlignment: DMARCAlignment
    public var spfAlignment: DMARCAlignment
    /// `pct=`, 0 to 100.
    public var percent: Int

    /// Reads a record. RFC 7489 6.6.3: a record whose p= is missing or invalid is still used, as
    /// p=none, when it has a rua=; otherwise it is no record.
    public init(text: String) throws(DMARCRecordError) {
        let tags: TagList
        do { tags = try TagList(parsing: text) } catch { throw .syntax(error) }
        guard tags.tags.first?.name == "v", tags["v"] == "DMARC1" else { throw .notDMARC }
        func disposition(_ name: String) throws(DMARCRecordError) -> DMARCDisposition? {
            guard let value = tags[name] else { return nil }
            guard let disposition = DMARCDisposition(rawValue: value.lowercased()) else {
                throw .syntax(.badValue(tag: name, value: value, expected: "none, quarantine or reject"))
            }
            return disposition
        }
        func alignment(_ name: String) throws(DMARCRecordError) -> DMARCAlignment {
            guard let value = tags[name] else { return .relaxed }
            guard let alignment = DMARCAlignment(rawValue: value.lowercased()) else {
                throw .syntax(.badValue(tag: name, value: value, expected: "r or s"))
            }
            return alignment
        }
        let p: DMARCDisposition
        do throws(DMARCRecordError) {
            guard let given = try disposition("p") else { throw .syntax(.missingTag("p")) }
            p = given
        } catch {
            guard tags["rua"] != nil else { throw error }
            p = .none
        }
        policy = p
        subdomainPolicy = try disposition("sp") ?? p
        dkimAlignment = try alignment("adkim")
        spfAlignment = try alignment("aspf")
        if let pct = tags["pct"] {
            guard pct.count <= 3, pct.allSatisfy(\.isASCIIDigit), let value = Int(pct), value <= 100 else {
                throw .syntax(.badValue(tag: "pct", value: pct, expected: "a whole number from 0 to 100"))
            }
            percent = value
        } else {
            percent = 100
        }
    }
}

public enum DMARCRecordError: Error, Sendable, Hashable, CustomStringConvertible {
    case syntax(DKIMSyntaxError)
    case notDMARC

    public var description: String {
        switch self {
        case .syntax(let error): "DMARC record syntax: \(error)"
        case .notDMARC: "not a DMARC record (it must start with v=DMARC1)"
        }
    }
}
