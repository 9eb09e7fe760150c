import DNSCore
import Policy
@testable import Postfix
import Testing

/// `receiver.tls` in a Postfix receiver's main.cf and master.cf: the level, the world's
/// certificates as chain files, one smtpd per address when addresses present different ones, and
/// a base or site configuration's own certificate replaced (and said so).
struct PostfixTLSConfigurationTests {
    static let v4 = IPAddress("192.0.2.10")!
    static let v6 = IPAddress("2001:db8::10")!
    static let paths = PostfixPaths(under: "/case")

    static func configuration(_ tls: PostfixTLS?, base: MainCF? = nil, site: PostfixSiteDirectory? = nil)
        -> PostfixConfiguration
    {
        PostfixConfiguration(
            hostname: "mx.example.test", addresses: [v4, v6], domains: ["example.test"], policy: .open, base: base,
            site: site, tls: tls)
    }

    static func oneCertificate(required: Bool = false) -> PostfixTLS {
        PostfixTLS(
            required: required, protocols: nil,
            certificates: [.init(keyAndChainPEM: "KEY\nCHAIN\n", addresses: [v4, v6])])
    }

    @Test func mayWithTheWorldsChainFileAndLogLevelOne() throws {
        let rendered = try Self.configuration(Self.oneCertificate()).render(paths: Self.paths)
        #expect(rendered.parameters["smtpd_tls_security_level"] == "may")
        #expect(rendered.parameters["smtpd_tls_chain_files"] == "/case/tables/tls-chain-0.pem")
        #expect(rendered.parameters["smtpd_tls_cert_file"] == "")
        #expect(rendered.parameters["smtpd_tls_loglevel"] == "1")
        #expect(
            rendered.parameters["smtpd_tls_protocols"] == nil, "Postfix's default versions unless the case names some")
        #expect(rendered.files["/case/tables/tls-chain-0.pem"] == "KEY\nCHAIN\n")
        #expect(PostfixTLS.isPrivate("/case/tables/tls-chain-0.pem"))
        #expect(rendered.smtpdServices == [MasterCF.Service(name: "25")])
    }

    @Test func requiredIsEncryptAndProtocolsAreARange() throws {
        var tls = Self.oneCertificate(required: true)
        tls.protocols = .tls12 ... .tls13
        let rendered = try Self.configuration(tls).render(paths: Self.paths)
        #expect(rendered.parameters["smtpd_tls_security_level"] == "encrypt")
        #expect(rendered.parameters["smtpd_tls_protocols"] == ">=TLSv1.2, <=TLSv1.3")
        #expect(rendered.parameters["smtpd_tls_mandatory_protocols"] == ">=TLSv1.2, <=TLSv1.3")
    }

    @Test func withoutTLSNothingIsSet() throws {
        let rendered = try Self.configuration(nil).render(paths: Self.paths)
        #expect(rendered.parameters["smtpd_tls_security_level"] == nil)
        #expect(rendered.files.keys.allSatisfy { !PostfixTLS.isPrivate($0) })
    }

    @Test func addressesWithTheirOwnCertificateGetAnSmtpdEach() throws {
        let tls = PostfixTLS(
            required: false, protocols: nil,
            certificates: [
                .init(keyAndChainPEM: "GOOD", addresses: [Self.v4]), .init(keyAndChainPEM: "BAD", addresses: [Self.v6]),
            ])
        let rendered = try Self.configuration(tls).render(paths: Self.paths)
        #expect(rendered.files["/case/tables/tls-chain-1.pem"] == "BAD")
        let master = rendered.masterCF(stock: MasterCFTests.stock)
        let lines = master.split(separator: "\n").map(String.init)
        #expect(!lines.contains { $0.hasPrefix("25 ") }, "no service on every address next to the per-address ones")
        #expect(PostfixIdentityConfigurationTests.options(after: "192.0.2.10:25 ", in: master) == ["-o max_use=1"])
        #expect(
            PostfixIdentityConfigurationTests.options(after: "[2001:db8::10]:25 ", in: master)
                == ["-o max_use=1", "-o smtpd_tls_chain_files=/case/tables/tls-chain-1.pem"])
        // Instances with other services are other instances.
        #expect(Self.configuration(tls).sharingKey != Self.configuration(Self.oneCertificate()).sharingKey)
    }

    @Test func aBaseCertificateIsReplacedAndReported() throws {
        var base = MainCF()
        base["smtpd_tls_cert_file"] = "/etc/ssl/certs/ssl-cert-snakeoil.pem"
        base["smtpd_tls_key_file"] = "/etc/ssl/private/ssl-cert-snakeoil.key"
        let rendered = try Self.configuration(Self.oneCertificate(), base: base).render(paths: Self.paths)
        #expect(rendered.parameters["smtpd_tls_cert_file"] == "")
        #expect(rendered.parameters["smtpd_tls_key_file"] == "")
        #expect(
            rendered.overridden.contains {
                $0.hasPrefix("smtpd_tls_cert_file = /etc/ssl/certs/ssl-cert-snakeoil.pem (base main.cf)")
            })
        #expect(rendered.overridden.contains { $0.hasPrefix("smtpd_tls_key_file") })
    }
}

/// A site's configuration directory with TLS settings of its own.
struct PostfixTLSSiteTests {
    static let master = """
        smtp      inet  n       -       y       -       -       smtpd
          -o smtpd_tls_cert_file=/etc/postfix/site.pem
        pickup    unix  n       -       y       60      1       pickup
        """

    static func site() -> PostfixSiteDirectory {
        var main = MainCF()
        main["smtpd_tls_chain_files"] = "/etc/postfix/site-chain.pem"
        main["smtpd_tls_security_level"] = "may"
        return PostfixSiteDirectory(path: "/site", mainCF: main, masterCF: master, files: [:])
    }

    @Test func theSitesSmtpdGetsTheWorldsCertificateAfterItsOwnOptions() throws {
        let configuration = PostfixTLSConfigurationTests.configuration(
            PostfixTLSConfigurationTests.oneCertificate(), site: Self.site())
        let rendered = try configuration.render(paths: PostfixTLSConfigurationTests.paths)
        #expect(rendered.parameters["smtpd_tls_chain_files"] == "/case/tables/tls-chain-0.pem")
        #expect(rendered.overridden.contains { $0.hasPrefix("smtpd_tls_chain_files = /etc/postfix/site-chain.pem") })
        let options = PostfixIdentityConfigurationTests.options(after: "smtp ", in: rendered.siteMaster?.text ?? "")
        #expect(options.first == "-o smtpd_tls_cert_file=/etc/postfix/site.pem")
        #expect(options.contains("-o smtpd_tls_cert_file="), "the site's own option is emptied after it")
        #expect(options.contains("-o smtpd_tls_chain_files=/case/tables/tls-chain-0.pem"))
    }

    @Test func aCertificatePerAddressWithASitesMasterCFIsSkipped() {
        let tls = PostfixTLS(
            required: false, protocols: nil,
            certificates: [
                .init(keyAndChainPEM: "A", addresses: [PostfixTLSConfigurationTests.v4]),
                .init(keyAndChainPEM: "B", addresses: [PostfixTLSConfigurationTests.v6]),
            ])
        let configuration = PostfixTLSConfigurationTests.configuration(tls, site: Self.site())
        #expect(throws: PostfixConfigurationError.self) {
            try configuration.render(paths: PostfixTLSConfigurationTests.paths)
        }
        #expect((try? configuration.render(paths: PostfixTLSConfigurationTests.paths)) == nil)
        do {
            _ = try configuration.render(paths: PostfixTLSConfigurationTests.paths)
        } catch {
            #expect(error.unsupportedReason?.contains("receiver.tls.listeners") == true)
        }
    }
}
