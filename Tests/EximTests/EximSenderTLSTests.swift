import DNSCore
import Delivery
import SMTPProtocol
import Testing
@testable import Exim

/// `sender.tls` on the Exim sender: the transport options of each level, and Exim 4.96's TLS log
/// lines (seen from the unpacked Debian build, GnuTLS) read as the delivery model reports them.
@Suite struct EximSenderTLSTests {
    let prefix = "2026-12-07 04:02:37.822 [13914] 1xaPvv-0003cP-2H "
    let x = "X=TLS1.3:ECDHE_SECP256R1__ECDSA_SECP256R1_SHA256__AES_256_GCM:256"

    func delivered(_ host: String, _ address: String, tls: String?) -> String {
        prefix + "=> bob@example.test F=<alice@sender.test> R=dnslookup T=remote_smtp S=334 H=\(host) [\(address)]:25 "
            + "I=[203.0.113.25]:46948 " + (tls.map { $0 + " " } ?? "")
            + "L C=\"250 2.0.0 Ok: queued as S1Q1\" QT=3.106s DT=1.525s"
    }

    @Test func aDeliveryOverTLSCarriesTheSessionInPostfixsWords() {
        let line = delivered("mx.example.test", "192.0.2.10", tls: x + " CV=yes DN=\"CN=mx.example.test\"")
        let verified = EximDeliveryLog(lines: [line], level: .verify)
        #expect(verified.attempts.count == 1)
        #expect(verified.attempts[0].tls?.version == .tls13)
        #expect(verified.attempts[0].tls?.cipher == "ECDHE_SECP256R1__ECDSA_SECP256R1_SHA256__AES_256_GCM")
        #expect(verified.attempts[0].tls?.trust == .verified)
        // At may no name is checked (tls_verify_cert_hostnames =): a good chain is "Trusted".
        #expect(EximDeliveryLog(lines: [line], level: .may).attempts[0].tls?.trust == .trusted)
        let untrusted = delivered("mx.example.test", "192.0.2.10", tls: x + " CV=no DN=\"CN=mx.example.test\"")
        #expect(EximDeliveryLog(lines: [untrusted], level: .may).attempts[0].tls?.trust == .untrusted)
        #expect(
            EximDeliveryLog(lines: [delivered("mx.example.test", "192.0.2.10", tls: nil)], level: .may).attempts[0].tls
                == nil)
    }

    @Test func aFailedCertificateCheckDefersTheHostAndTheNextTakesTheMessage() {
        let log = EximDeliveryLog(
            lines: [
                prefix
                    + "TLS host defer: H=mx1.example.test [192.0.2.11]:25: TLS session: (certificate verification failed): certificate invalid",
                delivered("mx2.example.test", "192.0.2.12", tls: x + " CV=yes DN=\"CN=mx2.example.test\""),
            ], level: .verify)
        #expect(log.attempts.map(\.result) == [.tempfailed, .accepted])
        #expect(log.attempts[0].stage == .helo)
        #expect(log.attempts[0].reply == SMTPReply(code: 451, enhanced: "4.7.5", "Server certificate not verified"))
        #expect(log.attempts[0].error == "TLS session: (certificate verification failed): certificate invalid")
        #expect(log.attempts[0].tls?.trust == .untrusted)
        #expect(log.status(of: "bob@example.test")?.attemptIndex == 1)
    }

    @Test func theLastHostsTLSFailureDefersTheMessage() {
        let log = EximDeliveryLog(
            lines: [
                prefix
                    + "TLS host defer: H=mx.example.test [192.0.2.10]:25: TLS session: (gnutls_handshake): Handshake failed",
                prefix
                    + "== bob@example.test R=dnslookup T=remote_smtp defer (-37) H=mx.example.test [192.0.2.10]:25 I=[203.0.113.25]:44354 DT=1.529s: TLS session: (gnutls_handshake): Handshake failed",
            ], level: .encrypt)
        #expect(log.attempts.count == 1)
        #expect(log.attempts[0].reply == SMTPReply(code: 451, enhanced: "4.7.5", "Cannot start TLS: handshake failure"))
        #expect(log.attempts[0].tls == nil)
        #expect(log.status(of: "bob@example.test")?.outcome == .deferred)
        #expect(log.status(of: "bob@example.test")?.attemptIndex == 0)
    }

    /// Exim's difference from Postfix at may: after a failed handshake it goes on in clear with the
    /// same host at once (Postfix defers a message's first attempt).
    @Test func atMayAFailedHandshakeIsRetriedInClearOnTheSameHost() {
        let log = EximDeliveryLog(
            lines: [
                prefix
                    + "TLS host defer: H=mx.example.test [192.0.2.10]:25: TLS session: (gnutls_handshake): Handshake failed",
                prefix
                    + "TLS session: (gnutls_handshake): Handshake failed: delivering unencrypted to H=mx.example.test [192.0.2.10] (not in hosts_require_tls)",
                delivered("mx.example.test", "192.0.2.10", tls: nil),
            ], level: .may)
        #expect(log.attempts.map(\.result) == [.tempfailed, .accepted])
        #expect(log.attempts.map(\.remoteAddress) == [IPAddress("192.0.2.10")!, IPAddress("192.0.2.10")!])
        #expect(log.attempts[0].reply?.enhanced == "4.7.5")
        #expect(log.attempts[1].tls == nil)
        #expect(log.status(of: "bob@example.test")?.attemptIndex == 1)
    }

    @Test func tlsRequiredAndNotOfferedIsPostfixs474() {
        let log = EximDeliveryLog(
            lines: [
                prefix
                    + "H=mx.example.test [192.0.2.10]:25: a TLS session is required, but the server did not offer TLS support",
                prefix
                    + "== bob@example.test R=dnslookup T=remote_smtp defer (-38) H=mx.example.test [192.0.2.10]:25 I=[203.0.113.25]:43748 DT=1.520s: a TLS session is required, but the server did not offer TLS support",
            ], level: .encrypt)
        #expect(log.attempts.count == 1)
        #expect(log.attempts[0].stage == .helo)
        #expect(
            log.attempts[0].reply
                == SMTPReply(
                    code: 451, enhanced: "4.7.4",
                    "TLS is required, but was not offered by host mx.example.test[192.0.2.10]"))
        #expect(log.status(of: "bob@example.test")?.attemptIndex == 0)
    }

    /// DANE (hosts_try_dane): a TLSA mismatch is a failed certificate check; a TLSA lookup that
    /// fails (bogus) defers without a connection, as Postfix's "TLSA lookup error" (4.7.5).
    @Test func daneMismatchAndTLSALookupErrorReadAsPostfixs() {
        let mismatch = EximDeliveryLog(
            lines: [
                prefix
                    + "DANE attempt failed; TLS connection to mx.example.test [192.0.2.10]: (certificate verification failed): Verification failed. The certificate differs. ",
                prefix
                    + "TLS host defer: H=mx.example.test [192.0.2.10]:25: TLS session: (certificate verification failed): Verification failed. The certificate differs. ",
                prefix
                    + "== bob@example.test R=dnslookup T=remote_smtp defer (-37) H=mx.example.test DS [192.0.2.10]:25 I=[203.0.113.25]:39557 DT=0.073s: TLS session: (certificate verification failed): Verification failed. The certificate differs. ",
            ], level: .dane)
        #expect(mismatch.attempts.count == 1)
        #expect(mismatch.attempts[0].remoteHost == "mx.example.test")
        #expect(mismatch.attempts[0].reply?.text == "Server certificate not verified")
        #expect(mismatch.status(of: "bob@example.test")?.attemptIndex == 0)
        let bogus = EximDeliveryLog(
            lines: [
                prefix + "H=mx.example.test [192.0.2.10]:25: DANE error: tlsa lookup DEFER",
                prefix
                    + "== bob@example.test R=dnslookup T=remote_smtp defer (-36) DT=0.003s: DANE error: tlsa lookup DEFER",
            ], level: .dane)
        #expect(bogus.attempts.isEmpty)
        #expect(bogus.status(of: "bob@example.test")?.dsn == "4.7.5")
        #expect(
            bogus.status(of: "bob@example.test")?.text
                == "TLSA lookup error for mx.example.test:25 (DANE error: tlsa lookup DEFER)")
        let verified = delivered("mx.example.test DS", "192.0.2.10", tls: x + " CV=dane DN=\"CN=mx.example.test\"")
        #expect(EximDeliveryLog(lines: [verified], level: .dane).attempts[0].tls?.trust == .verified)
    }

    func configuration(_ level: TLSSecurityLevel, options: [String: String] = [:]) -> String {
        var request = DeliveryRequest(
            sources: [.ipv4: IPAddress("203.0.113.25")!], helo: "mail.sender.test", mailFrom: "alice@sender.test",
            recipients: ["bob@example.test"], message: [])
        if level != .none { request.tls = SenderTLS(level: level, trustAnchors: []) }
        return EximSendingMTA.configuration(request, options: options, root: "/case/exim-sender")
    }

    @Test func eachLevelIsTranslatedToTransportOptions() {
        #expect(configuration(.none).contains("  hosts_avoid_tls = *\n"))
        #expect(!configuration(.none).contains("tls_verify_certificates"))
        let may = configuration(.may)
        #expect(!may.contains("hosts_avoid_tls"))
        #expect(may.contains("  tls_verify_certificates = /case/exim-sender/world-ca.pem\n"))
        #expect(may.contains("  tls_verify_cert_hostnames =\n"))
        #expect(may.contains("  hosts_try_dane =\n"))
        #expect(!may.contains("hosts_require_tls"))
        #expect(may.contains("{-37}}}{${acl{tls_host_defer}}}"))
        #expect(configuration(.encrypt).contains("  hosts_require_tls = *\n"))
        let verify = configuration(.verify)
        #expect(verify.contains("  tls_verify_hosts = *\n"))
        #expect(verify.contains("  tls_verify_cert_hostnames = *\n"))
        #expect(configuration(.dane).contains("  hosts_try_dane = *\n"))
    }

    @Test func aSenderEximOptionReplacesTheHarnesssOwn() {
        let text = configuration(.may, options: ["hosts_require_tls": "*", "tls_verify_cert_hostnames": "*"])
        #expect(text.components(separatedBy: "tls_verify_cert_hostnames").count == 2)
        #expect(text.contains("  tls_verify_cert_hostnames = *\n"))
        #expect(text.contains("  hosts_require_tls = *\n"))
    }
}
