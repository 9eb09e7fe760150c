import DKIM
import DNSCore
import Foundation
import SMTPProtocol
import SPF

/// The checks that read the message (`dkim`, `dmarc`, `spf-or-dkim`), run after the final dot.
extension PolicySession {
    /// Runs the message checks for the client's family, in order, and returns the first failure.
    /// Their records are appended to `findings.checks`, after those of `evaluate()`.
    public func evaluateMessage(_ message: SMTPMessage) async -> (check: Check, reply: SMTPReply)? {
        let checks = policy.checks(for: client.family).filter(\.needsMessage)
        guard !checks.isEmpty else { return nil }
        let now = Int(Date().timeIntervalSince1970)
        let verifications = await DKIMVerifier(lookup: lookup).verify(message.data, now: now)
        findings.dkim = verifications
        let signed = !verifications.isEmpty
        for check in checks {
            let (outcome, detail) = await run(messageCheck: check, message: message, dkim: verifications)
            let reply =
                outcome.decides
                ? policy.reply(for: check, outcome: outcome, client: client, helo: helo, signed: signed) : nil
            findings.checks.append(CheckRecord(check: check.name, outcome: outcome, detail: detail, reply: reply))
            if let reply {
                findings.decidingCheck = check.name
                findings.decidingReply = reply
                return (check, reply)
            }
        }
        return nil
    }

    private func run(messageCheck check: Check, message: SMTPMessage, dkim: [DKIMVerification]) async -> (
        CheckOutcome, String
    ) {
        switch check {
        case .dkim:
            if let pass = dkim.first(where: { $0.result == .pass }) { return (.pass, pass.description) }
            return (dkim.contains { $0.result == .temperror } ? .temporary : .fail, Self.describe(dkim))
        case .spfOrDKIM:
            let spf = await spfVerdict()
            if spf.result == .pass { return (.pass, "SPF \(spf.description)") }
            let author = AuthorDomain.of(DKIMMessage(message.data))
            if let author,
                let aligned = dkim.first(where: {
                    $0.result == .pass
                        && $0.domain.map { OrganizationalDomain.aligned($0, author, mode: .relaxed) } == true
                })
            {
                return (.pass, "DKIM aligned with From \(author): \(aligned.description)")
            }
            let temporary = spf.result == .temperror || dkim.contains { $0.result == .temperror }
            var detail = "SPF \(spf.description); " + Self.describe(dkim)
            if let author {
                let unaligned = dkim.filter { $0.result == .pass }.compactMap(\.domain)
                if !unaligned.isEmpty {
                    detail += "; passing d=\(unaligned.joined(separator: ", ")) not aligned with From \(author)"
                }
            } else {
                detail += "; no single From address to align with"
            }
            return (temporary ? .temporary : .fail, detail)
        case .dmarc:
            let spf = await spfVerdict()
            let evaluation = await DMARCEvaluator(lookup: lookup).evaluate(
                message: message.data, spfPassed: spf.result == .pass, spfDomain: spf.domain, dkim: dkim)
            findings.dmarc = evaluation
            switch evaluation.result {
            case .temperror: return (.temporary, evaluation.description)
            case .fail where evaluation.disposition == .reject: return (.fail, evaluation.description)
            case .fail: return (.pass, evaluation.description + " (accepted: the policy does not reject)")
            case .pass, .none, .permerror: return (.pass, evaluation.description)
            }
        default:
            return (.ignored, "not a message check")
        }
    }

    /// Every signature's result, or that there was none.
    static func describe(_ dkim: [DKIMVerification]) -> String {
        dkim.isEmpty ? "no DKIM-Signature field" : dkim.map(\.description).joined(separator: "; ")
    }
}
