import CertificateAuthority
import DNSCore
import RunnerTestKit
import Scenario
import Testing
@testable import Runner

/// TLSA stand-ins replaced before a case's world starts: digests of the certificate the receiver
/// presents and of its issuer, as real MTAs compute them from the presented chain.
@Suite struct TLSAPreparationTests {
    static func prepared(_ data: String, certificate: String = "valid") throws -> (ScenarioCase, IssuedCertificate) {
        let yaml = """
            dns:
              dnssec: signed
              records:
                - example.test. MX 10 mx.example.test.
                - mx.example.test. A 192.0.2.10
                - _25._tcp.mx.example.test. TLSA \(data)
            receiver:
              hostname: mx.example.test
              addresses: [192.0.2.10]
              tls: {starttls: true, certificate: \(certificate)}
            sender:
              addresses: {ipv4: 203.0.113.25}
              helo: mail.sender.test
              mail_from: alice@sender.test
              rcpt_to: [bob@example.test]
            expect: {outcome: delivered}
            """
        let scenario = try #require(try ScenarioLoader(kinds: builtinKinds).load(yaml: yaml, file: "t.yaml").first)
        let authority = RunAuthority()
        let issued = try authority.authority().certificate(
            try #require(CertificateKind(rawValue: certificate)), names: ["mx.example.test"],
            addresses: [IPAddress("192.0.2.10")!])
        return (try scenario.preparingTLSA(authority: authority), issued)
    }

    static func data(_ scenario: ScenarioCase) -> [UInt8]? {
        for record in scenario.dns.records {
            if case .tlsa(_, _, _, let data) = record.data { return data.bytes }
        }
        return nil
    }

    @Test func eachStandInIsTheDigestOfItsCertificate() throws {
        let (key, issued) = try Self.prepared("3 1 1 receiver-key")
        #expect(Self.data(key) == (try issued.certificate.publicKeySHA256()))
        let (cert, certIssued) = try Self.prepared("3 0 1 receiver-cert")
        #expect(Self.data(cert) == (try certIssued.certificate.certificateSHA256()))
        // The issuer is the certificate the receiver presents after its own: the world's root.
        let (authorityKey, keyIssued) = try Self.prepared("2 1 1 authority-key")
        let root = try #require(keyIssued.intermediates.first)
        #expect(Self.data(authorityKey) == (try root.publicKeySHA256()))
        #expect(Self.data(authorityKey) != (try keyIssued.certificate.publicKeySHA256()))
        let (authorityCert, certRootIssued) = try Self.prepared("2 0 1 authority-cert")
        #expect(Self.data(authorityCert) == (try #require(certRootIssued.intermediates.first).certificateSHA256()))
    }

    @Test func anUnknownAuthorityIsTheOneThatIssuedTheCertificate() throws {
        let (prepared, issued) = try Self.prepared("2 1 1 authority-key", certificate: "unknown-ca")
        let foreign = try #require(issued.intermediates.first)
        #expect(Self.data(prepared) == (try foreign.publicKeySHA256()))
        let (selfSigned, own) = try Self.prepared("2 1 1 authority-key", certificate: "self-signed")
        #expect(own.intermediates.isEmpty)
        #expect(Self.data(selfSigned) == (try own.certificate.publicKeySHA256()))
    }
}

/// A real receiver and a real sender in one namespace share its one resolv.conf.
@Suite struct SharedResolvConfTests {
    static func scenario(signed: Bool, receiver: String, sender: String) throws -> ScenarioCase {
        let yaml = """
            dns:
              dnssec: \(signed ? "signed" : "unsigned")
              records:
                - example.test. MX 10 mx.example.test.
                - mx.example.test. A 192.0.2.10
            receiver: {hostname: mx.example.test, addresses: [192.0.2.10], resolver: \(receiver)}
            sender:
              addresses: {ipv4: 203.0.113.25}
              helo: mail.sender.test
              mail_from: alice@sender.test
              rcpt_to: [bob@example.test]
              resolver: \(sender)
            expect: {outcome: delivered}
            """
        return try #require(try ScenarioLoader(kinds: builtinKinds).load(yaml: yaml, file: "r.yaml").first)
    }

    @Test func differentResolversInASignedWorldAreSkippedOnlyWhenBothShareTheFile() throws {
        let mixed = try Self.scenario(signed: true, receiver: "non-validating", sender: "validating")
        let reason = try #require(CaseRunner.sharedResolvConfReason(mixed, receiverShares: true, senderShares: true))
        #expect(reason.contains("receiver.resolver: non-validating and sender.resolver: validating"))
        #expect(CaseRunner.sharedResolvConfReason(mixed, receiverShares: false, senderShares: true) == nil)
        #expect(CaseRunner.sharedResolvConfReason(mixed, receiverShares: true, senderShares: false) == nil)
        let same = try Self.scenario(signed: true, receiver: "validating", sender: "validating")
        #expect(CaseRunner.sharedResolvConfReason(same, receiverShares: true, senderShares: true) == nil)
        // In an unsigned world both resolvers answer alike.
        let unsigned = try Self.scenario(signed: false, receiver: "validating", sender: "non-validating")
        #expect(CaseRunner.sharedResolvConfReason(unsigned, receiverShares: true, senderShares: true) == nil)
    }
}
