import DNSCore
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Reports
import Runner
import SMTPProtocol
import Scenario
import Testing

enum Fixtures {
    static func scenario(_ name: String, file: String = "Scenarios/rdns.yaml", line: Int = 3) -> ScenarioCase {
        ScenarioCase(
            name: name, description: "a case", tags: ["ipv6"],
            location: SourceLocation(file: file, line: line, column: 1),
            dns: WorldSpec(), receiver: ReceiverSpec(addresses: [IPAddress("2001:db8::10")!]),
            sender: SenderSpec(
                addresses: [.ipv6: IPAddress("2001:db8:5::25")!], helo: "mail.sender.test", mailFrom: "a@sender.test",
                rcptTo: ["b@example.test"]),
            expect: Expectation(outcome: .bounced))
    }

    static func results() -> [CaseResult] {
        var passed = CaseResult(scenario: scenario("passes"), target: .builtin, status: .passed)
        passed.observed = ObservedDelivery(
            outcome: .delivered, family: .ipv6, stage: .data, reply: SMTPReply(code: 250, enhanced: "2.0.0", "Ok"))
        var failed = CaseResult(
            scenario: scenario("fails <&> \"quoted\" #1", line: 20), target: .builtin, status: .failed)
        failed.observed = ObservedDelivery(
            outcome: .deferred, family: .ipv6, stage: .rcpt,
            reply: SMTPReply(
                code: 450, enhanced: "4.7.25", "Client host rejected: cannot find your hostname, [2001:db8:5::25]"))
        failed.mismatches = [Mismatch(key: "outcome", expected: "bounced", got: "deferred")]
        failed.evidence = LogEvidence(log: "control \u{7} character & <tag>")
        let skipped = CaseResult(
            scenario: scenario("skipped", file: "Scenarios/other.yaml"), target: .postfix,
            status: .skipped("preset gmail-like is builtin only"))
        let errored = CaseResult(
            scenario: scenario("errored", file: "Scenarios/other.yaml"), target: .builtin,
            status: .error("unbound exited at start"))
        return [passed, failed, skipped, errored]
    }
}

struct JUnitReporterTests {
    /// GitHub's and GitLab's readers: well-formed XML, <testsuites> of <testsuite> of <testcase> with
    /// name, classname and time; failure/error/skipped children with a message; counts that add up.
    @Test func isWellFormedAndCountsAddUp() throws {
        let xml = JUnitReporter.render(Fixtures.results(), timestamp: Date(timeIntervalSince1970: 0))
        let document = try XMLDocument(data: Data(xml.utf8))
        let root = try #require(document.rootElement())
        #expect(root.name == "testsuites")
        #expect(root.attribute(forName: "tests")?.stringValue == "4")
        #expect(root.attribute(forName: "failures")?.stringValue == "1")
        #expect(root.attribute(forName: "errors")?.stringValue == "1")
        #expect(root.attribute(forName: "skipped")?.stringValue == "1")
        let suites = root.elements(forName: "testsuite")
        #expect(
            suites.map { $0.attribute(forName: "name")?.stringValue } == [
                "Scenarios/other.yaml", "Scenarios/rdns.yaml",
            ])
        var total = 0
        for suite in suites {
            let cases = suite.elements(forName: "testcase")
            #expect(suite.attribute(forName: "tests")?.stringValue == String(cases.count))
            total += cases.count
            for testcase in cases {
                for attribute in ["name", "classname", "time"] {
                    #expect(testcase.attribute(forName: attribute) != nil, "\(attribute)")
                }
                #expect(Double(testcase.attribute(forName: "time")!.stringValue!) != nil)
            }
        }
        #expect(total == 4)
        let failing = try #require(
            suites[1].elements(forName: "testcase").first {
                $0.attribute(forName: "name")?.stringValue == "fails <&> \"quoted\" #1"
            })
        #expect(
            failing.elements(forName: "failure").first?.attribute(forName: "message")?.stringValue
                == "outcome: expected bounced, got deferred")
        #expect(failing.attribute(forName: "line")?.stringValue == "20")
        #expect(failing.elements(forName: "system-out").first?.stringValue?.contains("& <tag>") == true)
        let skipped = try #require(
            suites[0].elements(forName: "testcase").first { $0.attribute(forName: "name")?.stringValue == "skipped" })
        #expect(
            skipped.elements(forName: "skipped").first?.attribute(forName: "message")?.stringValue
                == "preset gmail-like is builtin only")
    }
}

struct TAPReporterTests {
    @Test func linesFollowTAP14() {
        let results = Fixtures.results()
        #expect(TAPReporter.line(results[0], number: 1) == "ok 1 - passes")
        let failed = TAPReporter.line(results[1], number: 2)
        #expect(failed.hasPrefix("not ok 2 - fails <&> \"quoted\" \\#1\n  ---\n"))
        #expect(failed.contains("  outcome: {expected: \"bounced\", got: \"deferred\"}"))
        #expect(failed.hasSuffix("\n  ..."))
        #expect(TAPReporter.line(results[2], number: 3) == "ok 3 - skipped # SKIP preset gmail-like is builtin only")
        #expect(TAPReporter.line(results[3], number: 4).hasPrefix("not ok 4 - errored"))
    }
}

struct JSONReporterTests {
    @Test func oneObjectPerCaseWithStatusAndReply() throws {
        let data = try JSONReporter.render(Fixtures.results())
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let summary = try #require(object["summary"] as? [String: Int])
        #expect(summary == ["passed": 1, "failed": 1, "skipped": 1, "errors": 1])
        let cases = try #require(object["cases"] as? [[String: Any]])
        #expect(cases.map { $0["status"] as? String } == ["passed", "failed", "skipped", "error"])
        let reply = try #require(cases[1]["reply"] as? [String: Any])
        #expect(reply["code"] as? Int == 450)
        #expect(reply["enhanced"] as? String == "4.7.25")
        #expect((cases[1]["mismatches"] as? [[String: String]])?.first?["got"] == "deferred")
        #expect(cases[2]["reason"] as? String == "preset gmail-like is builtin only")
    }
}

struct ConsoleReporterTests {
    @Test func noColourWhenAskedAndSummaryLine() {
        let console = ConsoleReporter(terminal: Terminal(colour: false))
        let results = Fixtures.results()
        #expect(console.progressLine(results[0]) == "PASS passes  delivered ipv6 data 250 2.0.0")
        let report = console.finalReport(results)
        #expect(!report.contains("\u{1B}["))
        #expect(report.contains("outcome: expected bounced, got deferred"))
        #expect(report.hasSuffix("1 passed, 2 failed, 1 skipped"))
        let table = console.summaryTable(results)
        #expect(table.split(separator: "\n").first?.hasPrefix("case") == true)
        #expect(table.contains("deferred   ipv6    rcpt   450 4.7.25  failed"))
    }

    @Test func colourOnATerminal() {
        let console = ConsoleReporter(terminal: Terminal(colour: true))
        #expect(console.progressLine(Fixtures.results()[0]).contains("\u{1B}[32mPASS"))
    }

    @Test func theSummaryColoursTheStatusCellNotTheWordInACaseName() {
        let console = ConsoleReporter(terminal: Terminal(colour: true))
        var result = CaseResult(scenario: Fixtures.scenario("passed-twice-passed"), target: .builtin, status: .passed)
        result.observed = ObservedDelivery(
            outcome: .delivered, family: .ipv6, stage: .data, reply: SMTPReply(code: 250, "Ok"))
        let line = console.summaryTable([result]).split(separator: "\n").last.map(String.init) ?? ""
        #expect(line.hasPrefix("passed-twice-passed  "))
        #expect(line.hasSuffix(Terminal(colour: true).green("passed")))
        #expect(line.components(separatedBy: "\u{1B}[").count == 3)
    }
}

/// A policy engine's verdicts (`receiver.engines`) in the JSON report and on the console.
struct EngineVerdictReportTests {
    static func result() -> CaseResult {
        var result = Fixtures.results()[1]
        result.evidence = LogEvidence(
            log: "a log",
            engines: [
                EngineVerdict(
                    engine: "rspamd", action: "soft reject", score: 3.3, rejectScore: 4,
                    symbols: [.init(name: "HFILTER_HOSTNAME_UNKNOWN", score: 2.5), .init(name: "RDNS_NONE", score: 1)],
                    answered: true, messageID: "A0116F7B139")
            ])
        return result
    }

    @Test func jsonListsEachVerdictAndOmitsTheKeyWithoutEngines() throws {
        let data = try JSONReporter.render([Fixtures.results()[0], Self.result()])
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let cases = try #require(object["cases"] as? [[String: Any]])
        #expect(cases[0]["engines"] == nil)
        let engines = try #require(cases[1]["engines"] as? [[String: Any]])
        #expect(engines.count == 1)
        #expect(engines[0]["engine"] as? String == "rspamd")
        #expect(engines[0]["action"] as? String == "soft reject")
        #expect(engines[0]["score"] as? Double == 3.3)
        #expect(engines[0]["rejectScore"] as? Double == 4)
        #expect(engines[0]["answered"] as? Bool == true)
        #expect(engines[0]["messageID"] as? String == "A0116F7B139")
        let symbols = try #require(engines[0]["symbols"] as? [[String: Any]])
        #expect(symbols.map { $0["name"] as? String } == ["HFILTER_HOSTNAME_UNKNOWN", "RDNS_NONE"])
    }

    @Test func theConsoleSaysWhichEngineAnsweredAndWhy() {
        let console = ConsoleReporter(terminal: Terminal(colour: false))
        let result = Self.result()
        #expect(console.progressLine(result).hasSuffix("  [rspamd 3.30/4.00 soft reject (answered)]"))
        #expect(
            console.failureDetails(result).contains(
                "  engine: rspamd 3.30/4.00 soft reject (answered): HFILTER_HOSTNAME_UNKNOWN 2.50, RDNS_NONE 1.00"))
    }
}
