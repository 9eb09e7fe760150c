import DKIM
import DNSCore

/// The records the case's world serves (`dns.records`, with the one the harness publishes for
/// `sender.dkim`), for the decision milter. It applies the policy's rules for the key record behind
/// a result OpenDKIM reported, where OpenDKIM's Authentication-Results field does not say what
/// RFC 6376 makes of it, and it looks up the DMARC record as the built-in MX does
/// (`dmarcLookup`). It never re-verifies a signature: it reads the record OpenDKIM fetched from
/// the same world.
public struct WorldKeyRecords: Sendable, Hashable {
    /// TXT texts (character-strings joined, RFC 6376 3.6.2.2) by owner, only `_domainkey` names.
    var texts: [String: [String]]
    /// Every record, for `dmarcLookup`.
    var records: [ResourceRecord]
    /// `dns.faults`: a name under one is answered otherwise than its records say.
    var faults: [DNSFault]
    /// A signed world: a validating resolver may refuse a record it serves.
    var signed: Bool

    public init(records: [ResourceRecord] = [], faults: [DNSFault] = [], signed: Bool = false) {
        var texts: [String: [String]] = [:]
        for record in records where record.owner.contains("._domainkey.") {
            guard case .txt(let strings) = record.data else { continue }
            texts[record.owner, default: []].append(String(decoding: strings.joined(), as: UTF8.self))
        }
        self.texts = texts
        self.records = records
        self.faults = faults
        self.signed = signed
    }

    /// The world's records and faults as a lookup that holds every answer, for
    /// `DMARCEvaluator.evaluateHeld`: what the built-in MX's resolver gets from the world's unbound,
    /// faults included. In a signed world it answers every record as served: a record a
    /// validating resolver refuses shows first as OpenDMARC's own `temperror`.
    public var dmarcLookup: InMemoryDNS {
        InMemoryDNS(records: records, faults: faults, holdsAnswers: true)
    }

    /// The one record served plainly at `selector._domainkey.domain`; nil when there is none or
    /// several, when a fault covers the name, or in a signed world (where what a resolver gets
    /// also depends on validation): then nothing is said beyond OpenDKIM's own result.
    public func record(selector: String, domain: String) -> String? {
        plainRecords(at: "\(selector)._domainkey.\(domain)").flatMap { $0.count == 1 ? $0[0] : nil }
    }

    /// The TXT texts served plainly at `name` (none: empty); nil when a fault covers the name or
    /// the world is signed.
    func plainRecords(at name: String) -> [String]? {
        guard !signed else { return nil }
        let name = DNSName.normalize(name)
        guard !faults.contains(where: { name == $0.name || name.hasSuffix("." + $0.name) }) else { return nil }
        return texts[name] ?? []
    }

    /// What RFC 6376 makes of the record behind one OpenDKIM result.
    public enum Reading: Sendable, Hashable {
        /// The record has `t=y`: RFC 6376 3.6.1, "Verifiers MUST NOT treat messages from Signers
        /// in testing mode differently from unsigned email".
        case testing
        /// The record cannot give a key for the signature's algorithm (RFC 6376 6.1.2: "If the
        /// result returned from the query does not adhere to the format defined in this
        /// specification, the Verifier MUST ignore the key record and return PERMFAIL (key
        /// syntax error)"; "not suitable for use with the algorithm": PERMFAIL).
        case unusable(String)
        case usable
    }

    /// The reading of the record at `selector._domainkey.domain` for `algorithm`; nil when the
    /// world's answer is not certain (`record(selector:domain:)`).
    public func reading(selector: String, domain: String, algorithm: String?) -> Reading? {
        // `t=y` matters for a signature OpenDKIM verified, so under the record it fetched: the
        // world's one record at the name, whatever the zone's signatures.
        let name = DNSName.normalize("\(selector)._domainkey.\(domain)")
        if let only = texts[name], only.count == 1, (try? DKIMKeyRecord(text: only[0]))?.isTesting == true {
            return .testing
        }
        guard let text = record(selector: selector, domain: domain) else { return nil }
        let parsed: DKIMKeyRecord
        do { parsed = try DKIMKeyRecord(text: text) } catch { return .unusable(error.description) }
        if let algorithm = algorithm.flatMap(DKIMAlgorithm.init(rawValue:)), !parsed.isRevoked {
            guard parsed.keyType == algorithm.keyType else {
                return .unusable("key record k=\(parsed.keyType) does not fit a=\(algorithm.rawValue)")
            }
            do { _ = try parsed.key(for: algorithm) } catch {
                switch error {
                case .keyTooSmall, .keyTooLarge: break
                default: return .unusable(error.description)
                }
            }
        }
        return parsed.isTesting ? .testing : .usable
    }
}
