import Foundation
import Matrix
import Policy
import Postfix
import Runner
import Scenario
import Testing

struct PolicyColumnTests {
    /// Postfix as a receiver, whose main.cf files are columns (`--postfix-config`).
    static let parts = PartCatalog(receivers: [PostfixReceivers()])

    @Test func presetsAndPolicyFilesBecomeColumnsInOrder() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/ours.yaml"
        try "policy: {ipv6: [fcrdns, spf], ipv4: [ptr], on_fail: defer}\n".write(
            toFile: file, atomically: true, encoding: .utf8)
        let columns = try PolicyColumn.columns(
            policies: ["fcrdns", file, " fcrdns-strict "], target: .builtin)
        #expect(columns.map(\.name) == ["fcrdns", "ours", "fcrdns-strict"])
        #expect(columns[0].policy == Preset.fcrdns.policy)
        #expect(columns[1].policy == ReceiverPolicy(ipv4: [.ptr], ipv6: [.fcrdns, .spf], onFail: .defer))
        #expect(
            columns[1].summary == "policy file \(file): IPv4: ptr; IPv6: fcrdns, spf; failures deferred (4xx) at RCPT")
        #expect(columns[2].summary == "preset fcrdns-strict: IPv4 and IPv6: fcrdns; failures rejected (5xx) at RCPT")
    }

    @Test func anUnknownPolicySaysWhatItIsNotAndSuggests() {
        #expect {
            try PolicyColumn.columns(policies: ["fcrdns-strikt"], target: .builtin)
        } throws: { error in
            let text = "\(error)"
            return text.contains("\"fcrdns-strikt\" is neither a preset") && text.contains("no such file")
                && text.contains("did you mean fcrdns-strict?")
        }
        #expect { try PolicyColumn.columns(policies: ["nope"], target: .builtin) } throws: {
            !"\($0)".contains("did you mean")
        }
    }

    @Test func columnsMustBeNamedOnceAndBeThere() {
        #expect {
            try PolicyColumn.columns(policies: ["fcrdns", "fcrdns"], target: .builtin)
        } throws: {
            "\($0)".contains("two columns are named \"fcrdns\"")
        }
        #expect { try PolicyColumn.columns(policies: [], target: .builtin) } throws: {
            "\($0)".contains("no columns")
        }
        #expect {
            try PolicyColumn.columns(policies: ["fcrdns", ""], target: .builtin)
        } throws: { "\($0)".contains("an empty entry") }
    }

    @Test func postfixConfigurationsNeedThePostfixTarget() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let strict = directory + "/strict.cf"
        try "smtpd_client_restrictions = reject_unknown_client_hostname\nunknown_client_reject_code = 550\n".write(
            toFile: strict, atomically: true, encoding: .utf8)
        #expect {
            try PolicyColumn.columns(policies: [], configurations: [strict], target: .builtin, parts: Self.parts)
        } throws: {
            "\($0)".contains("add --target postfix")
        }
        let columns = try PolicyColumn.columns(
            policies: ["fcrdns"], configurations: [strict], target: .postfix, parts: Self.parts)
        #expect(columns.map(\.name) == ["fcrdns", strict])
        #expect(columns[1].policy == nil)
        let bad = directory + "/bad.cf"
        try "smtpd_client_restrictions = x\nthis line has no equals sign\n".write(
            toFile: bad, atomically: true, encoding: .utf8)
        #expect {
            try PolicyColumn.columns(policies: [], configurations: [bad], target: .postfix, parts: Self.parts)
        } throws: {
            "\($0)".contains("\(bad)") && "\($0)".contains("2")
        }
        #expect {
            try PolicyColumn.columns(
                policies: [], configurations: [directory + "/missing.cf"], target: .postfix, parts: Self.parts)
        } throws: { "\($0)".contains("cannot read") }
    }

    @Test func aColumnReplacesTheReceiversPolicyAndNothingElse() throws {
        var scenario = Fixtures.scenario("x", policy: Preset.fcrdns.policy)
        scenario.receiver.postfix = ["smtpd_helo_required": "yes"]
        let strict = PolicyColumn.preset(.fcrdnsStrict).applied(to: scenario)
        #expect(strict.receiver.policy == Preset.fcrdnsStrict.policy)
        #expect(strict.receiver.postfix.isEmpty, "the case's own Postfix settings are its own policy")
        #expect(strict.receiver.addresses == scenario.receiver.addresses)
        #expect(strict.sender.addresses == scenario.sender.addresses)
        #expect(strict.expect == scenario.expect)

        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/strict.cf"
        try "smtpd_client_restrictions = reject_unknown_client_hostname\nunknown_client_reject_code = 550\n".write(
            toFile: path, atomically: true, encoding: .utf8)
        let file = try #require(Self.parts.receivers[.postfix]?.configurationColumns).read(path)
        #expect(file.summary == "Postfix main.cf \(path) (2 parameters)")
        let postfix = PolicyColumn(name: "strict.cf", source: .configuration(file)).applied(to: scenario)
        #expect(postfix.receiver.policy == .open)
        #expect(
            postfix.receiver.postfix == [
                "smtpd_client_restrictions": "reject_unknown_client_hostname", "unknown_client_reject_code": "550",
            ])
    }

    @Test func theOwnPolicyColumnIsTheOneWithExactlyTheCasesPolicy() {
        let scenario = Fixtures.scenario("x", policy: Preset.fcrdns.policy)
        #expect(PolicyColumn.preset(.fcrdns).isOwnPolicy(of: scenario))
        #expect(!PolicyColumn.preset(.fcrdnsStrict).isOwnPolicy(of: scenario))
        let sameChecksNoPreset = PolicyColumn(
            name: "mine",
            source: .file(path: "mine.yaml", policy: ReceiverPolicy(ipv4: [.fcrdns], ipv6: [.fcrdns], onFail: .defer)))
        let mapCase = Fixtures.scenario("y", policy: ReceiverPolicy(ipv4: [.fcrdns], ipv6: [.fcrdns], onFail: .defer))
        #expect(sameChecksNoPreset.isOwnPolicy(of: mapCase))
        var withPostfix = scenario
        withPostfix.receiver.postfix = ["unknown_client_reject_code": "550"]
        #expect(
            !PolicyColumn.preset(.fcrdns).isOwnPolicy(of: withPostfix), "its own receiver also has Postfix settings")
    }
}
