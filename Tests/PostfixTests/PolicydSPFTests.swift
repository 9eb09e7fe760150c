import Foundation
import DNSCore
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

    /// spf-pass over a domain without an SPF record (none) is skipped on Postfix: policyd-spf
    /// cannot refuse none. A record, a fault over the name, or the check for another family runs.
    @Test func spfPassOverADomainWithoutARecordIsSkipped() throws {
        let file = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Scenarios/spf/policyd-spf.yaml").path
        var scenario = try #require(try ScenarioLoader().load(paths: [file]).first { $0.name == "policyd-spf/pass" })
        scenario.receiver.policy = ReceiverPolicy(ipv4: [], ipv6: [.spfPass])
        #expect(PostfixReceivers.spfPassNoneReason(scenario) == nil, "the record is there")
        scenario.dns.records.removeAll { $0.owner == "sender.test" }
        #expect(PostfixReceivers.spfPassNoneReason(scenario)?.contains("sender.test publishes no SPF record") == true)
        scenario.sender.mailFrom = ""
        #expect(PostfixReceivers.spfPassNoneReason(scenario)?.contains("mail.sender.test publishes") == true)
        scenario.dns.faults = [DNSFault(name: "sender.test", kind: .servfail)]
        #expect(PostfixReceivers.spfPassNoneReason(scenario) == nil, "a temperror, which policyd-spf answers")
        scenario.dns.faults = []
        scenario.receiver.policy = ReceiverPolicy(ipv4: [.spfPass], ipv6: [])
        #expect(PostfixReceivers.spfPassNoneReason(scenario) == nil, "an IPv6-only sender is not asked")
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

    /// policyd-spf logs to syslog only: the instance logs the field it prepends through
    /// header_checks INFO, after a base's own header checks are kept.
    @Test func theReceivedSPFFieldIsLoggedByHeaderChecks() throws {
        let policy = ReceiverPolicy(ipv4: [.spf], ipv6: [.spf])
        let settings = try PolicyTranslation.settings(for: policy, tableDirectory: "/tables", engines: engines).get()
        #expect(settings.parameters["header_checks"] == "regexp:/tables/mxh-received-spf.regexp")
        #expect(settings.files["/tables/mxh-received-spf.regexp"] == "/^Received-SPF:/ INFO policyd-spf\n")
        let none = try PolicyTranslation.settings(
            for: ReceiverPolicy(ipv4: [.fcrdns]), tableDirectory: "/tables", engines: engines
        ).get()
        #expect(none.parameters["header_checks"] == nil)

        var base = MainCF()
        base["header_checks"] = "pcre:/etc/postfix/header_checks"
        var configuration = PostfixConfiguration(
            hostname: "mx.example.test", addresses: [IPAddress(literal: "192.0.2.10")], domains: ["example.test"],
            policy: policy, base: base)
        configuration.engines = engines
        let paths = PostfixPaths(under: "/run/mxh")
        let rendered = try configuration.render(paths: paths)
        #expect(
            rendered.parameters["header_checks"]
                == "regexp:\(paths.tableDirectory)/mxh-received-spf.regexp, pcre:/etc/postfix/header_checks")
    }

    /// Log lines of Postfix 3.7 with policyd-spf 3.0.4 (cleanup's INFO line of the prepended field;
    /// smtpd's reject line with policyd-spf's Reason_Message).
    @Test func verdictsAreReadFromTheLog() throws {
        let accepted =
            "2026-12-07T13:50:01.265611+00:00 mx postfix/cleanup[4242]: 4dQ1xK0ZkBz9vC: info: header Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=2001:db8:5::25; helo=mail.sender.test; envelope-from=alice@sender.test; receiver=<UNKNOWN> from mail.sender.test[2001:db8:5::25]; from=<alice@sender.test> to=<bob@example.test> proto=ESMTP helo=<mail.sender.test>: policyd-spf"
        let rejected =
            "2026-12-07T13:50:02.1+00:00 mx postfix/smtpd[4243]: NOQUEUE: reject: RCPT from mail.sender.test[2001:db8:5::25]: 550 5.7.23 <bob@example.test>: Recipient address rejected: Message rejected due to: SPF fail - not authorized. Please see http://www.openspf.net/Why?s=mfrom;id=alice@sender.test;ip=2001:db8:5::25;r=<UNKNOWN>; from=<alice@sender.test> to=<bob@example.test> proto=ESMTP helo=<mail.sender.test>"
        let deferred =
            "2026-12-07T13:50:03.1+00:00 mx postfix/smtpd[4244]: NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 450 4.7.24 <bob@example.test>: Recipient address rejected: Message deferred due to: SPF Temporary Error: DNS Timeout. Please see http://www.openspf.net/Why?s=mfrom;id=alice@sender.test;ip=192.0.2.1;r=<UNKNOWN>; from=<alice@sender.test> to=<bob@example.test> proto=ESMTP helo=<mail.sender.test>"
        let other =
            "2026-12-07T13:50:04.1+00:00 mx postfix/smtpd[4245]: NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 550 5.7.25 Client host rejected: cannot find your hostname, [192.0.2.1]; from=<alice@sender.test> to=<bob@example.test> proto=ESMTP helo=<mail.sender.test>"
        let verdicts = PolicydSPFVerdicts.verdicts(in: [accepted, rejected, other, deferred])
        #expect(verdicts.map(\.engine) == ["policyd-spf", "policyd-spf", "policyd-spf"])
        #expect(verdicts.map(\.action) == ["pass", "reject", "defer"])
        #expect(verdicts.map(\.answered) == [false, true, true])
        #expect(verdicts[0].messageID == "4dQ1xK0ZkBz9vC")
        #expect(
            verdicts[0].text
                == "Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=2001:db8:5::25; helo=mail.sender.test; envelope-from=alice@sender.test; receiver=<UNKNOWN>"
        )
        #expect(
            verdicts[1].text
                == "550 5.7.23 Message rejected due to: SPF fail - not authorized. Please see http://www.openspf.net/Why?s=mfrom;id=alice@sender.test;ip=2001:db8:5::25;r=<UNKNOWN>"
        )
        #expect(verdicts[0].summary == "policyd-spf pass")
        #expect(verdicts[2].summary == "policyd-spf defer (answered)")
    }
}
