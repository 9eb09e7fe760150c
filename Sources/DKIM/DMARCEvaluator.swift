import Crypto
import DNSCore

/// What DMARC made of one message (RFC 7489 6.6), for a decision record.
public struct DMARCEvaluation: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Result: String, Sendable, Hashable, Codable {
        case pass, fail, none, temperror, permerror
    }

    public var result: Result
    /// The RFC 5322 From domain.
    public var fromDomain: String?
    /// Where the record was found, and its text.
    public var recordDomain: String?
    public var record: String?
    /// The policy that applies on failure (p= or sp=), after pct=.
    public var disposition: DMARCDisposition
    public var reason: String

    public var description: String {
        var text = "dmarc=\(result)"
        if let fromDomain { text += " header.from=\(fromDomain)" }
        text += " (\(reason))"
        if let recordDomain, let record { text += "; record at \(recordDomain): \"\(record.prefix(120))\"" }
        if result == .fail { text += "; policy \(disposition.rawValue)" }
        return text
    }
}

/// RFC 7489 evaluation over a `DNSLookup`, given SPF's and DKIM's results.
public struct DMARCEvaluator: Sendable {
    public let lookup: any DNSLookup

    public init(lookup: any DNSLookup) {
        self.lookup = lookup
    }

    /// - Parameters:
    ///   - spfPassed: SPF's result was pass; `spfDomain` the domain it checked (MAIL FROM's, or HELO's for `<>`).
    ///   - dkim: the message's signature verifications.
    ///   - sample: a number from 0 to 99 for pct= (a policy applies when `sample < pct`); by default
    ///     taken from the message's SHA-256, so the same message always gets the same answer.
    public func evaluate(
        message: [UInt8], spfPassed: Bool, spfDomain: String, dkim: [DKIMVerification], sample: Int? = nil
    ) async -> DMARCEvaluation {
        let parsed = DKIMMessage(message)
        var evaluation = DMARCEvaluation(result: .none, disposition: .none, reason: "")
        guard let from = AuthorDomain.of(parsed) else {
            evaluation.result = .permerror
            evaluation.reason = "no single From field with a domain (RFC 7489 6.6.1)"
            return evaluation
        }
        evaluation.fromDomain = from
        let organisational = OrganizationalDomain.of(from)
        let found: (domain: String, text: String, record: DMARCRecord)?
        do {
            if let own = try await discover(from) {
                found = own
            } else if organisational != from {
                found = try await discover(organisational)
            } else {
                found = nil
            }
        } catch {
            evaluation.result = .temperror
            evaluation.reason = "DMARC record lookup: \(error)"
            return evaluation
        }
        guard let found else {
            evaluation.reason =
                "no DMARC record at _dmarc.\(from)" + (organisational != from ? " or _dmarc.\(organisational)" : "")
            return evaluation
        }
        evaluation.recordDomain = found.domain
        evaluation.record = found.text
        let record = found.record
        let dkimAligned = dkim.first {
            $0.result == .pass
                && $0.domain.map { OrganizationalDomain.aligned($0, from, mode: record.dkimAlignment) } == true
        }
        let spfAligned = spfPassed && OrganizationalDomain.aligned(spfDomain, from, mode: record.spfAlignment)
        if let dkimAligned {
            evaluation.result = .pass
            evaluation.reason =
                "DKIM d=\(dkimAligned.domain ?? "") aligned (\(record.dkimAlignment == .strict ? "strict" : "relaxed"))"
            return evaluation
        }
        if spfAligned {
            evaluation.result = .pass
            evaluation.reason = "SPF \(spfDomain) aligned (\(record.spfAlignment == .strict ? "strict" : "relaxed"))"
            return evaluation
        }
        evaluation.result = .fail
        // RFC 7489 6.3: sp= applies to subdomains when the record was found at the organisational domain.
        let policy = found.domain != from ? record.subdomainPolicy : record.policy
        let digest = Array(SHA256.hash(data: message))
        let roll = sample ?? (Int(digest[0]) << 8 | Int(digest[1])) % 100
        evaluation.disposition = roll < record.percent ? policy : .none
        let spfWord = spfPassed ? "SPF passed for \(spfDomain), not aligned" : "SPF did not pass"
        let passing = dkim.filter { $0.result == .pass }.compactMap(\.domain)
        let dkimWord =
            passing.isEmpty
            ? "no DKIM signature passed" : "DKIM passed for \(passing.joined(separator: ", ")), not aligned"
        evaluation.reason =
            "\(spfWord); \(dkimWord)"
            + (record.percent < 100 ? "; pct=\(record.percent) gave \(evaluation.disposition.rawValue)" : "")
        return evaluation
    }

    /// The one valid DMARC record at `_dmarc.domain`; nil when there is none or more than one
    /// (RFC 7489 6.6.3); throws on temporary DNS errors.
    func discover(_ domain: String) async throws(DNSLookupError) -> (domain: String, text: String, record: DMARCRecord)?
    {
        let texts: [String]
        do {
            texts = try await lookup.texts(of: "_dmarc.\(domain)")
        } catch {
            if error.isTemporary { throw error }
            return nil
        }
        let records = texts.compactMap { text in (try? DMARCRecord(text: text)).map { (domain, text, $0) } }
        return records.count == 1 ? records[0] : nil
    }
}
