import DNSCore
import Policy
import SMTPProtocol
import XCTest

@testable import OpenSMTPD

final class OpenSMTPDTLSConfigurationTests: XCTestCase {
    let v4 = IPAddress("192.0.2.10")!
    let v6 = IPAddress("2001:db8::10")!

    func configuration(_ tls: OpenSMTPDTLS?) -> OpenSMTPDConfiguration {
        var configuration = OpenSMTPDConfiguration(
            hostname: "mx.example.test", addresses: [v4, v6], domains: ["example.test"], policy: Preset.open.policy)
        configuration.tls = tls
        return configuration
    }

    func certificate(_ name: String, _ addresses: [IPAddress]) -> OpenSMTPDTLS.Certificate {
        OpenSMTPDTLS.Certificate(chainPEM: "CHAIN \(name)\n", keyPEM: "KEY \(name)", addresses: addresses)
    }

    func testStartTLSOnEveryListenerWithTheWorldsCertificate() throws {
        let tls = OpenSMTPDTLS(required: false, protocols: nil, certificates: [certificate("valid", [v4, v6])])
        let text = try configuration(tls).render(tlsDirectory: "/case/receiver/tls")
        XCTAssertTrue(text.contains(#"pki "mxh_pki_0" cert "/case/receiver/tls/chain-0.pem""#), text)
        XCTAssertTrue(text.contains(#"pki "mxh_pki_0" key "/case/receiver/tls/key-0.pem""#), text)
        XCTAssertTrue(
            text.contains(#"listen on 192.0.2.10 port 25 hostname "mx.example.test" tls pki "mxh_pki_0""# + "\n"), text)
        XCTAssertTrue(
            text.contains(#"listen on 2001:db8::10 port 25 hostname "mx.example.test" tls pki "mxh_pki_0""# + "\n"),
            text)
        XCTAssertFalse(text.contains("tls-require"))
        XCTAssertFalse(text.contains("protocols"))
        // smtpd.conf(5): a pki must be declared before a listener names it.
        let pki = try XCTUnwrap(text.range(of: "pki \"mxh_pki_0\" cert"))
        let listen = try XCTUnwrap(text.range(of: "listen on"))
        XCTAssertLessThan(pki.lowerBound, listen.lowerBound)
        XCTAssertEqual(
            tls.files(directory: "/d"), ["/d/chain-0.pem": "CHAIN valid\n", "/d/key-0.pem": "KEY valid\n"],
            "the key file ends with a newline")
        XCTAssertNil(configuration(tls).unsupportedReason)
    }

    func testRequiredProtocolsAndACertificatePerListener() throws {
        let tls = OpenSMTPDTLS(
            required: true, protocols: .tls12 ... .tls13,
            certificates: [certificate("valid", [v4]), certificate("self-signed", [v6])])
        let text = try configuration(tls).render(tlsDirectory: "/t")
        XCTAssertTrue(
            text.contains(
                #"listen on 192.0.2.10 port 25 hostname "mx.example.test" tls-require pki "mxh_pki_0" protocols "tlsv1.2,tlsv1.3""#
            ), text)
        XCTAssertTrue(
            text.contains(
                #"listen on 2001:db8::10 port 25 hostname "mx.example.test" tls-require pki "mxh_pki_1" protocols "tlsv1.2,tlsv1.3""#
            ), text)
        XCTAssertTrue(text.contains(#"pki "mxh_pki_1" key "/t/key-1.pem""#), text)
        XCTAssertEqual(tls.files(directory: "/t")["/t/chain-1.pem"], "CHAIN self-signed\n")
    }

    func testTheFilterStaysBeforeTheTLSOptions() throws {
        var configuration = configuration(
            OpenSMTPDTLS(required: false, protocols: .tls13 ... .tls13, certificates: [certificate("v", [v4, v6])]))
        configuration.policy = Preset.fcrdnsStrict.policy
        let text = try configuration.render(tlsDirectory: "/t")
        XCTAssertTrue(
            text.contains(
                #"listen on 192.0.2.10 port 25 hostname "mx.example.test" filter "mxh_policy_ipv4" tls pki "mxh_pki_0" protocols "tlsv1.3""#
            ), text)
    }

    func testVersionsBelowTLS12AreSkippedNotSilentlyRaised() {
        let old = OpenSMTPDTLS(required: false, protocols: .tls1 ... .tls11, certificates: [certificate("v", [v4])])
        let reason = configuration(old).unsupportedReason
        XCTAssertEqual(
            reason,
            "receiver.tls.protocols: OpenSMTPD's libtls offers TLSv1.2 and TLSv1.3 only (it reads tlsv1.0 and tlsv1.1 as TLSv1.2), not TLSv1, TLSv1.1"
        )
        let wide = OpenSMTPDTLS(required: false, protocols: .tls11 ... .tls13, certificates: [certificate("v", [v4])])
        XCTAssertNotNil(wide.unsupportedReason)
        let modern = OpenSMTPDTLS(required: false, protocols: .tls12 ... .tls13, certificates: [certificate("v", [v4])])
        XCTAssertNil(modern.unsupportedReason)
    }

    func testNoTLSMeansNoPkiAndAUsersOwnFileCannotTakeTheWorldsCertificates() throws {
        let text = try configuration(nil).render()
        XCTAssertFalse(text.contains("pki"))
        XCTAssertFalse(text.contains(" tls"))
        var own = configuration(OpenSMTPDTLS(required: false, protocols: nil, certificates: [certificate("v", [v4])]))
        own.baseText = "listen on 192.0.2.10\n"
        XCTAssertEqual(
            own.unsupportedReason,
            "receiver.tls is set up in the configuration the harness writes, not in one given with --opensmtpd-config")
    }

    func testStartTLSNeedsOpenSMTPD73OrLater() {
        func installation(_ version: String) -> OpenSMTPDInstallation {
            OpenSMTPDInstallation(binary: "/x/smtpd", version: version)
        }
        XCTAssertTrue(installation("7.4.0-portable").startTLSWorks)
        XCTAssertTrue(installation("7.3.0").startTLSWorks)
        XCTAssertTrue(installation("7.6.0p1").startTLSWorks)
        XCTAssertTrue(installation("8.0.0-portable").startTLSWorks)
        XCTAssertFalse(installation("6.8.0p2").startTLSWorks)
        XCTAssertFalse(installation("7.2.0").startTLSWorks)
        XCTAssertFalse(installation("portable").startTLSWorks)
        XCTAssertNil(installation("7.4.0-portable").startTLSUnsupportedReason)
        XCTAssertTrue(installation("6.8.0p2").startTLSUnsupportedReason?.contains("OpenSMTPD 6.8.0p2 fails") == true)
    }
}
