import Scenario
import SMTPProtocol
import Testing

/// `receiver.bare_newline`, `sender.message.raw`, `expect.messages_accepted` (docs/format-extensions.md).
@Suite struct ExtensionKeyTests {
    func load(_ extra: (receiver: String, sender: String, expect: String)) throws -> ScenarioCase {
        let yaml =
            minimalWorld
            .replacingOccurrences(
                of: "  addresses: [192.0.2.10]\n", with: "  addresses: [192.0.2.10]\n" + extra.receiver
            )
            .replacingOccurrences(
                of: "  rcpt_to: bob@example.test", with: "  rcpt_to: bob@example.test\n" + extra.sender)
            + "\nexpect: {outcome: delivered\(extra.expect)}\n"
        return try #require(try ScenarioLoader().load(yaml: yaml, file: "s.yaml").first)
    }

    @Test func theKeysLoad() throws {
        let c = try load(
            (
                "  bare_newline: \"yes\"\n", "  message: {raw: \"a\\n.\\nb\\r\\n.\\r\\n\"}", ", messages_accepted: 2"
            ))
        #expect(c.receiver.bareNewline == .normalize)
        #expect(c.sender.message?.raw == "a\n.\nb\r\n.\r\n")
        #expect(c.expect.messagesAccepted == 2)
        for (name, mode) in [("no", SMTPBareNewlineMode.no), ("normalize", .normalize), ("reject", .reject)] {
            #expect(try load(("  bare_newline: \(name)\n", "", "")).receiver.bareNewline == mode)
        }
        #expect(try load(("", "", "")).receiver.bareNewline == nil)
    }

    @Test func badValuesAreNamed() {
        let mode = loadErrors(
            yaml: minimalWorld.replacingOccurrences(
                of: "  addresses: [192.0.2.10]\n", with: "  addresses: [192.0.2.10]\n  bare_newline: strict\n")
                + "\nexpect: {outcome: delivered}\n")
        #expect(
            mode == [
                "Scenarios/rdns.yaml:6:17: receiver.bare_newline: unknown bare newline mode \"strict\" (known: no, normalize, yes, reject)"
            ])
        let raw = loadErrors(yaml: minimalWorld + "\n  message: {raw: \"a\\n.\\n\"}\nexpect: {outcome: delivered}\n")
        #expect(raw.count == 1)
        #expect(raw.first?.contains("sender.message.raw: raw must end with the real end of data") == true, "\(raw)")
        let both = loadErrors(
            yaml: minimalWorld + "\n  message: {body: hi, raw: \"\\r\\n.\\r\\n\"}\nexpect: {outcome: delivered}\n")
        #expect(both.first?.contains("raw replaces headers and body") == true, "\(both)")
        let count = loadErrors(yaml: minimalWorld + "\nexpect: {outcome: delivered, messages_accepted: -1}\n")
        #expect(
            count.first?.contains("expect.messages_accepted: \"-1\" is not a number of messages") == true, "\(count)")
    }

    @Test func messagesAcceptedIsMatched() {
        let expect = Expectation(outcome: .delivered, messagesAccepted: 1)
        #expect(expect.mismatches(ObservedDelivery(outcome: .delivered, messagesAccepted: 1)).isEmpty)
        #expect(
            expect.mismatches(ObservedDelivery(outcome: .delivered, messagesAccepted: 2)).map(\.description) == [
                "messages_accepted: expected 1, got 2"
            ])
        #expect(
            expect.mismatches(ObservedDelivery(outcome: .delivered)).map(\.description) == [
                "messages_accepted: expected 1, got unknown (the receiver does not say)"
            ])
    }
}
