import Complaint
import DNSCore
import Foundation
import MXHarnessTestKit
import Policy
import Runner
import SMTPProtocol
import Scenario
import Testing

/// One sample with what its scenario must say, and the records a test fills in for its TODO lines.
struct ReproCase: Sendable, CustomTestStringConvertible {
    var label: String
    var input: String
    var policy: String
    var outcome: DeliveryOutcome
    var stage: SMTPStage
    var code: Int
    var enhanced: String?
    var reproducesAsWritten: Bool
    /// Zone lines standing in for the TODO lines.
    var fill: [String]

    var testDescription: String { label }

    static let all: [ReproCase] = [
        ReproCase(label: "Postfix reject line", input: Samples.postfixReject, policy: "fcrdns", outcome: .deferred, stage: .rcpt,
                  code: 450, enhanced: "4.7.25", reproducesAsWritten: true, fill: []),
        ReproCase(label: "Postfix delivery lines", input: Samples.postfixDelivery, policy: "helo-strict", outcome: .bounced, stage: .rcpt,
                  code: 550, enhanced: "5.7.1", reproducesAsWritten: true, fill: []),
        ReproCase(label: "Exim reject line", input: Samples.eximReject, policy: "fcrdns-strict", outcome: .bounced, stage: .rcpt,
                  code: 550, enhanced: nil, reproducesAsWritten: true,
                  // A PTR whose name does not point back: the reply holds for it too.
                  fill: ["2001:db8:5::66 PTR host66.pool.sender.test.", "host66.pool.sender.test. AAAA 2001:db8:ffff::66"]),
        ReproCase(label: "Exim delivery lines", input: Samples.eximDelivery, policy: "microsoft-like", outcome: .deferred, stage: .rcpt,
                  code: 450, enhanced: "4.7.25", reproducesAsWritten: true, fill: []),
        ReproCase(label: "RFC 3464 DSN", input: Samples.dsn, policy: "gmail-like", outcome: .bounced, stage: .data,
                  code: 550, enhanced: "5.7.1", reproducesAsWritten: true, fill: []),
        ReproCase(label: "Exim bounce text", input: Samples.bounce, policy: "{checks: [spf], reject_at: rcpt, on_fail: reject}", outcome: .bounced, stage: .rcpt,
                  code: 550, enhanced: "5.7.23", reproducesAsWritten: false, fill: ["sender.test. TXT \"v=spf1 ip4:198.51.100.0/24 -all\""]),
        ReproCase(label: "swaks transcript", input: Samples.transcript, policy: "microsoft-like", outcome: .deferred, stage: .data,
                  code: 450, enhanced: "4.7.26", reproducesAsWritten: false,
                  fill: ["2001:db8:5::66 PTR mail.sender.test.", "sender.test. TXT \"v=spf1 ip4:198.51.100.0/24 ~all\""]),
    ]

    func reproduction() throws -> Reproduction {
        switch EvidenceReader.read(input) {
        case .success(let evidence): return ReproductionWriter.reproduce(evidence, input: input, scenarioPath: "complaint.yaml")
        case .failure(let error): throw error
        }
    }

    /// The written scenario, loaded, with the test's records for its TODO lines.
    func filledCase() throws -> ScenarioCase {
        let repro = try reproduction()
        var scenario = try #require(try ScenarioLoader().load(yaml: repro.yaml, file: "/tmp/repro.yaml").first)
        scenario.dns.records += try fill.map { try ZoneLine.parse($0) }
        return scenario
    }
}

@Suite struct ReproductionTests {
    @Test(arguments: ReproCase.all)
    func theScenarioLoadsAndSaysWhatWasObserved(_ sample: ReproCase) throws {
        let repro = try sample.reproduction()
        let cases: [ScenarioCase]
        do {
            cases = try ScenarioLoader().load(yaml: repro.yaml, file: "/tmp/repro.yaml")
        } catch {
            Issue.record("the written scenario does not load: \(error)\n\(repro.yaml)")
            return
        }
        let scenario = try #require(cases.first)
        #expect(cases.count == 1)
        #expect(repro.diagnosis.policy.yaml == sample.policy, "\(repro.diagnosis.explanation)")
        #expect(scenario.receiver.policy == repro.diagnosis.policy.policy)
        #expect(scenario.expect.outcome == sample.outcome)
        #expect(scenario.expect.stage == sample.stage)
        #expect(scenario.expect.code == CodePattern(code: sample.code))
        #expect(scenario.expect.enhanced == sample.enhanced.flatMap(EnhancedPattern.init))
        #expect(scenario.expect.family == scenario.sender.addresses.keys.first)
        #expect(scenario.sender.addresses.count == 1)
        #expect(repro.reproducesAsWritten == sample.reproducesAsWritten)
        #expect(repro.yaml.contains("# TODO") || repro.todos.isEmpty)
        #expect(repro.captureCommand.hasPrefix("mxharness capture --resolver RESOLVER --client "))
        // Every value the scenario carries is accounted for: read, inferred or assumed.
        for field in [EvidenceField.clientAddress, .helo, .mailFrom, .rcptTo, .receiverName, .receiverAddress] {
            #expect(repro.report.contains { $0.hasPrefix("\(field):") }, "no account of \(field) in \(repro.report)")
        }
    }

    @Test func theIssuesLineBecomesTheFormatsDeferral() throws {
        let repro = try ReproCase.all[0].reproduction()
        #expect(repro.yaml.contains("policy: fcrdns\n"))
        #expect(repro.yaml.contains("addresses: {ipv6: \"2001:db8::66\"}"))
        #expect(repro.yaml.contains("helo: bad.sender.test"))
        #expect(repro.yaml.contains("# TODO: PTR for 2001:db8::66"))
        #expect(repro.yaml.contains("text: \"Client host rejected: cannot find your hostname, [2001:db8::66]\""))
        #expect(repro.report.contains { $0.hasPrefix("receiver address: 2001:db8::10 — ASSUMED") })
        #expect(repro.report.contains { $0.hasPrefix("client address: 2001:db8::66 — read from `reject: RCPT from unknown[2001:db8::66]`") })
    }

    @Test func aCodeTheBuiltinMXWordsDifferentlyKeepsTheObservedCodeAndSaysSo() throws {
        let line = "May  1 12:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[192.0.2.66]: 550 5.7.1 Client host rejected: cannot find your hostname, [192.0.2.66]; from=<a@sender.test> to=<u@example.test> proto=ESMTP helo=<x.sender.test>"
        guard case .success(let evidence) = EvidenceReader.read(line) else {
            Issue.record("not read")
            return
        }
        let repro = ReproductionWriter.reproduce(evidence, input: line)
        #expect(repro.diagnosis.policy == .preset(.fcrdnsStrict))
        #expect(repro.diagnosis.differences.contains { $0.contains("5.7.25") && $0.contains("5.7.1") })
        #expect(repro.yaml.contains("enhanced: 5.7.1"))
    }

    @Test func dnsblListingIsWrittenFromTheReply() throws {
        let line = "Jun  2 08:00:00 mx1 postfix/smtpd[7]: NOQUEUE: reject: RCPT from unknown[198.51.100.7]: 554 5.7.1 Service unavailable; Client host [198.51.100.7] blocked using bl.example.test; from=<a@sender.test> to=<u@example.test> proto=ESMTP helo=<mail.sender.test>"
        guard case .success(let evidence) = EvidenceReader.read(line) else {
            Issue.record("not read")
            return
        }
        let repro = ReproductionWriter.reproduce(evidence, input: line)
        #expect(repro.diagnosis.policy == .map(checks: [.dnsbl(zone: "bl.example.test")], rejectAt: .rcpt, onFail: .reject))
        let scenario = try #require(try ScenarioLoader().load(yaml: repro.yaml, file: "/tmp/r.yaml").first)
        #expect(scenario.dns.records.contains { $0.owner == "7.100.51.198.bl.example.test" && $0.type == .a })
    }

    @Test func anUnexplainedReplyLeavesThePolicyOpenAndSaysSo() throws {
        let line = "May  1 12:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[192.0.2.66]: 550 5.1.1 <u@example.test>: Recipient address rejected: User unknown in local recipient table; from=<a@sender.test> to=<u@example.test> proto=ESMTP helo=<x.sender.test>"
        guard case .success(let evidence) = EvidenceReader.read(line) else {
            Issue.record("not read")
            return
        }
        let repro = ReproductionWriter.reproduce(evidence, input: line)
        #expect(!repro.diagnosis.recognized)
        #expect(repro.diagnosis.policy == .preset(.open))
        #expect(!repro.reproducesAsWritten)
        #expect(repro.yaml.contains("# TODO: the records the receiver's policy looked at"))
        #expect(throws: Never.self) { try ScenarioLoader().load(yaml: repro.yaml, file: "/tmp/r.yaml") }
    }
}

/// Each sample's scenario, TODO records filled in, replayed on the built-in MX: the original reply again.
@Suite(.serialized, .enabled(if: IntegrationEnvironment.canRunWorlds, IntegrationEnvironment.worldSkipReason))
struct ReproductionReplayTests {
    @Test(arguments: ReproCase.all)
    func theFilledScenarioReproducesTheReply(_ sample: ReproCase) async throws {
        let scenario = try sample.filledCase()
        let result = await CaseRunner(configuration: RunConfiguration(target: .builtin)).run(scenario)
        #expect(result.status == .passed, "\(result.status) \(result.mismatches) \(result.delivery?.renderTranscript() ?? "")")
        #expect(result.observed?.reply?.code == sample.code)
    }

    @Test func aScenarioThatDoesNotReproduceAsWrittenNeedsItsTODOs() async throws {
        // The bounce says SPF failed; without the TODO record there is no SPF record and no failure.
        let sample = ReproCase.all[5]
        let repro = try sample.reproduction()
        let scenario = try #require(try ScenarioLoader().load(yaml: repro.yaml, file: "/tmp/repro.yaml").first)
        let result = await CaseRunner(configuration: RunConfiguration(target: .builtin)).run(scenario)
        #expect(result.status == .failed)
        #expect(result.observed?.outcome == .delivered)
    }
}

