import CertificateAuthority
import Scenario
import SMTPProtocol
import Testing

/// `receiver.tls`, `sender.tls` and `expect.tls` (format 1.2): what they load into, and their
/// errors with file:line:column and key.
@Suite struct TLSKeyTests {
    /// minimalWorld with `receiver` lines after its addresses (line 6 on), then `sender` lines
    /// (line 12 on when one receiver line was given) and `expect`.
    func yaml(receiver: String = "", sender: String = "", expect: String = "{outcome: delivered}") -> String {
        minimalWorld.replacingOccurrences(
            of: "  addresses: [192.0.2.10]\n", with: "  addresses: [192.0.2.10]\n" + receiver)
            + "\n" + sender + "expect: \(expect)\n"
    }

    func load(receiver: String = "", sender: String = "", expect: String = "{outcome: delivered}") throws
        -> ScenarioCase
    {
        try #require(
            try ScenarioLoader().load(
                yaml: yaml(receiver: receiver, sender: sender, expect: expect), file: "Scenarios/tls.yaml"
            ).first)
    }

    func errors(receiver: String = "", sender: String = "", expect: String = "{outcome: delivered}") -> [String] {
        loadErrors(yaml: yaml(receiver: receiver, sender: sender, expect: expect), file: "Scenarios/tls.yaml")
    }

    @Test func withoutTheKeysThereIsNoTLS() throws {
        let c = try load()
        #expect(c.receiver.tls == .off)
        #expect(!c.receiver.tls.starttls)
        #expect(c.sender.tls == TLSSecurityLevel.none)
        #expect(c.expect.tls == nil)
    }

    @Test func everyKeyLoads() throws {
        let c = try load(
            receiver:
                "  tls: {starttls: true, required: true, certificate: wrong-name, names: [MX1.example.test.], protocols: [TLSv1.2, TLSv1.3]}\n",
            sender: "  tls: verify\n", expect: "{outcome: deferred, tls: true}")
        #expect(
            c.receiver.tls
                == ReceiverTLSSpec(
                    starttls: true, required: true, certificate: .wrongName, names: ["mx1.example.test"],
                    protocols: .tls12 ... .tls13))
        #expect(c.sender.tls == .verify)
        #expect(c.expect.tls == true)
        for level in TLSSecurityLevel.allCases where level != .dane {
            #expect(try load(sender: "  tls: \(level.rawValue)\n").sender.tls == level)
        }
        #expect(try load(sender: "  tls: dane\n  resolver: validating\n").sender.tls == .dane)
        for kind in CertificateKind.allCases {
            #expect(
                try load(receiver: "  tls: {starttls: true, certificate: \(kind.rawValue)}\n").receiver.tls.certificate
                    == kind)
        }
        #expect(
            try load(receiver: "  tls: {starttls: true, protocols: TLSv1.3}\n").receiver.tls.protocols == .tls13
                ... .tls13)
    }

    @Test func errorsNameTheFileLineColumnAndKey() {
        #expect(
            errors(receiver: "  tls: {starttls: true, certificate: bogus}\n") == [
                "Scenarios/tls.yaml:6:38: receiver.tls.certificate: unknown certificate kind \"bogus\" (known: valid, expired, not-yet-valid, wrong-name, self-signed, unknown-ca)"
            ])
        #expect(
            errors(sender: "  tls: verfy\n") == [
                "Scenarios/tls.yaml:11:8: sender.tls: unknown TLS security level (Postfix smtp_tls_security_level) \"verfy\" (known: none, may, encrypt, dane, verify, secure); did you mean \"verify\"?"
            ])
        #expect(
            errors(receiver: "  tls: {starttls: true, protocols: [TLSv1.1, TLSv1.3]}\n") == [
                "Scenarios/tls.yaml:6:36: receiver.tls.protocols: TLS versions must be consecutive: TLSv1.1 to TLSv1.3 includes TLSv1.2"
            ])
        #expect(
            errors(sender: "  tls: dane\n") == [
                "Scenarios/tls.yaml:11:8: sender.tls: dane needs sender.resolver: validating (DANE trusts TLSA records only from a validating resolver, RFC 7672 section 2.2), and a signed world (dns.dnssec: signed)"
            ])
        #expect(
            errors(receiver: "  tls: {required: true}\n") == [
                "Scenarios/tls.yaml:6:19: receiver.tls.required: receiver.tls.required needs receiver.tls.starttls: true (TLS cannot be required when STARTTLS is not offered)"
            ])
        #expect(
            errors(receiver: "  tls: {starttls: yes}\n") == [
                "Scenarios/tls.yaml:6:19: receiver.tls.starttls: expected true or false, found \"yes\""
            ])
        let version = errors(receiver: "  tls: {starttls: true, protocols: [SSLv3]}\n")
        #expect(version.count == 1)
        #expect(
            version.first?.hasPrefix(
                "Scenarios/tls.yaml:6:37: receiver.tls.protocols[0]: unknown TLS protocol version \"SSLv3\"") == true)
        let expectation = errors(expect: "{outcome: delivered, tls: maybe}")
        #expect(expectation.first?.contains("expect.tls: expected true or false, found \"maybe\"") == true)
        let unknown = errors(receiver: "  tls: {starttls: true, ciphers: high}\n")
        #expect(unknown.first?.contains("receiver.tls.ciphers") == true)
    }

    @Test func explainShowsTheKeys() throws {
        let c = try load(
            receiver: "  tls: {starttls: true, certificate: expired, protocols: [TLSv1.2, TLSv1.3]}\n",
            sender: "  tls: secure\n",
            expect: "{outcome: deferred, tls: true}")
        let text = explain(c)
        #expect(
            text.contains(
                "tls: {starttls: true, required: false, certificate: expired, names: [mx.example.test], protocols: [TLSv1.2, TLSv1.3]}"
            ))
        #expect(text.contains("tls: secure"))
        #expect(text.contains("tls: true"))
        // What explain writes loads back as the same case.
        let again = try #require(try ScenarioLoader().load(yaml: text, file: "explained.yaml").first)
        #expect(again.receiver.tls == c.receiver.tls.with(names: ["mx.example.test"]))
        #expect(again.sender.tls == .secure)
        #expect(again.expect.tls == true)
    }
}

extension ReceiverTLSSpec {
    func with(names: [String]) -> ReceiverTLSSpec {
        var copy = self
        copy.names = names
        return copy
    }
}
