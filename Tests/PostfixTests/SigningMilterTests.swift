import DKIM
import Foundation
@testable import Postfix
import Scenario
import Testing

/// OpenDKIM 2.11 signs Ed25519 verifiably only with relaxed header canonicalization (libopendkim
/// forces the fold before `b=` for RSA keys alone): the real Postfix sender signs the rest with
/// dkimpy-milter, and renders each signer's files.
@Suite struct SigningMilterTests {
    static func signing(
        _ algorithm: DKIMAlgorithm, _ canonicalization: String, key: DKIMSigningKey? = nil, expireAfter: Int? = nil,
        breakage: DKIMSigning.Breakage? = nil
    ) -> DKIMSigning {
        let dkim = DKIMSpec(
            selector: "s2026", algorithm: algorithm, headers: ["from", "to", "subject", "date"],
            canonicalization: CanonicalizationPair(tag: canonicalization)!, key: key, expireAfter: expireAfter)
        return DKIMSigning(dkim: dkim, domain: "sender.test", breakage: breakage)
    }

    @Test(arguments: ["simple/simple", "simple/relaxed", "simple"])
    func ed25519WithSimpleHeadersIsSignedByDkimpyMilter(canonicalization: String) {
        #expect(Self.signing(.ed25519SHA256, canonicalization).signer == .dkimpyMilter)
    }

    @Test(arguments: [
        (DKIMAlgorithm.ed25519SHA256, "relaxed/relaxed"), (.ed25519SHA256, "relaxed/simple"),
        (.ed25519SHA256, "relaxed"),
        (.rsaSHA256, "simple/simple"), (.rsaSHA256, "relaxed/relaxed"),
    ])
    func whatOpenDKIMSignsVerifiablyStaysWithIt(algorithm: DKIMAlgorithm, canonicalization: String) {
        #expect(Self.signing(algorithm, canonicalization).signer == .openDKIM)
    }

    @Test func dkimpyMilterConfigurationSignsWithTheCaseKeyForEveryFrom() throws {
        let key = try DKIMSigningKey.generate(.ed25519SHA256)
        guard case .ed25519(let seed) = key else {
            Issue.record("not an Ed25519 key")
            return
        }
        var signing = Self.signing(.ed25519SHA256, "simple/simple", key: key)
        signing.loopback = .ipv6
        let configuration = signing.configuration(directory: "/case/dkim-signer")
        let lines = Set(configuration.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") })
        for expected in [
            "Mode s", "Socket inet6:8897@::1", "Syslog no", "UserID dkimpy-milter",
            "KeyTableEd25519 /case/dkim-signer/keytable", "SigningTable /case/dkim-signer/signingtable",
            "Canonicalization simple/simple", "SignHeaders from,to,subject,date",
        ] {
            #expect(lines.contains(expected), "missing \(expected) in \(configuration)")
        }
        #expect(!configuration.contains("SignatureTTL"))
        #expect(signing.configurationFile == "dkimpy-milter.conf")
        #expect(signing.signingTable == "% s2026._domainkey.sender.test\n")
        #expect(
            signing.keyTable(directory: "/case/dkim-signer")
                == "s2026._domainkey.sender.test sender.test:s2026:/case/dkim-signer/key.ed25519\n")
        // dkimpy reads the base64 of the 32-byte seed, not the PKCS#8 PEM OpenDKIM reads.
        #expect(signing.keyFileContents == Data(seed).base64EncodedString() + "\n")
        #expect(signing.unsupportedReason == nil)
    }

    @Test func openDKIMConfigurationIsUnchanged() throws {
        let key = try DKIMSigningKey.generate(.ed25519SHA256)
        let signing = Self.signing(.ed25519SHA256, "relaxed/relaxed", key: key, expireAfter: 600)
        let configuration = signing.configuration(directory: "/d")
        #expect(configuration.contains("SignatureTTL            600"))
        #expect(configuration.contains("KeyTable                file:/d/keytable"))
        #expect(signing.signingTable == "* s2026._domainkey.sender.test\n")
        #expect(signing.keyTable(directory: "/d") == "s2026._domainkey.sender.test sender.test:s2026:/d/key.pem\n")
        #expect(signing.keyFileContents == key.pem)
    }

    /// dkimpy-milter writes no `x=`: such a case is skipped with the reason, never signed without it.
    @Test(arguments: [(600, nil), (nil, DKIMSigning.Breakage.expired)] as [(Int?, DKIMSigning.Breakage?)])
    func expiryWithDkimpyMilterIsSkipped(expireAfter: Int?, breakage: DKIMSigning.Breakage?) throws {
        let signing = Self.signing(.ed25519SHA256, "simple/simple", expireAfter: expireAfter, breakage: breakage)
        let reason = try #require(SignerInstallation().missingReason(for: signing))
        #expect(reason.contains("x="))
    }

    @Test func aMissingDkimpyMilterIsNamed() throws {
        let signing = Self.signing(.ed25519SHA256, "simple/simple")
        let reason = try #require(
            SignerInstallation(dkimpyMilter: "/nonexistent/dkimpy-milter").missingReason(for: signing))
        #expect(reason.contains("apt-get install dkimpy-milter"))
    }
}
