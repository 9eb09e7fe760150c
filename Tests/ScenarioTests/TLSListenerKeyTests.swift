import CertificateAuthority
import DNSCore
import Scenario
import Testing

/// `receiver.tls.listeners` (mxharness's extension): a certificate per receiver address.
@Suite struct TLSListenerKeyTests {
    /// A receiver on 192.0.2.10 and 2001:db8::10 with `tls` lines from line 6 on.
    func yaml(_ tls: String) -> String {
        minimalWorld.replacingOccurrences(
            of: "  addresses: [192.0.2.10]\n",
            with: "  addresses: [192.0.2.10, \"2001:db8::10\"]\n  hostname: mx.example.test\n" + tls)
            + "\nexpect: {outcome: delivered}\n"
    }

    func load(_ tls: String) throws -> ScenarioCase {
        try #require(try ScenarioLoader().load(yaml: yaml(tls), file: "Scenarios/tls.yaml").first)
    }

    let v4 = IPAddress("192.0.2.10")!
    let v6 = IPAddress("2001:db8::10")!

    @Test func listenersLoadAndGroupTheAddressesByCertificate() throws {
        let c = try load(
            """
              tls:
                starttls: true
                names: [mx.example.test, mx2.example.test]
                listeners:
                  - {address: "2001:db8::10", certificate: self-signed}

            """)
        #expect(c.receiver.tls.listeners == [ReceiverTLSListener(address: v6, certificate: .selfSigned)])
        #expect(
            c.receiver.tls.certificates(hostname: c.receiver.hostname, addresses: c.receiver.addresses) == [
                ListenerCertificate(kind: .valid, names: ["mx.example.test", "mx2.example.test"], addresses: [v4]),
                ListenerCertificate(
                    kind: .selfSigned, names: ["mx.example.test", "mx2.example.test"], addresses: [v6]),
            ])
        // A listener's names replace the receiver's; its kind defaults to the receiver's.
        let named = try load(
            """
              tls:
                starttls: true
                certificate: expired
                listeners: [{address: 192.0.2.10, names: [MX1.example.test.]}]

            """)
        #expect(
            named.receiver.tls.certificates(hostname: named.receiver.hostname, addresses: named.receiver.addresses) == [
                ListenerCertificate(kind: .expired, names: ["mx1.example.test"], addresses: [v4]),
                ListenerCertificate(kind: .expired, names: ["mx.example.test"], addresses: [v6]),
            ])
        // Without listeners, one certificate for every address, as before the extension.
        let plain = try load("  tls: {starttls: true}\n")
        #expect(
            plain.receiver.tls.certificates(hostname: "mx.example.test", addresses: plain.receiver.addresses) == [
                ListenerCertificate(kind: .valid, names: ["mx.example.test"], addresses: [v4, v6])
            ])
        // A listener that says what the others present changes nothing.
        let same = try load("  tls: {starttls: true, listeners: [{address: 192.0.2.10, certificate: valid}]}\n")
        #expect(
            same.receiver.tls.certificates(hostname: "mx.example.test", addresses: same.receiver.addresses).count == 1)
    }

    @Test func explainWritesThemAndTheyLoadBack() throws {
        let c = try load(
            "  tls: {starttls: true, listeners: [{address: \"2001:db8::10\", certificate: unknown-ca, names: [a.example.test]}]}\n"
        )
        let text = explain(c)
        #expect(
            text.contains("listeners: [{address: '2001:db8::10', certificate: unknown-ca, names: [a.example.test]}]"))
        let again = try #require(try ScenarioLoader().load(yaml: text, file: "explained.yaml").first)
        #expect(again.receiver.tls.listeners == c.receiver.tls.listeners)
    }

    @Test func errorsNameTheFileLineColumnAndKey() {
        #expect(
            loadErrors(
                yaml: yaml("  tls: {starttls: true, listeners: [{address: 192.0.2.99, certificate: expired}]}\n"),
                file: "Scenarios/tls.yaml") == [
                    "Scenarios/tls.yaml:7:47: receiver.tls.listeners[0].address: 192.0.2.99 is not one of receiver.addresses (192.0.2.10, 2001:db8::10)"
                ])
        #expect(
            loadErrors(
                yaml: yaml(
                    """
                      tls:
                        starttls: true
                        listeners:
                          - {address: 192.0.2.10, certificate: expired}
                          - {address: 192.0.2.10, certificate: self-signed}

                    """), file: "Scenarios/tls.yaml") == [
                    "Scenarios/tls.yaml:11:19: receiver.tls.listeners[1].address: 192.0.2.10 is given twice: an address presents one certificate"
                ])
        #expect(
            loadErrors(
                yaml: yaml("  tls: {starttls: true, listeners: [{address: 192.0.2.10}]}\n"), file: "Scenarios/tls.yaml")
                == [
                    "Scenarios/tls.yaml:7:37: receiver.tls.listeners[0]: a listener says what it presents: certificate (a kind) or names (the certificate's DNS names), or both"
                ])
        #expect(
            loadErrors(
                yaml: yaml("  tls: {listeners: [{address: 192.0.2.10, certificate: expired}]}\n"),
                file: "Scenarios/tls.yaml") == [
                    "Scenarios/tls.yaml:7:20: receiver.tls.listeners: receiver.tls.listeners needs receiver.tls.starttls: true (no listener presents a certificate without STARTTLS)"
                ])
        let kind = loadErrors(
            yaml: yaml("  tls: {starttls: true, listeners: [{address: 192.0.2.10, certificate: old}]}\n"),
            file: "Scenarios/tls.yaml")
        #expect(
            kind.first?.hasPrefix(
                "Scenarios/tls.yaml:7:72: receiver.tls.listeners[0].certificate: unknown certificate kind \"old\"")
                == true)
        let unknown = loadErrors(
            yaml: yaml("  tls: {starttls: true, listeners: [{address: 192.0.2.10, ciphers: high}]}\n"),
            file: "Scenarios/tls.yaml")
        #expect(unknown.first?.contains("receiver.tls.listeners[0].ciphers") == true)
    }
}
