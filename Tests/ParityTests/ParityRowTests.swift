import Foundation
import DNSCore
import Parity
import Reports
import Runner
import RunnerTestKit
import SMTPProtocol
import Scenario
import Testing

// Receiver and sender names of kinds this test target does not link: the parity table and the
// matrix only carry them.
extension ReceiverTarget {
    static let exim = ReceiverTarget(named: "exim")
    static let opensmtpd = ReceiverTarget(named: "opensmtpd")
}

extension SenderMTA {
    static let exim = SenderMTA(named: "exim")
}

/// How a parity row compares its sides, without running anything.
struct ParityRowTests {
    static let scenario = ScenarioCase(
        name: "case", location: SourceLocation(file: "p.yaml", line: 1, column: 1), dns: WorldSpec(),
        receiver: ReceiverSpec(addresses: [IPAddress("2001:db8::10")!]),
        sender: SenderSpec(
            addresses: [.ipv6: IPAddress("2001:db8:5::25")!], helo: "h.test", mailFrom: "a@s.test", rcptTo: ["b@e.test"]
        ),
        expect: Expectation())

    static func result(
        _ outcome: DeliveryOutcome, _ code: Int, _ enhanced: String?, stage: SMTPStage = .rcpt,
        family: AddressFamily = .ipv6
    ) -> CaseResult {
        var result = CaseResult(scenario: scenario, target: .builtin, status: .passed)
        result.observed = ObservedDelivery(
            outcome: outcome, family: family, stage: stage, reply: SMTPReply(code: code, enhanced: enhanced, "text"))
        return result
    }

    static func skipped() -> CaseResult {
        CaseResult(scenario: scenario, target: .exim, status: .skipped("no exim here"))
    }

    /// The built-in MX and delivery model mirror Postfix (`BuiltinMXReceivers.mirrors`, `ModelSenders.mirrors`).
    static let mirrored: Set<Set<String>> = [["builtin", "postfix"]]

    @Test func theBuiltInPartsMirrorPostfixAndNoOtherKind() {
        #expect(ParityAxis.receivers([.builtin, .postfix]).mirroredPairs(builtinParts) == Self.mirrored)
        #expect(ParityAxis.senders([.postfix, .builtin]).mirroredPairs(builtinParts) == Self.mirrored)
        #expect(ParityAxis.receivers([.builtin, ReceiverTarget(named: "exec")]).mirroredPairs(builtinParts).isEmpty)
        #expect(ParityAxis.senders([.builtin, .exim]).mirroredPairs(builtinParts).isEmpty)
        #expect(
            ParityAxis.receivers([.builtin, .postfix]).mirroredPairs(PartCatalog()).isEmpty, "kinds say it, not names")
    }

    static func rows(_ axis: ParityAxis, _ results: [CaseResult]) -> ParityRow {
        // A run whose sides are given: the row model is what is under test.
        ParityRow.compare(name: "case", results: results, axis: axis, mirrored: Self.mirrored)
    }

    @Test func theBuiltinMXIsHeldToPostfixsExactReplies() {
        let row = Self.rows(
            .receivers([.builtin, .postfix]),
            [Self.result(.deferred, 450, "4.7.25"), Self.result(.deferred, 450, "4.7.1")])
        #expect(row.differences.map(\.fields) == [["enhanced"]])
        #expect(row.mtaDifferences.isEmpty)
    }

    /// rspamd beside both receivers must score each message alike: a different score means the
    /// two told it different facts. An engine only one side reports is not compared.
    @Test func anEngineBothReceiversRanMustJudgeAlike() {
        func judged(_ verdicts: [EngineVerdict]) -> CaseResult {
            var result = Self.result(.delivered, 250, "2.0.0", stage: .data)
            result.evidence = LogEvidence(engines: verdicts)
            return result
        }
        let clean = EngineVerdict(engine: "rspamd", action: "no action", score: 1, answered: false)
        let unnamed = EngineVerdict(engine: "rspamd", action: "no action", score: 3.5, answered: false)
        let spf = EngineVerdict(engine: "policyd-spf", action: "pass", answered: false)
        let differing = Self.rows(.receivers([.builtin, .postfix]), [judged([clean]), judged([unnamed, spf])])
        #expect(differing.differences.map(\.fields) == [["engines (rspamd: 3.50 no action vs 1.00 no action)"]])
        let alike = Self.rows(.receivers([.builtin, .postfix]), [judged([clean]), judged([clean, spf])])
        #expect(alike.differences.isEmpty)
        #expect(alike.mtaDifferences.isEmpty)
        // Sender parity compares deliveries; the receiver and its engines are the same on both sides.
        let senders = Self.rows(.senders([.builtin, .postfix]), [judged([clean]), judged([unnamed])])
        #expect(senders.differences.isEmpty)
    }

    @Test func otherMTAsMayWordAndNumberTheirRepliesTheirOwnWay() {
        let axis = ParityAxis.receivers([.postfix, .exim])
        let row = Self.rows(axis, [Self.result(.deferred, 450, "4.7.25"), Self.result(.deferred, 451, "4.7.1")])
        #expect(row.differences.isEmpty)
        #expect(row.mtaDifferences.map(\.fields) == [["code", "enhanced"]])
        #expect(row.mtaDifferences.first?.description == "exim vs postfix: code, enhanced")
    }

    @Test func aDifferentOutcomeStageFamilyOrClassIsADifferenceOnAnyPair() {
        let axis = ParityAxis.receivers([.postfix, .exim, .opensmtpd])
        let row = Self.rows(
            axis,
            [
                Self.result(.deferred, 450, "4.7.25"),
                Self.result(.bounced, 550, "5.7.1", stage: .mail),
                Self.result(.deferred, 421, nil, family: .ipv4),
            ])
        #expect(row.differences.map(\.side) == ["exim", "opensmtpd"])
        #expect(row.differences[0].fields == ["outcome", "stage", "class", "enhanced"])
        #expect(row.differences[1].fields == ["family", "code", "enhanced"])
    }

    @Test func sidesThatDidNotRunAreNotCompared() {
        let axis = ParityAxis.receivers([.builtin, .exim])
        let row = Self.rows(axis, [Self.result(.deferred, 450, "4.7.25"), Self.skipped()])
        #expect(row.isSkipped)
        #expect(row.differences.isEmpty)
        let table = ParityTable.render([row], axis: axis, parts: PartCatalog(), terminal: Terminal(colour: false))
        #expect(table.contains("exim: no exim here"))
        #expect(table.hasSuffix("parity: 0 same, 0 different, 1 skipped (not run on two sides)"))
    }

    static func errored(_ message: String) -> CaseResult {
        CaseResult(scenario: scenario, target: .postfix, status: .error(message))
    }

    @Test func anErroredSideIsADifferenceNotASkip() {
        let axis = ParityAxis.receivers([.builtin, .postfix])
        let row = Self.rows(axis, [Self.result(.deferred, 450, "4.7.25"), Self.errored("postfix did not start")])
        #expect(!row.isSkipped)
        #expect(row.differences.map(\.description) == ["postfix: error: postfix did not start"])
        let table = ParityTable.render([row], axis: axis, parts: PartCatalog(), terminal: Terminal(colour: false))
        #expect(table.contains("DIFFERENT: postfix: error: postfix did not start"))
        #expect(table.contains("    postfix: error: postfix did not start"))
        #expect(table.hasSuffix("parity: 0 same, 1 different, 0 skipped (not run on two sides)"))
    }

    @Test func anErrorBesideASkipIsStillADifference() {
        let axis = ParityAxis.receivers([.builtin, .postfix, .exim])
        let row = Self.rows(
            axis, [Self.errored("unbound did not start"), Self.errored("unbound did not start"), Self.skipped()])
        #expect(!row.isSkipped)
        #expect(row.differences.map(\.side) == ["builtin", "postfix"])
    }

    @Test func theSummaryListsSkipsByReasonMostFirst() {
        let axis = ParityAxis.receivers([.builtin, .exim])
        func skipped(_ reason: String) -> CaseResult {
            CaseResult(scenario: Self.scenario, target: .exim, status: .skipped(reason))
        }
        let rows = [
            Self.rows(axis, [Self.result(.deferred, 450, "4.7.25"), skipped("preset x is builtin only")]),
            Self.rows(axis, [Self.result(.deferred, 450, "4.7.25"), skipped("raw messages")]),
            Self.rows(axis, [skipped("raw messages"), skipped("preset x is builtin only")]),
            Self.rows(axis, [Self.result(.deferred, 450, "4.7.25"), skipped("preset x is builtin only")]),
        ]
        let reasons = ParityTable.skipsByReason(rows, labels: axis.labels)
        #expect(
            reasons.map { "\($0.count) \($0.side): \($0.reason)" } == [
                "3 exim: preset x is builtin only", "1 builtin: raw messages", "1 exim: raw messages",
            ])
        let table = ParityTable.render(rows, axis: axis, parts: PartCatalog(), terminal: Terminal(colour: false))
        #expect(
            table.contains(
                "Skipped, by reason (cases; side: reason):\n  3  exim: preset x is builtin only\n  1  builtin: raw messages\n  1  exim: raw messages\n"
            ))
        #expect(table.hasSuffix("parity: 0 same, 0 different, 4 skipped (not run on two sides)"))
    }

    @Test func senderParityComparesTheModelWithPostfixExactly() {
        let row = Self.rows(
            .senders([.builtin, .postfix]),
            [Self.result(.delivered, 250, "2.0.0"), Self.result(.delivered, 250, "2.0.0")])
        #expect(row.differences.isEmpty && row.mtaDifferences.isEmpty)
        let exim = Self.rows(
            .senders([.builtin, .exim]), [Self.result(.deferred, 450, "4.7.25"), Self.result(.deferred, 450, nil)])
        #expect(exim.differences.isEmpty && exim.mtaDifferences.map(\.fields) == [["enhanced"]])
    }
}

/// Sender parity: the model against a real sender, attempt lists included.
struct SenderParityRowTests {
    static func result(
        _ outcome: DeliveryOutcome, family: AddressFamily, code: Int, attempts: [(AddressFamily, AttemptResult)]
    ) -> CaseResult {
        var result = CaseResult(scenario: ParityRowTests.scenario, target: .builtin, status: .passed)
        result.observed = ObservedDelivery(
            outcome: outcome, family: family, stage: code == 250 ? .data : .rcpt, reply: SMTPReply(code: code, "x"),
            attempts: attempts.map {
                ObservedAttempt(family: $0.0, result: $0.1, stage: $0.1 == .accepted ? .data : .rcpt, reply: nil)
            })
        return result
    }

    @Test func onlyTheAttemptListsDifferingIsADifferenceBetweenTheModelAndPostfix() {
        let model = Self.result(.delivered, family: .ipv4, code: 250, attempts: [(.ipv4, .accepted)])
        let real = Self.result(
            .delivered, family: .ipv4, code: 250, attempts: [(.ipv6, .unreachable), (.ipv4, .accepted)])
        let row = ParityRow.compare(
            name: "x", results: [model, real], axis: .senders([.builtin, .postfix]), mirrored: ParityRowTests.mirrored)
        #expect(row.differences.map(\.fields) == [["attempts"]])
    }

    @Test func aDifferenceShowsEverySidesAttemptList() {
        let model = Self.result(
            .deferred, family: .ipv6, code: 450, attempts: [(.ipv6, .tempfailed), (.ipv6, .tempfailed)])
        let real = Self.result(
            .delivered, family: .ipv4, code: 250,
            attempts: [(.ipv6, .tempfailed), (.ipv6, .tempfailed), (.ipv4, .accepted)])
        let axis = ParityAxis.senders([.builtin, .exim])
        let row = ParityRow.compare(
            name: "two-mx", results: [model, real], axis: axis, mirrored: ParityRowTests.mirrored)
        #expect(
            row.differences.map(\.fields) == [["outcome", "family", "stage", "class", "attempts"]],
            "the code is not compared again once its class differs")
        let text = ParityTable.render([row], axis: axis, parts: PartCatalog(), terminal: Terminal(colour: false))
        #expect(
            text.contains("builtin: deferred ipv6 rcpt 450 -; attempts: ipv6 tempfailed rcpt -, ipv6 tempfailed rcpt -")
        )
        #expect(
            text.contains(
                "exim: delivered ipv4 data 250 -; attempts: ipv6 tempfailed rcpt -, ipv6 tempfailed rcpt -, ipv4 accepted data -"
            ))
        #expect(text.hasSuffix("parity: 0 same, 1 different, 0 skipped (not run on two sides)"))
    }

    /// The columns are headed as the matrix heads its tables, with each kind's display name in the
    /// catalog the command runs with (a kind it lacks by its name); findings keep the names that
    /// `--targets` and `--sender` take.
    @Test func columnsAreHeadedWithEachKindsDisplayName() {
        let parts = builtinParts.adding(GreetingOnlyReceivers(greeting: "421 4.3.2 busy"))
        let axis = ParityAxis.receivers([.builtin, GreetingOnlyReceivers.target, .exim])
        #expect(axis.headings(parts) == ["the built-in MX", "Greeting-only MX", "exim"])
        let row = ParityRowTests.rows(
            axis,
            [
                ParityRowTests.result(.deferred, 450, "4.7.25"), ParityRowTests.result(.bounced, 554, "5.7.1"),
                ParityRowTests.skipped(),
            ])
        let table = ParityTable.render([row], axis: axis, parts: parts, terminal: Terminal(colour: false))
        let header = table.split(separator: "\n").first.map(String.init) ?? ""
        let columns = header.components(separatedBy: "  ").map { $0.trimmingCharacters(in: CharacterSet.whitespaces) }
        #expect(columns.filter { !$0.isEmpty } == ["case", "the built-in MX", "Greeting-only MX", "exim"], "\(table)")
        #expect(table.contains("greeting-only vs builtin: outcome, class, enhanced"), "\(table)")
        let senders = ParityAxis.senders([.builtin, .exim])
        #expect(senders.headings(parts) == ["the delivery model", "exim"])
    }
}
