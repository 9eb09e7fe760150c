import Scenario
import Testing

/// `receiver.rspamd`: scores by rspamd's action names, in the order rspamd 3.4 accepts.
@Suite struct RspamdThresholdsTests {
    func yaml(_ rspamd: String) -> String {
        """
        dns: {records: ["example.test. MX 10 mx.example.test.", "mx.example.test. A 192.0.2.10"]}
        receiver:
          hostname: mx.example.test
          addresses: [192.0.2.10]
          engines: [rspamd]
          rspamd: \(rspamd)
        sender: {addresses: {ipv4: 203.0.113.25}, helo: mail.sender.test, mail_from: a@sender.test, rcpt_to: [b@example.test]}
        expect: {outcome: delivered}
        """
    }

    @Test func thresholdsInOrderLoad() throws {
        let scenario = try #require(
            try ScenarioLoader().load(
                yaml: yaml("{reject: 4, soft_reject: 3, add_header: 2, greylist: 1}"), file: "r.yaml"
            ).first)
        #expect(scenario.receiver.engines == [.rspamd])
        #expect(
            scenario.receiver.rspamd.scores == [.reject: 4, .softReject: 3, .addHeader: 2, .greylist: 1])
        // soft_reject and greylist are outside rspamd's order check: any score loads.
        #expect(throws: Never.self) { try ScenarioLoader().load(yaml: yaml("{soft_reject: 20}"), file: "r.yaml") }
    }

    @Test func aRejectAtOrBelowRspamdsDefaultAddHeaderIsALoadError() {
        #expect(
            loadErrors(yaml: yaml("{reject: 4, soft_reject: 3}"), file: "r.yaml") == [
                "r.yaml:6:11: receiver.rspamd: add_header (6, rspamd's default) must be lower than reject (4): rspamd 3.4 refuses thresholds out of that order (\"invalid actions thresholds order\") and then does not act at the given score; give add_header a lower score"
            ])
        #expect(
            loadErrors(yaml: yaml("{reject: 6}"), file: "r.yaml").first?.contains(
                "add_header (6, rspamd's default) must be lower than reject (6)") == true)
        #expect(
            loadErrors(yaml: yaml("{reject: 8, rewrite_subject: 8, add_header: 5}"), file: "r.yaml").first?.contains(
                "rewrite_subject (8) must be lower than reject (8)") == true)
    }
}
