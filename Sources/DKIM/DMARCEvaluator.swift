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
        var answers: [String: Result<[String], DNSLookupError>] = [:]
        while true {
            let step = Self.step(
                message: message, spfPassed: spfPassed, spfDomain: spfDomain, dkim: dkim, sample: sample,
                answers: { answers[$0] })
            switch step {
            case .done(let evaluation): return evaluation
            case .needs(let name):
                do {
                    answers[name] = .success(try await lookup.texts(of: name))
                } catch {
                    answers[name] = .failure(error)
                }
            }
        }
    }

    /// The same evaluation without waiting, when the lookup holds every answer it needs
    /// (`DNSLookup.heldAnswer`, as a table in memory does): for a caller that cannot wait, like a
    /// milter's callback. Nil when an answer is not held.
    public func evaluateHeld(
        message: [UInt8], spfPassed: Bool, spfDomain: String, dkim: [DKIMVerification], sample: Int? = nil
    ) -> DMARCEvaluation? {
        let step = Self.step(
            message: message, spfPassed: spfPassed, spfDomain: spfDomain, dkim: dkim, sample: sample,
            answers: { name in lookup.heldAnswer(name, .txt).map { $0.result.map { $0.compactMap(\.text) } } })
        guard case .done(let evaluation) = step else { return nil }
        return evaluation
    }

    /// Where an evaluation stands: done, or waiting for the TXT records at a name.
    enum Step {
        case done(DMARCEvaluation)
        case needs(String)
    }

    /// The evaluation as far as `answers` (the TXT texts asked so far, by name; nil: not yet asked)
    /// take it: one lookup at a time, in the order RFC 7489 6.6.3 asks them.
    static func step(
        message: [UInt8], spfPassed: Bool, spfDomain: String, dkim: [DKIMVerification], sample: Int?,
        answers: (String) -> Result<[String], DNSLookupError>?
    ) -> Step {
        let parsed = DKIMMessage(message)
        var evaluation = DMARCEvaluation(result: .none, disposition: .none, reason: "")
        guard let from = AuthorDomain.of(parsed) else {
            evaluation.result = .permerror
            evaluation.reason = "no single From field with a domain (RFC 7489 6.6.1)"
            return .done(evaluation)
        }
        evaluation.fromDomain = from
        let organisational = OrganizationalDomain.of(from)
        var found: (domain: String, text: String, record: DMARCRecord)?
        for domain in organisational != from ? [from, organisational] : [from] {
            guard let answer = answers("_dmarc.\(domain)") else { return .needs("_dmarc.\(domain)") }
            switch answer {
            case .failure(let error) where error.isTemporary:
                evaluation.result = .temperror
                evaluation.reason = "DMARC record lookup: \(error)"
                return .done(evaluation)
            case .failure: continue
            case .success(let texts):
                found = discover(domain, texts: texts)
            }
            if found != nil { break }
        }
        guard let found else {
            evaluation.reason =
                "no DMARC record at _dmarc.\(from)" + (organisational != from ? " or _dmarc.\(organisational)" : "")
            return .done(evaluation)
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
            return .done(evaluation)
        }
        if spfAligned {
            evaluation.result = .pass
            evaluation.reason = "SPF \(spfDomain) aligned (\(record.spfAlignment == .strict ? "strict" : "relaxed"))"
            return .done(evaluation)
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
        return .done(evaluation)
    }

    /// The one valid DMARC record among the TXT texts at `_dmarc.domain`; nil when there is none
    /// or more than one (RFC 7489 6.6.3).
    static func discover(_ domain: String, texts: [String]) -> (domain: String, text: String, record: DMARCRecord)? {
        let records = texts.compactMap { text in (try? DMARCRecord(text: text)).map { (domain, text, $0) } }
        return records.count == 1 ? records[0] : nil
    }
}
