import DNSCore
import Policy
import Testing

@testable import Exim

/// `receiver.tls` in the Exim configuration the harness writes.
struct EximTLSConfigurationTests {
    static let paths = EximPaths(under: "/case/receiver")
    static let v4 = IPAddress("192.0.2.10")!
    static let v6 = IPAddress("2001:db8::10")!

    static func render(_ tls: EximTLS?, policy: ReceiverPolicy = .open) throws -> String {
        var configuration = EximConfiguration(
            hostname: "mx.example.test", addresses: [v4, v6], domains: ["example.test"], policy: policy)
        configuration.tls = tls
        return try configuration.render(paths: paths, hasSPF: false)
    }

    static func one(required: Bool = false) -> EximTLS {
        EximTLS(
            required: required, protocols: nil,
            certificates: [.init(chainPEM: "CHAIN", keyPEM: "KEY", addresses: [v4, v6])])
    }

    @Test func starttlsIsAdvertisedWithTheWorldsCertificate() throws {
        let text = try Self.render(Self.one())
        #expect(text.contains("tls_advertise_hosts = *\n"))
        #expect(!text.contains("tls_advertise_hosts = \n"))
        #expect(text.contains("tls_certificate = /case/receiver/tls/chain-0.pem\n"))
        #expect(text.contains("tls_privatekey = /case/receiver/tls/key-0.pem\n"))
        #expect(!text.contains("encrypted"), "plaintext MAIL is fine unless TLS is required")
        #expect(Self.one().files(paths: Self.paths)["/case/receiver/tls/key-0.pem"] == "KEY\n")
    }

    @Test func withoutTLSNoStarttls() throws {
        #expect(try Self.render(nil).contains("tls_advertise_hosts = \n"))
    }

    @Test func requiredAnswersPlaintextMailAsPostfixEncrypt() throws {
        let text = try Self.render(Self.one(required: true))
        #expect(text.contains("acl_smtp_mail = acl_mxh_mail\n"))
        #expect(
            text.contains(
                "acl_mxh_mail:\n  # receiver.tls required\n  deny    !encrypted = *\n          message = 530 5.7.0 Must issue a STARTTLS command first\n"
            ))
    }

    @Test func protocolsAreAGnuTLSPriorityString() throws {
        var tls = Self.one()
        tls.protocols = .tls12 ... .tls13
        #expect(try Self.render(tls).contains("tls_require_ciphers = NORMAL:-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.3\n"))
    }

    @Test func addressesWithTheirOwnCertificateAreChosenByTheAddressReached() throws {
        let tls = EximTLS(
            required: false, protocols: nil,
            certificates: [
                .init(chainPEM: "GOOD", keyPEM: "K", addresses: [Self.v4]),
                .init(chainPEM: "BAD", keyPEM: "K", addresses: [Self.v6]),
            ])
        let text = try Self.render(tls)
        #expect(
            text.contains(
                "tls_certificate = ${if match_ip{$received_ip_address}{<; 2001:db8::10}{/case/receiver/tls/chain-1.pem}{/case/receiver/tls/chain-0.pem}}\n"
            ))
        #expect(
            text.contains(
                "tls_privatekey = ${if match_ip{$received_ip_address}{<; 2001:db8::10}{/case/receiver/tls/key-1.pem}{/case/receiver/tls/key-0.pem}}\n"
            ))
    }
}
