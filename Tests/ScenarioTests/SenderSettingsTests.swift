import Foundation
import Scenario
import Testing
import MXHarnessTestKit

/// `sender.postfix`: read as written, checked against the built-in model.
@Suite struct SenderSettingsTests {
    func example(adding lines: String) -> String {
        formatExample.replacingOccurrences(of: "  helo: mail.sender.test", with: "  helo: mail.sender.test\n" + lines)
    }

    @Test func modelledKeysLoadForTheBuiltinSender() throws {
        let yaml = example(
            adding:
                "  postfix:\n    smtp_mx_session_limit: 4\n    smtp_address_preference: any\n    smtp_skip_5xx_greeting: no\n    smtp_mx_address_limit: 0"
        )
        let cases = try ScenarioLoader().load(yaml: yaml, file: "Scenarios/rdns.yaml")
        let settings = ModelledPostfixSettings(cases[0].sender.postfix)
        #expect(settings.sessionLimit == 4)
        #expect(settings.addressLimit == 0)
        #expect(settings.skip5xxGreeting == false)
        #expect(settings.addressPreference == "any")
    }

    @Test func anUnmodelledKeyIsALoadErrorForTheBuiltinSender() {
        #expect(
            loadErrors(yaml: example(adding: "  postfix:\n    smtp_helo_timeout: 30s")) == [
                "Scenarios/rdns.yaml:25:5: sender.postfix.smtp_helo_timeout: the built-in sender does not model \"smtp_helo_timeout\" (it models smtp_address_preference, smtp_mx_address_limit, smtp_mx_session_limit, smtp_skip_5xx_greeting); set sender.mta: postfix to give it to a real Postfix"
            ])
        #expect(
            loadErrors(yaml: example(adding: "  mta: builtin\n  postfix:\n    smtp_mx_sesion_limit: 3")).first?
                .hasSuffix("did you mean \"smtp_mx_session_limit\"?") == true)
    }

    @Test func anUnmodelledKeyLoadsForARealPostfix() throws {
        let yaml = example(adding: "  mta: postfix\n  postfix:\n    smtp_helo_timeout: 30s")
        let cases = try ScenarioLoader().load(yaml: yaml, file: "Scenarios/rdns.yaml")
        #expect(cases[0].sender.postfix == ["smtp_helo_timeout": "30s"])
        #expect(cases[0].sender.mta == .postfix)
    }

    @Test func badModelledValuesAreLoadErrors() {
        #expect(
            loadErrors(yaml: example(adding: "  postfix:\n    smtp_mx_session_limit: two")) == [
                "Scenarios/rdns.yaml:25:28: sender.postfix.smtp_mx_session_limit: smtp_mx_session_limit is a whole number, 0 or more (0: no limit), not \"two\""
            ])
        #expect(
            loadErrors(yaml: example(adding: "  mta: postfix\n  postfix:\n    smtp_address_preference: ipv5")) == [
                "Scenarios/rdns.yaml:26:30: sender.postfix.smtp_address_preference: smtp_address_preference is ipv6, ipv4 or any, not \"ipv5\""
            ])
        #expect(
            loadErrors(yaml: example(adding: "  postfix: [a, b]")) == [
                "Scenarios/rdns.yaml:24:12: sender.postfix: expected Postfix SMTP-client settings (a map of names to values), found a list"
            ])
    }

}
