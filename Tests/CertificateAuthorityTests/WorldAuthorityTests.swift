import CertificateAuthority
import DNSCore
import Foundation
import Testing
import X509

/// The world's authority and the sender's check of what it issued, in Postfix's words
/// (src/tls/tls_verify.c), and the same files as `openssl verify` sees them.
@Suite struct WorldAuthorityTests {
    static let authority = try! WorldAuthority()
    static let names = ["mx.example.test"]
    static let addresses = [IPAddress("192.0.2.10")!, IPAddress("2001:db8::10")!]

    func verdict(_ kind: CertificateKind, names match: [NameMatch] = [.hostname("mx.example.test")]) async throws
        -> PeerVerdict
    {
        let issued = try Self.authority.certificate(kind, names: Self.names, addresses: Self.addresses)
        let check = PKIXAuthentication(trustAnchors: [Self.authority.root], names: match)
        return await check.verify(chain: [issued.certificate] + issued.intermediates, at: Self.authority.now)
    }

    @Test func aValidCertificateIsVerifiedForItsHost() async throws {
        let verdict = try await verdict(.valid)
        #expect(verdict == PeerVerdict(isTrusted: true, isMatched: true, failure: nil))
        // No names to match (may, encrypt): trusted, never matched.
        #expect(
            try await self.verdict(.valid, names: []) == PeerVerdict(isTrusted: true, isMatched: false, failure: nil))
    }

    @Test(arguments: [
        (CertificateKind.expired, "certificate has expired"),
        (.notYetValid, "certificate not yet valid"),
        (.selfSigned, "self-signed certificate"),
        (.unknownCA, "untrusted issuer /O=mxharness/CN=mxharness unknown CA"),
    ])
    func faultsReadAsPostfixLogsThem(_ kind: CertificateKind, _ reason: String) async throws {
        let verdict = try await verdict(kind)
        #expect(verdict == PeerVerdict(isTrusted: false, isMatched: false, failure: reason))
    }

    @Test func aWrongNameIsTrustedButNotMatched() async throws {
        let verdict = try await verdict(.wrongName)
        #expect(verdict == PeerVerdict(isTrusted: true, isMatched: false, failure: "num=62:hostname mismatch"))
    }

    @Test func secureMatchesTheNexthopDomainNotTheMXName() async throws {
        let issued = try Self.authority.certificate(.valid, names: ["mx.example.test"], addresses: [])
        let chain = [issued.certificate] + issued.intermediates
        func secure(_ domain: String) async -> Bool {
            await PKIXAuthentication(
                trustAnchors: [Self.authority.root], names: [.nexthop(domain), .dotNexthop(domain)]
            )
            .verify(chain: chain, at: Self.authority.now).isMatched
        }
        #expect(await secure("example.test"))
        #expect(await !secure("hosted.test"))
        #expect(await !secure("mx.example.test.other"))
    }

    @Test func certificatesAreMadeOncePerReceiver() throws {
        let first = try Self.authority.certificate(.valid, names: ["mx.example.test"], addresses: Self.addresses)
        let again = try Self.authority.certificate(.valid, names: ["MX.example.test."], addresses: Self.addresses)
        let other = try Self.authority.certificate(.valid, names: ["mx2.example.test"], addresses: Self.addresses)
        #expect(first.certificate == again.certificate)
        #expect(first.certificate != other.certificate)
        // One key for every receiver certificate of the run.
        #expect(first.privateKeyPEM == other.privateKeyPEM)
    }

    @Test func theNamesAndAddressesAreInTheCertificate() throws {
        let issued = try Self.authority.certificate(.valid, names: Self.names, addresses: Self.addresses)
        let alternatives = try #require(try issued.certificate.extensions.subjectAlternativeNames)
        #expect(alternatives.count == 3)
        #expect(alternatives.contains(.dnsName("mx.example.test")))
    }

    /// The PEM files a real MTA is given, as OpenSSL reads them.
    @Test(arguments: [
        (CertificateKind.valid, "OK"), (.expired, "certificate has expired"),
        (.notYetValid, "certificate is not yet valid"),
        (.selfSigned, "self-signed certificate"), (.unknownCA, "unable to get local issuer certificate"),
    ])
    func openSSLReadsThePEMFiles(_ kind: CertificateKind, _ expected: String) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else {
            Issue.record("openssl is not installed (/usr/bin/openssl): apt-get install openssl")
            return
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ca-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let root = try Self.authority.writeRoot(to: directory)
        let files = try Self.authority.certificate(kind, names: Self.names, addresses: Self.addresses).write(
            to: directory)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        // Only the leaf is checked against the world's authority; the chain file's issuer copy is not trusted.
        let leaf = directory + "/leaf.pem"
        let chain = try String(contentsOfFile: files.chain, encoding: .utf8)
        let firstEnd = try #require(chain.range(of: "-----END CERTIFICATE-----"))
        try String(chain[..<firstEnd.upperBound]).write(toFile: leaf, atomically: true, encoding: .utf8)
        process.arguments = ["verify", "-CAfile", root, leaf]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        process.waitUntilExit()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(output.contains(expected), "\(output)")
        let key = try FileManager.default.attributesOfItem(atPath: files.key)[.posixPermissions] as? Int
        #expect(key == 0o600)
    }
}
