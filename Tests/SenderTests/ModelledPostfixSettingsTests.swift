import Delivery
import Foundation
import MXHarnessTestKit
import Runner
import Scenario
import Sender
import Testing

/// `sender.postfix`, the delivery model's key: read as written, checked against the model.
@Suite struct ModelledPostfixSettingsTests {
    /// The format's core names and the model's key.
    static let kinds = ScenarioKinds(
        receivers: ScenarioKinds.core.receivers, senders: ScenarioKinds.core.senders,
        keys: ModelSenders().scenarioKeys)

    func load(_ yaml: String) throws -> [ScenarioCase] {
        try ScenarioLoader(kinds: Self.kinds).load(yaml: yaml, file: "Scenarios/rdns.yaml")
    }

    func loadErrors(yaml: String) -> [String] {
        do {
            let cases = try load(yaml)
            Issue.record("expected the load to fail, it gave \(cases.count) case(s)")
            return []
        } catch {
            return (error as? ScenarioLoadError)?.diagnostics.map(\.description) ?? ["\(error)"]
        }
    }

    /// The postfix settings as the model reads them.
    func settings(_ scenario: ScenarioCase) -> [String: String] {
        scenario.sender.settings("postfix", as: SettingsMap.self)?.values ?? [:]
    }
    func example(adding lines: String) -> String {
        formatExample.replacingOccurrences(of: "  helo: mail.sender.test", with: "  helo: mail.sender.test\n" + lines)
    }

    @Test func modelledKeysLoadForTheBuiltinSender() throws {
        let yaml = example(
            adding:
                "  postfix:\n    smtp_mx_session_limit: 4\n    smtp_address_preference: any\n    smtp_skip_5xx_greeting: no\n    smtp_mx_address_limit: 0"
        )
        let cases = try load(yaml)
        let settings = ModelledPostfixSettings(cases[0].sender)
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
        let cases = try load(yaml)
        #expect(settings(cases[0]) == ["smtp_helo_timeout": "30s"])
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

    @Test func explainWritesTheSettingsAndTheyLoadAgain() throws {
        let yaml = example(adding: "  postfix: {smtp_skip_5xx_greeting: no, smtp_mx_session_limit: 3}")
        let original = try #require(try load(yaml).first)
        let text = explain(original)
        #expect(text.contains("  postfix:\n    smtp_mx_session_limit: 3\n    smtp_skip_5xx_greeting: no\n"), "\(text)")
        let again = try #require(try ScenarioLoader(kinds: Self.kinds).load(yaml: text, file: "again.yaml").first)
        #expect(settings(again) == ["smtp_skip_5xx_greeting": "no", "smtp_mx_session_limit": "3"])
    }

    @Test func withoutTheModelTheKeyIsUnknown() {
        let yaml = example(adding: "  postfix: {smtp_mx_session_limit: 3}")
        #expect(throws: ScenarioLoadError.self) { try ScenarioLoader().load(yaml: yaml, file: "Scenarios/rdns.yaml") }
    }

    @Test func theModelsRequestHonoursTheSettings() throws {
        let yaml = example(adding: "  postfix: {smtp_mx_session_limit: 4, smtp_address_preference: any}")
        let scenario = try #require(try load(yaml).first)
        let request = ModelSenders.request(for: scenario.sender, settings: RunConfiguration())
        #expect(request.limits.sessionLimit == 4)
        #expect(request.limits.addressLimit == ClientLimits().addressLimit)
        #expect(request.prefer == .any)
        let unset = try #require(try load(example(adding: "")).first)
        let plain = ModelSenders.request(for: unset.sender, settings: RunConfiguration())
        #expect(plain.prefer == AddressPreference(unset.sender.prefer) && plain.limits == ClientLimits())
    }
}
