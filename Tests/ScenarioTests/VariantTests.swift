import DNSCore
import Foundation
import Policy
import SMTPProtocol
import Scenario
import Testing
import MXHarnessTestKit

@Suite struct VariantTests {
    /// A scenario with both families and the format's variant example.
    static let scenario = """
        name: dual-stack
        tags: [ptr]
        dns:
          records:
            - example.test. MX 10 mx.example.test.
            - mx.example.test. A 192.0.2.10
            - mx.example.test. AAAA 2001:db8::10
        receiver:
          addresses: [192.0.2.10, "2001:db8::10"]
          policy: {ipv6: [fcrdns], on_fail: reject}
        sender:
          addresses: {ipv4: 198.51.100.25, ipv6: "2001:db8:5::25"}
          helo: mail.sender.test
          mail_from: alice@sender.test
          rcpt_to: [bob@example.test]
        variants:
          - name: receiver-defers
            receiver: {policy: fcrdns}
            expect: {outcome: delivered, family: ipv4,
                     attempts: [{family: ipv6, result: tempfailed, code: 450}, {family: ipv4, result: accepted}]}
          - name: new-ipv4-source
            tags: [ipv4]
            sender:
              addresses: {ipv4: 198.51.100.26}
            receiver:
              addresses: [192.0.2.10]
            expect: {outcome: delivered}
        """

    @Test func theFormatsVariantExample() throws {
        let cases = try ScenarioLoader().load(yaml: Self.scenario, file: "dual.yaml")
        // No expect of its own: the scenario itself is not a case.
        #expect(cases.map(\.name) == ["dual-stack/receiver-defers", "dual-stack/new-ipv4-source"])
        let defers = cases[0]
        #expect(defers.location == SourceLocation(file: "dual.yaml", line: 17, column: 5))
        #expect(defers.receiver.policy == Preset.fcrdns.policy)  // a scalar replaces the map
        #expect(defers.receiver.addresses.count == 2)  // kept: receiver merged key by key
        #expect(
            defers.expect
                == Expectation(
                    outcome: .delivered, family: .ipv4,
                    attempts: [
                        ExpectedAttempt(family: .ipv6, result: .tempfailed, code: CodePattern("450")),
                        ExpectedAttempt(family: .ipv4, result: .accepted),
                    ]))
        #expect(defers.tags == ["ptr"])
    }

    @Test func mapsMergeKeyByKeyListsReplace() throws {
        let cases = try ScenarioLoader().load(yaml: Self.scenario, file: "dual.yaml")
        let only = cases[1]
        #expect(only.tags == ["ipv4"])  // list replaced, not appended
        #expect(only.receiver.addresses == [IPAddress("192.0.2.10")!])  // list replaced
        #expect(only.receiver.policy.ipv6 == [.fcrdns])  // sibling key kept
        // The sender map is merged: helo, mail_from, rcpt_to come from the scenario; the
        // addresses map is merged too, so ipv6 stays and ipv4 is replaced.
        #expect(only.sender.helo == "mail.sender.test")
        #expect(only.sender.addresses == [.ipv4: IPAddress("198.51.100.26")!, .ipv6: IPAddress("2001:db8:5::25")!])
    }

    @Test func aScenarioWithItsOwnExpectIsACaseToo() throws {
        let yaml =
            minimalWorld + """

                expect: {outcome: bounced, stage: rcpt, code: 550}
                variants:
                  - name: accepted
                    expect: {outcome: delivered, code: 250}
                """
        let cases = try ScenarioLoader().load(yaml: yaml, file: "own.yaml")
        #expect(cases.map(\.name) == ["own", "own/accepted"])
        #expect(cases[0].expect == Expectation(outcome: .bounced, stage: .rcpt, code: CodePattern("550")))
        #expect(cases[1].expect == Expectation(outcome: .delivered, code: CodePattern("250")))
    }

    @Test func aVariantsExpectReplacesTheScenariosWhole() throws {
        let yaml =
            minimalWorld + """

                expect: {outcome: bounced, text: cannot find your hostname}
                variants:
                  - name: own-expect
                    expect: {outcome: deferred}
                  - name: no-expect
                    receiver: {policy: fcrdns}
                  - name: null-expect
                    expect: ~
                """
        let cases = try ScenarioLoader().load(yaml: yaml, file: "keep.yaml")
        let scenarios = Expectation(outcome: .bounced, text: .substring("cannot find your hostname"))
        #expect(cases.map(\.name) == ["keep", "keep/own-expect", "keep/no-expect", "keep/null-expect"])
        #expect(cases[1].expect == Expectation(outcome: .deferred), "nothing of the scenario's expect carries over")
        #expect(cases[2].expect == scenarios, "a variant without expect keeps the scenario's")
        #expect(cases[3].expect == scenarios, "expect: ~ is absent, like every null")
    }

    @Test func aProfilesExpectIsStillMergedKeyByKey() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mxh-test-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: directory + "/_profiles", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "expect: {family: ipv6, stage: rcpt}\n".write(
            toFile: directory + "/_profiles/p.yaml", atomically: true, encoding: .utf8)
        let yaml =
            "include: [_profiles/p.yaml]\n" + minimalWorld + """

                expect: {outcome: bounced}
                """
        try yaml.write(toFile: directory + "/s.yaml", atomically: true, encoding: .utf8)
        let cases = try ScenarioLoader().load(paths: [directory + "/s.yaml"])
        #expect(cases.first?.expect == Expectation(outcome: .bounced, family: .ipv6, stage: .rcpt))
    }

    @Test func theSpecsVariantOnTheSpecsExampleAssertsExactlyWhatItWrites() throws {
        // The format (1.1): a variant's expect replaces the scenario's whole, so the example's
        // stage/code/enhanced/text (those of the bounce) do not carry over into the variant.
        let yaml =
            formatExample + """
                variants:
                  - name: receiver-defers
                    receiver: {policy: fcrdns}
                    expect: {outcome: delivered, family: ipv4,
                             attempts: [{family: ipv6, result: tempfailed, code: 450}, {family: ipv4, result: accepted}]}
                """
        let cases = try ScenarioLoader().load(yaml: yaml, file: "e.yaml")
        #expect(cases.map(\.name) == ["ipv6-sender-without-ptr", "ipv6-sender-without-ptr/receiver-defers"])
        #expect(cases[1].receiver.policy == Preset.fcrdns.policy)
        #expect(
            cases[1].expect
                == Expectation(
                    outcome: .delivered, family: .ipv4,
                    attempts: [
                        ExpectedAttempt(family: .ipv6, result: .tempfailed, code: CodePattern("450")),
                        ExpectedAttempt(family: .ipv4, result: .accepted),
                    ]))
    }

    @Test func checksApplyToBothFamiliesAndAFamilyListReplacesIt() throws {
        let yaml =
            minimalWorld.replacingOccurrences(
                of: "  addresses: [192.0.2.10]",
                with: "  addresses: [192.0.2.10]\n  policy: {checks: [ptr, helo-valid]}")
            + "\nexpect: {outcome: delivered}\nvariants:\n  - name: v6\n    receiver: {policy: {ipv6: [fcrdns]}}\n"
        let cases = try ScenarioLoader().load(yaml: yaml, file: "c.yaml")
        #expect(cases[0].receiver.policy == ReceiverPolicy(ipv4: [.ptr, .heloValid], ipv6: [.ptr, .heloValid]))
        #expect(cases[1].receiver.policy == ReceiverPolicy(ipv4: [.ptr, .heloValid], ipv6: [.fcrdns]))
    }

    @Test func expectIsRequiredUnlessEveryVariantHasOne() {
        let yaml =
            minimalWorld + """

                variants:
                  - name: with
                    expect: {outcome: delivered}
                  - name: without
                    tags: [x]
                """
        #expect(
            loadErrors(yaml: yaml, file: "v.yaml") == [
                "v.yaml:14:5: expect: required key is missing: every variant needs an expect when the scenario has none (variant \"without\")"
            ])
    }
}
