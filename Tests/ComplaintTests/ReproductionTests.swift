import Complaint
import DNSCore
import Foundation
import MXHarnessTestKit
import Policy
import Runner
import RunnerTestKit
import SMTPProtocol
import Scenario
import Testing

/// One sample with what its scenario must say.
struct ReproCase: Sendable, CustomTestStringConvertible {
    var label: String
    var input: String
    /// The check the policy runs (a stand-in DNSBL for a reply no check explains).
    var check: String
    var outcome: DeliveryOutcome
    /// nil: the scenario leaves `expect.stage` out.
    var stage: SMTPStage?
    var code: Int
    var enhanced: String?

    var testDescription: String { label }

    static let all: [ReproCase] = [
        ReproCase(
            label: "Postfix reject line", input: Samples.postfixReject, check: "fcrdns", outcome: .deferred,
            stage: .rcpt, code: 450, enhanced: "4.7.25"),
        ReproCase(
            label: "Postfix delivery lines", input: Samples.postfixDelivery, check: "helo-resolves", outcome: .bounced,
            stage: .rcpt, code: 550, enhanced: "5.7.1"),
        ReproCase(
            label: "Exim reject line", input: Samples.eximReject, check: "fcrdns", outcome: .bounced, stage: .rcpt,
            code: 550, enhanced: nil),
        ReproCase(
            label: "Exim delivery lines", input: Samples.eximDelivery, check: "fcrdns", outcome: .deferred,
            stage: .rcpt, code: 450, enhanced: "4.7.25"),
        ReproCase(
            label: "RFC 3464 DSN", input: Samples.dsn, check: "fcrdns", outcome: .bounced, stage: .data, code: 550,
            enhanced: "5.7.1"),
        ReproCase(
            label: "Exim bounce text", input: Samples.bounce, check: "spf", outcome: .bounced, stage: .rcpt, code: 550,
            enhanced: "5.7.23"),
        ReproCase(
            label: "swaks transcript", input: Samples.transcript, check: "spf-pass", outcome: .deferred, stage: .rcpt,
            code: 450, enhanced: "4.7.26"),
    ]

    func reproduction() throws -> Reproduction {
        switch EvidenceReader.read(input) {
        case .success(let evidence):
            return ReproductionWriter.reproduce(evidence, input: input, scenarioPath: "complaint.yaml")
        case .failure(let error): throw error
        }
    }
}

func reproduction(of input: String) throws -> Reproduction {
    switch EvidenceReader.read(input) {
    case .success(let evidence): return ReproductionWriter.reproduce(evidence, input: input)
    case .failure(let error): throw error
    }
}

@Suite struct ReproductionTests {
    @Test(arguments: ReproCase.all)
    func theScenarioLoadsAndSaysWhatWasObserved(_ sample: ReproCase) throws {
        let repro = try sample.reproduction()
        let cases: [ScenarioCase]
        do {
            cases = try ScenarioLoader(kinds: builtinKinds).load(yaml: repro.yaml, file: "/tmp/repro.yaml")
        } catch {
            Issue.record("the written scenario does not load: \(error)\n\(repro.yaml)")
            return
        }
        let scenario = try #require(cases.first)
        #expect(cases.count == 1)
        #expect(repro.diagnosis.check?.name == sample.check, "\(repro.diagnosis.explanation)")
        #expect(scenario.receiver.policy == repro.diagnosis.policy.policy)
        #expect(scenario.expect.outcome == sample.outcome)
        #expect(scenario.expect.stage == sample.stage)
        #expect(scenario.expect.code == CodePattern(code: sample.code))
        #expect(scenario.expect.enhanced == sample.enhanced.flatMap(EnhancedPattern.init))
        #expect(scenario.expect.family == scenario.sender.addresses.keys.first)
        #expect(scenario.sender.addresses.count == 1)
        #expect(repro.reproducesAsWritten)
        // What expect says is what the policy answers this client (the built-in MX's own reply).
        let client = try #require(scenario.sender.addresses.values.first)
        let check = try #require(repro.diagnosis.check)
        let outcome: CheckOutcome =
            repro.diagnosis.dnsError ? .temporary : repro.diagnosis.permerror ? .permerror : .fail
        let answer = try #require(
            scenario.receiver.policy.reply(for: check, outcome: outcome, client: client, helo: scenario.sender.helo))
        #expect(answer.code == sample.code && answer.enhanced == sample.enhanced)
        #expect(repro.captureCommand.hasPrefix("mxharness capture --resolver RESOLVER --client "))
        // Every value the scenario carries is accounted for: read, inferred or assumed.
        for field in [
            "client address", "HELO", "envelope sender", "envelope recipient", "receiver host name", "receiver address",
        ] {
            let alternatives = [
                "client address": "sender.addresses", "HELO": "sender.helo", "envelope sender": "sender.mail_from",
                "envelope recipient": "sender.rcpt_to", "receiver host name": "receiver.hostname",
                "receiver address": "receiver.addresses",
            ]
            #expect(
                repro.report.contains { $0.hasPrefix("\(field):") || $0.hasPrefix("\(alternatives[field]!):") },
                "no account of \(field) in \(repro.report)")
        }
    }

    @Test func theIssuesLineBecomesTheFormatsDeferral() throws {
        let repro = try ReproCase.all[0].reproduction()
        #expect(repro.yaml.contains("policy: fcrdns\n"))
        #expect(repro.yaml.contains("addresses: {ipv6: \"2001:db8::66\"}"))
        #expect(repro.yaml.contains("helo: bad.sender.test"))
        #expect(repro.yaml.contains("text: \"Client host rejected: cannot find your hostname, [2001:db8::66]\""))
        #expect(repro.report.contains { $0.hasPrefix("receiver.addresses: 2001:db8::10 — ASSUMED") })
        #expect(
            repro.report.contains {
                $0.hasPrefix("client address: 2001:db8::66 — read from `reject: RCPT from unknown[2001:db8::66]`")
            })
    }

    /// A code given without its text gets RFC 5321's text for that code (4.2.2; RFC 7504 for 521
    /// and 556), said as assumed.
    @Test(arguments: [
        (503, "Bad sequence of commands"), (501, "Syntax error in parameters or arguments"),
        (554, "Transaction failed"), (556, "Domain does not accept mail"),
    ])
    func aCodeWithoutItsTextGetsRFC5321sText(code: Int, text: String) throws {
        let repro = try reproduction(of: "Expected response code 250 but got code \"\(code)\", with message \"\"")
        #expect(repro.evidence.reply?.code == code)
        #expect(repro.yaml.contains("text: \"\(text)\""), "\(repro.yaml)")
        #expect(repro.report.contains { $0.hasPrefix("receiver.policy.reply.text: \"\(text)\"") }, "\(repro.report)")
    }

    @Test func aSiteSetCodeAndTextBecomeThePolicysReply() throws {
        // reject_unknown_client_hostname with unknown_client_reject_code = 554 on an old Postfix (5.7.1).
        let line =
            "May  1 12:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[192.0.2.66]: 554 5.7.1 Client host rejected: cannot find your hostname, [192.0.2.66]; from=<a@sender.test> to=<u@example.test> proto=ESMTP helo=<x.sender.test>"
        let repro = try reproduction(of: line)
        #expect(
            repro.diagnosis.policy
                == .map(
                    checks: [.fcrdns], rejectAt: .rcpt, onFail: .reject,
                    reply: CustomReply(
                        code: 554, enhanced: "5.7.1",
                        text: "Client host rejected: cannot find your hostname, [192.0.2.66]")))
        #expect(repro.yaml.contains("code: 554") && repro.yaml.contains("enhanced: 5.7.1"))
    }

    @Test func dnsblListingIsWrittenFromTheReply() throws {
        let line =
            "Jun  2 08:00:00 mx1 postfix/smtpd[7]: NOQUEUE: reject: RCPT from unknown[198.51.100.7]: 554 5.7.1 Service unavailable; Client host [198.51.100.7] blocked using bl.example.test; from=<a@sender.test> to=<u@example.test> proto=ESMTP helo=<mail.sender.test>"
        let repro = try reproduction(of: line)
        #expect(
            repro.diagnosis.policy == .map(checks: [.dnsbl(zone: "bl.example.test")], rejectAt: .rcpt, onFail: .reject))
        let scenario = try #require(
            try ScenarioLoader(kinds: builtinKinds).load(yaml: repro.yaml, file: "/tmp/r.yaml").first)
        #expect(scenario.dns.records.contains { $0.owner == "7.100.51.198.bl.example.test" && $0.type == .a })
    }

    @Test func aReplyNoCheckExplainsIsPlayedByAStandInListing() throws {
        let line =
            "May  1 12:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[192.0.2.66]: 550 5.1.1 <u@example.test>: Recipient address rejected: User unknown in local recipient table; from=<a@sender.test> to=<u@example.test> proto=ESMTP helo=<x.sender.test>"
        let repro = try reproduction(of: line)
        #expect(!repro.diagnosis.recognized)
        #expect(repro.diagnosis.standIn)
        #expect(repro.diagnosis.check == .dnsbl(zone: ReplyDiagnosis.standInZone))
        #expect(repro.reproducesAsWritten)
        let scenario = try #require(
            try ScenarioLoader(kinds: builtinKinds).load(yaml: repro.yaml, file: "/tmp/r.yaml").first)
        #expect(
            scenario.receiver.policy.siteReply?.text
                == "<u@example.test>: Recipient address rejected: User unknown in local recipient table")
        #expect(scenario.dns.records.contains { $0.owner == "66.2.0.192.\(ReplyDiagnosis.standInZone)" })
    }

    @Test func aGreetingThatBouncedNeedsThePostfixSettingThatBouncesIt() throws {
        let dsn = """
            <u@example.test>: host mx.example.test[192.0.2.10] refused to talk to me: 554 5.7.1 No SMTP service here
            Reporting-MTA: dns; mail.sender.test
            Final-Recipient: rfc822; u@example.test
            Action: failed
            Status: 5.7.1
            Diagnostic-Code: smtp; 554 5.7.1 No SMTP service here
            """
        let bounced = try reproduction(of: dsn)
        #expect(bounced.evidence.stage == .greeting)
        #expect(bounced.yaml.contains("postfix: {smtp_skip_5xx_greeting: \"no\"}"))
        #expect(bounced.yaml.contains("outcome: bounced"))
        let scenario = try #require(
            try ScenarioLoader(kinds: builtinKinds).load(yaml: bounced.yaml, file: "/tmp/r.yaml").first)
        #expect(scenario.sender.settings("postfix", as: SettingsMap.self)?.values["smtp_skip_5xx_greeting"] == "no")

        let deferred = try reproduction(of: dsn.replacingOccurrences(of: "Status: 5.7.1", with: "Status: 4.7.1"))
        #expect(!deferred.yaml.contains("postfix: {smtp_skip_5xx_greeting"))
        #expect(deferred.yaml.contains("outcome: deferred"))
    }

    @Test func aDSNWithOnlyADiagnosticCodeGetsNoStage() throws {
        let dsn = """
            Final-Recipient: rfc822; u@example.test
            Action: failed
            Status: 5.7.1
            Diagnostic-Code: smtp; 550 5.7.1 Message rejected as spam
            """
        let repro = try reproduction(of: dsn)
        #expect(repro.evidence.stage == nil)
        let scenario = try #require(
            try ScenarioLoader(kinds: builtinKinds).load(yaml: repro.yaml, file: "/tmp/r.yaml").first)
        #expect(scenario.expect.stage == nil)
        #expect(scenario.expect.outcome == .bounced)
        // Never a silent drop: the key left out is named, with why, in the report and in the file.
        #expect(repro.omissions.contains { $0.hasPrefix("expect.stage: the input does not say") })
        #expect(repro.report.contains { $0.hasPrefix("expect.stage: LEFT OUT") })
        #expect(repro.yaml.contains("# LEFT OUT: expect.stage"))
    }
}

/// Each sample's scenario, as written, replayed on the built-in MX: the original reply again.
@Suite(.serialized, .enabled(if: IntegrationEnvironment.canRunWorlds, IntegrationEnvironment.worldSkipReason))
struct ReproductionReplayTests {
    @Test(arguments: ReproCase.all)
    func theWrittenScenarioReproducesTheReply(_ sample: ReproCase) async throws {
        let repro = try sample.reproduction()
        let scenario = try #require(
            try ScenarioLoader(kinds: builtinKinds).load(yaml: repro.yaml, file: "/tmp/repro.yaml").first)
        let result = await CaseRunner(configuration: RunConfiguration(target: .builtin), parts: builtinParts).run(
            scenario)
        #expect(
            result.status == .passed,
            "\(result.status) \(result.mismatches) \(result.delivery?.renderTranscript() ?? "")")
        #expect(result.observed?.reply?.code == sample.code)
    }
}
