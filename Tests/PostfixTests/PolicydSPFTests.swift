import Foundation
import Policy
@testable import Postfix
import Scenario
import Testing

/// `receiver.engines: [policyd-spf]`: the policy's `spf` and `spf-pass` checks asked of
/// postfix-policyd-spf-python as a spawn(8) service, with the rule as its options.
@Suite struct PolicydSPFTests {
    private let engines = PostfixEngineSetup(
        runsPolicydSPF: true, policydSPF: PolicydSPFInstallation(pythonPath: "/mta/dnspython"), dnsTimeoutSeconds: 2)

    @Test func withoutTheEngineAnSPFCheckHasNoPostfixEquivalent() {
        let policy = ReceiverPolicy(ipv4: [.spf], ipv6: [.spf])
        guard case .failure(let unsupported) = PolicyTranslation.settings(for: policy, tableDirectory: "/tables") else {
            Issue.record("an spf check without policyd-spf was translated")
            return
        }
        #expect(unsupported.reason.contains("needs a policy service (policyd-spf)"))
    }

    /// ipv6-strict on Postfix: IPv6's own class asks fcrdns, then policyd-spf; IPv4 checks nothing.
    @Test func ipv6StrictIsTranslatedWithPolicydSPF() throws {
        let policy = Preset.ipv6Strict.policy
        #expect(Preset.ipv6Strict.postfixUnsupportedReason == nil)
        #expect(PolicyTranslation.asksPolicydSPF(policy))
        let settings = try PolicyTranslation.settings(for: policy, tableDirectory: "/tables", engines: engines).get()
        #expect(
            settings.parameters[PolicyTranslation.ipv6Class]
                == "reject_unknown_client_hostname, check_policy_service unix:private/policyd-spf")
        #expect(settings.parameters[PolicyTranslation.ipv4Class] == nil)
        #expect(settings.parameters["unknown_client_reject_code"] == "550")
        #expect(settings.files["/tables/policyd-spf.conf"] != nil)
    }

    /// A Postfix receiver asks policyd-spf whether or not the case lists the engine: the library's
    /// ipv6-strict case of an IPv4-only SPF record lists none.
    @Test func aPostfixReceiverRunsPolicydSPFWithoutTheEngineListed() throws {
        let file = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Scenarios/spf/ipv4-only-record.yaml").path
        let cases = try ScenarioLoader().load(paths: [file])
        let scenario = try #require(cases.first { $0.receiver.policy.preset == .ipv6Strict })
        #expect(scenario.receiver.engines.isEmpty)
        let configuration = PostfixReceivers().configuration(for: scenario)
        #expect(configuration.engines.runsPolicydSPF)
        #expect(configuration.unsupportedReason == nil)
        #expect(PolicyTranslation.asksPolicydSPF(scenario.receiver.policy))
    }

    /// Only a policy whose restrictions answer an spf check needs policyd-spf.
    @Test func whichPoliciesAskPolicydSPF() {
        #expect(!PolicyTranslation.asksPolicydSPF(Preset.fcrdns.policy))
        #expect(!PolicyTranslation.asksPolicydSPF(ReceiverPolicy(ipv4: [.ptr], ipv6: [.heloFQDN])))
        #expect(PolicyTranslation.asksPolicydSPF(ReceiverPolicy(ipv4: [], ipv6: [.spfPass])))
    }

    @Test func theCheckIsAPolicyServiceWithItsOwnConfiguration() throws {
        let policy = ReceiverPolicy(ipv4: [.fcrdns, .spf], ipv6: [.fcrdns, .spf])
        let settings = try PolicyTranslation.settings(for: policy, tableDirectory: "/tables", engines: engines).get()
        let lists = settings.parameters.names.compactMap { settings.parameters[$0] }
        #expect(
            lists.contains {
                $0.contains("reject_unknown_client_hostname, check_policy_service unix:private/policyd-spf")
            })
        #expect(settings.parameters["policyd-spf_time_limit"] == "3600")
        let configuration = try #require(settings.files["/tables/policyd-spf.conf"])
        #expect(configuration.contains("Mail_From_reject = Fail\n"))
        #expect(configuration.contains("PermError_reject = True\n"))
        #expect(configuration.contains("TempError_Defer = True\n"))
        #expect(configuration.contains("Lookup_Time = 2\n"))
        #expect(
            settings.services == [
                "policyd-spf  unix  -       n       n       -       0       spawn\n"
                    + "    user=policyd-spf argv=/usr/bin/env PYTHONPATH=/mta/dnspython /usr/bin/policyd-spf /tables/policyd-spf.conf\n"
            ])
        #expect(settings.parameters["soft_bounce"] == nil)
    }

    @Test func spfPassRefusesEverythingButPassAndDeferIsSoftBounce() throws {
        let policy = ReceiverPolicy(ipv4: [.spfPass], ipv6: [.spfPass], onFail: .defer)
        let settings = try PolicyTranslation.settings(for: policy, tableDirectory: "/tables", engines: engines).get()
        let configuration = try #require(settings.files["/tables/policyd-spf-pass.conf"])
        #expect(configuration.contains("Mail_From_reject = SPF_Not_Pass\n"))
        #expect(settings.parameters["soft_bounce"] == "yes")
    }
}
