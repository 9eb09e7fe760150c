import DNSCore
import Delivery
import Foundation
import Runner
import SMTPProtocol
import Scenario

/// One JSON object per case, with every attempt and the receiver's record of each session.
public enum JSONReporter {
    struct Document: Encodable {
        var summary: Summary
        var cases: [Case]
        /// Which shard of how many wrote this report (`--shard K/N`); absent for a whole run.
        var shard: ShardPlacement?
    }

    struct Summary: Encodable {
        var passed: Int
        var failed: Int
        var skipped: Int
        var errors: Int
    }

    struct Case: Encodable {
        var name: String
        var file: String
        var line: Int
        var tags: [String]
        var description: String?
        var target: String
        var sender: String
        var status: String
        var reason: String?
        var mismatches: [MismatchEntry]
        var outcome: String?
        var family: String?
        var stage: String?
        var reply: SMTPReply?
        var delivery: DeliveryReport?
        /// The receiver's record of each session (`ReceiverEvidence.records`: the built-in MX's).
        var sessions: [AnyEvidenceRecord]
        var timings: Timings
        var artifacts: String?
        /// The shared receiver instance (Postfix) that received the case: its number in the run,
        /// whether it had served an earlier case, and why it was not shared (when it was not).
        var receiverInstance: ReceiverInstanceUse?
        /// Messages the receiver accepted in the case (`expect.messages_accepted`); nil when unknown.
        var messagesAccepted: Int?
        /// The deciding session ran over TLS; absent when no session decided.
        var tls: Bool?
        /// What each policy engine beside the receiver made of each message (`receiver.engines`):
        /// its action, score, threshold and symbols, and whether it answered; absent when none ran.
        var engines: [EngineVerdict]?
        /// The case's place in the whole selection (a shard's report only), so `mxharness merge`
        /// puts the shards' cases back in the order one run has them.
        var position: Int?
    }

    struct MismatchEntry: Encodable {
        var key: String
        var expected: String
        var got: String
    }

    struct Timings: Encodable {
        var setupSeconds: Double
        var exchangeSeconds: Double
        var teardownSeconds: Double
    }

    /// The report of a run; a shard's report (`shard` given) also says which shard it is and where
    /// each of its cases stands in the whole selection (`positions`, one per result).
    public static func render(_ results: [CaseResult], shard: (placement: ShardPlacement, positions: [Int])? = nil)
        throws -> Data
    {
        let summary = RunSummary(results)
        var cases = results.map(entry)
        if let shard {
            for index in cases.indices where shard.positions.indices.contains(index) {
                cases[index].position = shard.positions[index]
            }
        }
        let document = Document(
            summary: Summary(
                passed: summary.passed, failed: summary.failed, skipped: summary.skipped, errors: summary.errors),
            cases: cases, shard: shard?.placement)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(document)
    }

    static func entry(_ result: CaseResult) -> Case {
        var reason: String?
        switch result.status {
        case .skipped(let why), .error(let why): reason = why
        default: break
        }
        return Case(
            name: result.name, file: result.scenario.location.file, line: result.scenario.location.line,
            tags: result.scenario.tags, description: result.scenario.description, target: result.target.rawValue,
            sender: result.sender.rawValue,
            status: result.status.label, reason: reason,
            mismatches: result.mismatches.map { MismatchEntry(key: $0.key, expected: $0.expected, got: $0.got) },
            outcome: result.observed?.outcome.rawValue, family: result.observed?.family?.rawValue,
            stage: result.observed?.stage?.rawValue,
            reply: result.observed?.reply, delivery: result.delivery,
            sessions: (result.evidence?.records ?? []).map(AnyEvidenceRecord.init),
            timings: Timings(
                setupSeconds: seconds(result.timings.setup), exchangeSeconds: seconds(result.timings.exchange),
                teardownSeconds: seconds(result.timings.teardown)),
            artifacts: result.artifactsDirectory, receiverInstance: result.receiverInstance,
            messagesAccepted: result.observed?.messagesAccepted, tls: result.observed?.tls,
            engines: (result.evidence?.engines).flatMap { $0.isEmpty ? nil : $0 })
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
