import DNSCore
import Foundation
import Runner
import Scenario

/// Where OpenDKIM, the Postfix target's verifier, reads a key record otherwise than RFC 6376 and
/// the built-in verifier do, in a way its Authentication-Results field does not show: such a case
/// is skipped on Postfix with the reason, never run to a different answer.
/// - A key record with `t=y`: RFC 6376 3.6.1 has verifiers treat the message as unsigned (the
///   built-in MX does); OpenDKIM reports the signature as a plain `dkim=pass` (its A-R writer never
///   reads the test flag), so the decision milter cannot tell.
/// - A key record cut short (`record: truncated`): its `p=` is no key, a permanent failure (RFC 6376
///   6.1.2, the built-in MX: 550); OpenDKIM reports `dkim=temperror` with no reason, the same as a
///   DNS failure, which the policy answers with 4xx.
func postfixMilterLimit(of scenario: ScenarioCase) -> String? {
    guard MilterChecks(policy: scenario.receiver.policy).isNeeded else { return nil }
    if let dkim = scenario.sender.dkim {
        let name = DNSName.normalize(scenario.sender.dkimKeyName(dkim))
        let written = scenario.dns.records.contains { $0.type == .txt && DNSName.normalize($0.owner) == name }
        if !written && dkim.record == .testing {
            return
                "sender.dkim record: testing (t=y): OpenDKIM reports the signature as dkim=pass without a test-mode mark, where RFC 6376 3.6.1 and the built-in MX treat it as unsigned: builtin only"
        }
        if !written && dkim.record == .truncated {
            return
                "sender.dkim record: truncated: OpenDKIM reports the undecodable key as dkim=temperror (like a DNS failure, 4xx), where RFC 6376 6.1.2 and the built-in MX say permerror (5xx): builtin only"
        }
    }
    for record in scenario.dns.records where DNSName.normalize(record.owner).contains("._domainkey.") {
        guard case .txt(let strings) = record.data else { continue }
        let text = String(decoding: strings.joined(), as: UTF8.self)
        if hasTestFlag(text) {
            return
                "dns.records: the key record at \(record.owner) has t=y: OpenDKIM reports its signatures as dkim=pass without a test-mode mark, where RFC 6376 3.6.1 and the built-in MX treat them as unsigned: builtin only"
        }
    }
    return nil
}

/// A DKIM key record's `t=` tag lists the flag `y` (RFC 6376 3.6.1: flags separated by `:`).
func hasTestFlag(_ record: String) -> Bool {
    for tag in record.split(separator: ";") {
        let parts = tag.split(separator: "=", maxSplits: 1)
        guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == "t" else { continue }
        return parts[1].split(separator: ":").contains { $0.trimmingCharacters(in: .whitespaces) == "y" }
    }
    return false
}
