import CertificateAuthority
import DNSCore
import Delivery
import Logging
import MXHarnessTestKit
import NIOPosix
import SMTPProtocol
import Sender
import Testing
@testable import ReferenceMX

/// A certificate per listening address (`receiver.tls.listeners`): the MX presents on each
/// address the certificate given for it, and the delivery model at `verify` sees the difference.
@Suite("ReferenceMX TLS listeners", .timeLimit(.minutes(2)))
struct ReferenceMXTLSListenerTests {
    static let authority = try! WorldAuthority()
    static let v4 = IPAddress("127.0.0.1")!
    static let v6 = IPAddress("::1")!
    static let dns = InMemoryDNS([
        ("example.test", .mx(preference: 10, exchange: "mx.example.test")),
        ("mx.example.test", .a(v4)),
        ("mx.example.test", .aaaa(v6)),
    ])

    /// Delivers from `source` at `verify` to the MX's endpoint of that family.
    func deliver(to mx: ReferenceMX, from source: IPAddress) async throws -> DeliveryReport {
        let endpoint = try #require(mx.endpoints.first { $0.address.family == source.family })
        let agent = DeliveryAgent(
            lookup: Self.dns, eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            logger: Logger(label: "test.sender"))
        var request = DeliveryRequest(
            sources: [source.family: source], helo: "mail.sender.test", mailFrom: "alice@sender.test",
            recipients: ["bob@example.test"], message: Array("Subject: t\n\nHi\n".utf8), port: endpoint.port,
            connectTimeout: .seconds(5), replyTimeout: .seconds(10))
        request.tls = SenderTLS(level: .verify, trustAnchors: [Self.authority.root], handshakeTimeout: .seconds(10))
        return await agent.deliver(request, in: nil)
    }

    @Test func eachAddressPresentsItsOwnCertificate() async throws {
        let valid = try Self.authority.certificate(.valid, names: ["mx.example.test"], addresses: [Self.v4])
        let selfSigned = try Self.authority.certificate(.selfSigned, names: ["mx.example.test"], addresses: [Self.v6])
        try await MXTest.withMX(
            dns: Self.dns,
            configure: { configuration in
                var tls = try! MXTLSConfiguration(chainPEM: valid.chainPEM, keyPEM: valid.privateKeyPEM)
                try! tls.present(chainPEM: selfSigned.chainPEM, keyPEM: selfSigned.privateKeyPEM, on: [Self.v6])
                configuration.tls = tls
            }
        ) { mx in
            let overIPv4 = try await deliver(to: mx, from: Self.v4)
            #expect(overIPv4.outcome == .delivered)
            #expect(overIPv4.attempts.map(\.tls?.trust) == [.verified])

            let overIPv6 = try await deliver(to: mx, from: Self.v6)
            #expect(overIPv6.outcome == .deferred)
            let attempt = try #require(overIPv6.attempts.first)
            #expect(attempt.reply == SMTPReply(code: 451, enhanced: "4.7.5", "Server certificate not verified"))
            #expect(attempt.tls?.trust == .untrusted)
            #expect(attempt.transcript.contains { $0.text.hasSuffix("self-signed certificate") })
        }
    }
}
