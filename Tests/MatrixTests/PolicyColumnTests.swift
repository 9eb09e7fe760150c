import Foundation
import Matrix
import Policy
import Postfix
import Scenario
import Testing

struct PolicyColumnTests {
    @Test func presetsAndPolicyFilesBecomeColumnsInOrder() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/ours.yaml"
        try "policy: {ipv6: [fcrdns, spf], ipv4: [ptr], on_fail: defer}\n".write(
            toFile: file, atomically: true, encoding: .utf8)
        let columns = try PolicyColumn.columns(
            policies: ["fcrdns", file, " fcrdns-strict "], postfixConfigurations: [], target: .builtin)
        #expect(columns.map(\.name) == ["fcrdns", "ours", "fcrdns-strict"])
        #expect(columns[0].policy == Preset.fcrdns.policy)
        #expect(columns[1].policy == ReceiverPolicy(ipv4: [.ptr], ipv6: [.fcrdns, .spf], onFail: .defer))
        #expect(
            columns[1].summary == "policy file \(file): IPv4: ptr; IPv6: fcrdns, spf; failures deferred (4xx) at RCPT")
        #expect(columns[2].summary == "preset fcrdns-strict: IPv4 and IPv6: fcrdns; failures rejected (5xx) at RCPT")
    }

    @Test func anUnknownPolicySaysWhatItIsNotAndSuggests() {
        #expect {
            try PolicyColumn.columns(policies: ["fcrdns-strikt"], postfixConfigurations: [], target: .builtin)
        } throws: { error in
            let text = "\(error)"
            return text.contains("\"fcrdns-strikt\" is neither a preset") && text.contains("no such file")
                && text.contains("did you mean fcrdns-strict?")
        }
        #expect { try PolicyColumn.columns(policies: ["nope"], postfixConfigurations: [], target: .builtin) } throws: {
            !"\($0)".contains("did you mean")
        }
    }

    @Test func columnsMustBeNamedOnceAndBeThere() {
        #expect {
            try PolicyColumn.columns(policies: ["fcrdns", "fcrdns"], postfixConfigurations: [], target: .builtin)
        } throws: {
            "\($0)".contains("two columns are named \"fcrdns\"")
        }
        #expect { try PolicyColumn.columns(policies: [], postfixConfigurations: [], target: .builtin) } throws: {
            "\($0)".contains("no columns")
        }
        #expect {
            try PolicyColumn.columns(policies: ["fcrdns", ""], postfixConfigurations: [], target: .builtin)
        } throws: { "\($0)".contains("an empty entry") }
    }

    @Test func postfixConfigurationsNeedThePostfixTarget() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let strict = directory + "/strict.cf"
        try "smtpd_client_restrictions = reject_unknown_client_hostname\nunknown_client_reject_code = 550\n".write(
            toFile: strict, atomically: true, encoding: .utf8)
        #expect { try PolicyColumn.columns(policies: [], postfixConfigurations: [strict], target: .builtin) } throws: {
            "\($0)".contains("add --target postfix")
        }
        let columns = try PolicyColumn.columns(policies: ["fcrdns"], postfixConfigurations: [strict], target: .postfix)
        #expect(columns.map(\.name) == ["fcrdns", strict])
        #expect(columns[1].policy == nil)
        let bad = directory + "/bad.cf"
        try "smtpd_client_restrictions = x\nthis line has no equals sign\n".write(
            toFile: bad, atomically: true, encoding: .utf8)
        #expect { try PolicyColumn.columns(policies: [], postfixConfigurations: [bad], target: .postfix) } throws: {
            "\($0)".contains("\(bad)") && "\($0)".contains("2")
        }
        #expect {
            try PolicyColumn.columns(policies: [], postfixConfigurations: [directory + "/missing.cf"], target: .postfix)
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

        let mainCF = try MainCF.parse(
            "smtpd_client_restrictions = reject_unknown_client_hostname\nunknown_client_reject_code = 550\n")
        let postfix = PolicyColumn(name: "strict.cf", source: .postfixConfiguration(path: "strict.cf", mainCF: mainCF))
            .applied(to: scenario)
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
