import DNSCore
import MXHarnessTestKit
import SPF

/// An address literal written in a test; a typo there is a bug in the test itself.
func address(_ text: String) -> IPAddress {
    guard let parsed = IPAddress(text) else { preconditionFailure("test literal \(text) is not an IP address") }
    return parsed
}

/// A TXT record of one character-string.
func txt(_ text: String) -> RecordData { .txt([Array(text.utf8)]) }

/// A fixed `%{t}` so expansions are reproducible.
let fixedClock: @Sendable () -> Int = { 1_700_000_000 }

/// Evaluates MAIL FROM `from` for client `ip` against an in-memory DNS table.
func verdict(
    _ records: [(String, RecordData)], faults: [String: InMemoryDNS.Fault] = [:],
    ip: String, from: String = "alice@sender.test", helo: String = "mail.sender.test"
) async -> SPFVerdict {
    let evaluator = SPFEvaluator(
        lookup: InMemoryDNS(records, faults: faults), receiver: "mx.receiver.test", clock: fixedClock)
    return await evaluator.evaluate(ip: address(ip), mailFrom: from, helo: helo)
}
