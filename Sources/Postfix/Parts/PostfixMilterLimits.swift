import DNSCore
import Foundation
import Policy
import Runner
import Scenario

/// Where the Postfix target's milters read a key record otherwise than RFC 6376 and the built-in
/// verifier do, in a way the decision milter cannot put right: such a case is skipped on Postfix
/// with the reason, never run to a different answer.
///
/// The decision milter applies RFC 6376's reading of a `t=y` key record (3.6.1: no signature) and
/// of a key record cut short (6.1.2: PERMFAIL) to OpenDKIM's results (`MilterDecision.dkimResults`),
/// and decides DMARC with the built-in MX's evaluator over those results without the `t=y`
/// signatures (`MilterDecision.dmarcEvaluation`, from the world's records), where OpenDMARC counts
/// a `t=y` signature as a DKIM pass. A `dmarc` check over a `t=y` key record in a world with
/// `dns.faults` is still skipped: how OpenDMARC answers under those faults has not been measured. (A truncated key's `temperror` is no DKIM pass for OpenDMARC
/// either: seen dmarc=fail under p=reject, 550 5.7.1 as on the built-in MX.)
func postfixMilterLimit(of scenario: ScenarioCase) -> String? {
    let policy = scenario.receiver.policy
    guard MilterChecks(policy: policy).isNeeded, (policy.ipv4 + policy.ipv6).contains(.dmarc),
        !scenario.dns.faults.isEmpty
    else { return nil }
    if let dkim = scenario.sender.dkim {
        let name = DNSName.normalize(scenario.sender.dkimKeyName(dkim))
        let written = scenario.dns.records.contains { $0.type == .txt && DNSName.normalize($0.owner) == name }
        if !written && dkim.record == .testing {
            return
                "sender.dkim record: testing (t=y) with a dmarc check and dns.faults: OpenDMARC counts the signature as a DKIM pass, and the decision milter takes that back only from a DMARC record the world serves plainly: builtin only"
        }
    }
    for record in scenario.dns.records where DNSName.normalize(record.owner).contains("._domainkey.") {
        guard case .txt(let strings) = record.data else { continue }
        let text = String(decoding: strings.joined(), as: UTF8.self)
        if hasTestFlag(text) {
            return
                "dns.records: the key record at \(record.owner) has t=y, the policy a dmarc check and the world dns.faults: OpenDMARC counts its signatures as DKIM passes, and the decision milter takes that back only from a DMARC record the world serves plainly: builtin only"
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
