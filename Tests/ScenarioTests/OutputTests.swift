import DNSCore
import Foundation
import Policy
import Scenario
import Testing
import MXHarnessTestKit

@Suite struct ExplainTests {
    @Test func explainShowsTheMergedCaseAndLoadsBack() throws {
        let cases = try ScenarioLoader().load(yaml: VariantTests.scenario, file: "dual.yaml")
        let defers = try #require(cases.first)
        let text = explain(defers)
        #expect(
            text.hasPrefix(
                "# dual-stack/receiver-defers (dual.yaml:17:5)\n# receiver.policy: preset fcrdns, shown as its checks\n"
            ))
        #expect(text.contains("#   for target postfix: smtpd_client_restrictions = reject_unknown_client_hostname"))
        #expect(text.contains("- example.test. 300 IN MX 10 mx.example.test."))
        #expect(text.contains("    ipv4: [fcrdns]\n    ipv6: [fcrdns]\n    reject_at: rcpt\n    on_fail: defer\n"))

        // The YAML part is a scenario that means the same (the preset appears as its checks).
        let again = try #require(try ScenarioLoader().load(yaml: text, file: "explained.yaml").first)
        #expect(again.name == defers.name)
        #expect(again.dns == defers.dns)
        #expect(again.receiver.addresses == defers.receiver.addresses)
        #expect(again.receiver.policy.ipv4 == defers.receiver.policy.ipv4)
        #expect(again.receiver.policy.ipv6 == defers.receiver.policy.ipv6)
        #expect(again.receiver.policy.onFail == defers.receiver.policy.onFail)
        #expect(again.sender.addresses == defers.sender.addresses)
        #expect(again.sender.rcptTo == defers.sender.rcptTo)
        #expect(again.expect == defers.expect)
    }

    @Test func explainRoundTripsTheExtensionKeys() throws {
        let yaml =
            minimalWorld.replacingOccurrences(
                of: "  addresses: [192.0.2.10]\n", with: "  addresses: [192.0.2.10]\n  bare_newline: \"no\"\n")
            + "\n  message: {raw: \"x\\r\\n\\0.\\r\\n\\n.\\n\\r.\\rMAIL FROM:<e@x.test>\\r\\n.\\r\\n\"}\nexpect: {outcome: delivered, messages_accepted: 2}\n"
        let original = try #require(try ScenarioLoader().load(yaml: yaml, file: "raw.yaml").first)
        #expect(original.sender.message?.raw == "x\r\n\0.\r\n\n.\n\r.\rMAIL FROM:<e@x.test>\r\n.\r\n")
        let text = explain(original)
        #expect(text.contains("# sender.message.raw: sent after DATA byte for byte"))
        let again = try #require(try ScenarioLoader().load(yaml: text, file: "again.yaml").first)
        #expect(again.receiver.bareNewline == .no)
        #expect(again.sender.message == original.sender.message)
        #expect(again.expect == original.expect)
        #expect(again.expect.messagesAccepted == 2)
    }

    @Test func explainRoundTripsAwkwardValues() throws {
        let yaml = """
            name: awkward
            description: "yes: a colon, # and a hash"
            dns:
              records: ['sender.test. TXT "v=spf1 -all" "second"', mx.example.test. A 192.0.2.10]
              reverse: auto
              faults: [{name: broken.example.test, fault: refused}]
            receiver:
              addresses: [192.0.2.10]
            sender:
              addresses: {ipv4: 198.51.100.25}
              helo: "[192.0.2.1]"
              mail_from: ""
              rcpt_to: bob@example.test
              relay: {host: relay.example.test}
              message: {headers: {X-Test: "a: b"}, body: "line\\n.\\n"}
            expect: {text: "/^5\\\\d\\\\d /", code: 5xx, enhanced: 5.x.x}
            """
        let original = try #require(try ScenarioLoader().load(yaml: yaml, file: "awkward.yaml").first)
        #expect(original.sender.mailFrom == "")
        #expect(original.sender.message?.body == "line\n.\n")
        #expect(original.expect.text == .regex("^5\\d\\d "))
        let text = explain(original)
        #expect(text.contains("# dns.reverse auto adds:\n#   10.2.0.192.in-addr.arpa. 300 IN PTR mx.example.test.\n"))
        let again = try #require(try ScenarioLoader().load(yaml: text, file: "again.yaml").first)
        #expect(again.description == original.description)
        #expect(again.dns == original.dns)
        #expect(again.sender.helo == "[192.0.2.1]")
        #expect(again.sender.mailFrom == "")
        #expect(again.sender.relay == .host("relay.example.test"))
        #expect(again.sender.message == original.sender.message)
        #expect(again.expect == original.expect)
    }

    @Test func listingHasNameTagsAndDescription() throws {
        let cases =
            try ScenarioLoader().load(yaml: formatExample, file: "e.yaml")
            + ScenarioLoader().load(yaml: VariantTests.scenario, file: "dual.yaml")
        #expect(
            listing(cases) == """
                ipv6-sender-without-ptr     ipv6,ptr  An IPv6 sender whose address has no PTR record delivers to a receiver that requires forward-confirmed reverse DNS.
                dual-stack/receiver-defers  ptr
                dual-stack/new-ipv4-source  ipv4
                """)
        #expect(listing([]) == "")
    }
}

@Suite struct MessageTests {
    static let date = Date(timeIntervalSince1970: 1_795_918_474)  // Sun, 29 Nov 2026 02:14:34 +0000

    @Test func theDefaultMessageIsBuiltFromTheEnvelope() throws {
        let c = try #require(try ScenarioLoader().load(yaml: formatExample, file: "e.yaml").first)
        #expect(
            c.sender.messageText(date: Self.date, messageID: "id1") == """
                From: <alice@sender.test>\r
                To: <bob@example.test>\r
                Subject: mxharness test message\r
                Date: Sun, 29 Nov 2026 02:14:34 +0000\r
                Message-ID: <id1@sender.test>\r
                \r
                This is a test message sent by mxharness.\r

                """)
        let bytes = c.sender.messageBytes()
        #expect(String(decoding: bytes, as: UTF8.self).contains("\r\nMessage-ID: <"))
        #expect(!bytes.isEmpty && bytes.suffix(2) == [0x0d, 0x0a])
    }

    @Test func theNullSenderGetsAMailerDaemonFrom() {
        let sender = SenderSpec(
            addresses: [.ipv4: IPAddress("198.51.100.25")!], helo: "mail.sender.test", mailFrom: "",
            rcptTo: ["a@example.test", "b@example.test"])
        let text = sender.messageText(date: Self.date, messageID: "x")
        #expect(
            text.hasPrefix(
                "From: Mail Delivery System <MAILER-DAEMON@mail.sender.test>\r\nTo: <a@example.test>, <b@example.test>\r\n"
            ))
    }

    @Test func givenHeadersAndBodyAreSentAsWritten() {
        var sender = SenderSpec(
            addresses: [.ipv4: IPAddress("198.51.100.25")!], helo: "h.test", mailFrom: "a@sender.test",
            rcptTo: ["b@example.test"])
        sender.message = MessageSpec(headers: [MessageHeader(name: "Subject", value: "only this")], body: "one\ntwo")
        #expect(sender.messageText(date: Self.date, messageID: "x") == "Subject: only this\r\n\r\none\r\ntwo\r\n")
        sender.message = MessageSpec(body: "just a body\r\n")
        let text = sender.messageText(date: Self.date, messageID: "x")
        #expect(text.hasPrefix("From: <a@sender.test>\r\n"))
        #expect(text.hasSuffix("\r\n\r\njust a body\r\n"))
    }
}
