import CertificateAuthority
import DNSCore
import Foundation
import Testing
import X509

/// The DANE check (RFC 7672 3.1) over certificates the world's authority issues, with the TLSA
/// digests checked against openssl's.
@Suite struct DANEAuthenticationTests {
    static let authority = try! WorldAuthority()
    static let addresses = [IPAddress("192.0.2.10")!]

    func issued(_ kind: CertificateKind) throws -> IssuedCertificate {
        try Self.authority.certificate(kind, names: ["mx.example.test"], addresses: Self.addresses)
    }

    func verdict(_ records: [TLSAAssociation], _ kind: CertificateKind = .valid) async throws -> PeerVerdict {
        let issued = try issued(kind)
        let check = DANEAuthentication(records: records, names: [.hostname("mx.example.test")])
        return await check.verify(chain: [issued.certificate] + issued.intermediates, at: Self.authority.now)
    }

    /// `openssl x509 -pubkey` then `openssl pkey -pubin -outform DER` (or the certificate as DER),
    /// hashed with `openssl dgst -sha256`: the digest a TLSA record generator writes.
    static func opensslDigest(of pem: String, publicKey: Bool) throws -> [UInt8] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dane-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try pem.write(toFile: directory + "/leaf.pem", atomically: true, encoding: .utf8)
        let extract =
            publicKey
            ? "openssl x509 -in leaf.pem -noout -pubkey | openssl pkey -pubin -outform DER"
            : "openssl x509 -in leaf.pem -outform DER"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "cd \(directory) && \(extract) | openssl dgst -sha256 -r"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let hex = Array(output.prefix(64).utf8)
        return stride(from: 0, to: hex.count, by: 2).compactMap {
            UInt8(String(decoding: hex[$0...($0 + 1)], as: UTF8.self), radix: 16)
        }
    }

    @Test func theDigestsAreOpensslsDigests() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else { return }
        let issued = try issued(.valid)
        #expect(
            try issued.certificate.publicKeySHA256() == Self.opensslDigest(of: issued.certificatePEM, publicKey: true))
        #expect(
            try issued.certificate.certificateSHA256()
                == Self.opensslDigest(of: issued.certificatePEM, publicKey: false))
    }

    @Test func aMatchingDANEEERecordVerifiesEvenAnExpiredSelfSignedCertificate() async throws {
        for kind in [CertificateKind.valid, .expired, .selfSigned, .wrongName] {
            let leaf = try issued(kind).certificate
            let key = TLSAAssociation(usage: 3, selector: 1, matching: 1, data: try leaf.publicKeySHA256())
            let whole = TLSAAssociation(usage: 3, selector: 0, matching: 1, data: try leaf.certificateSHA256())
            #expect(try await verdict([key], kind) == PeerVerdict(isTrusted: true, isMatched: true, failure: nil))
            #expect(try await verdict([whole], kind) == PeerVerdict(isTrusted: true, isMatched: true, failure: nil))
        }
    }

    @Test func anotherDigestIsNoMatch() async throws {
        let wrong = TLSAAssociation(usage: 3, selector: 1, matching: 1, data: Array(repeating: 0, count: 32))
        #expect(
            try await verdict([wrong])
                == PeerVerdict(isTrusted: false, isMatched: false, failure: "num=65:no matching DANE TLSA records"))
    }

    @Test func aDANETARecordForTheIssuerVerifiesAChainNamingTheHost() async throws {
        let issued = try issued(.valid)
        guard let issuer = issued.intermediates.first else {
            Issue.record("a valid certificate comes with its issuer")
            return
        }
        let anchor = TLSAAssociation(usage: 2, selector: 1, matching: 1, data: try issuer.publicKeySHA256())
        #expect(try await verdict([anchor]).isMatched)
        // The same anchor with a certificate for another name: the chain holds, the name does not.
        #expect(try await verdict([anchor], .wrongName).isMatched == false)
    }

    @Test(arguments: [
        (UInt8(0), UInt8(1), UInt8(1), 32, false),  // PKIX-TA: not for SMTP (RFC 7672 3.1.3)
        (1, 1, 1, 32, false),  // PKIX-EE
        (3, 2, 1, 32, false),  // no such selector
        (3, 1, 1, 31, false),  // a SHA-256 digest of the wrong length
        (3, 1, 2, 64, true),
        (2, 0, 0, 10, true),
    ])
    func usableRecordsAreThosePostfixParses(usage: UInt8, selector: UInt8, matching: UInt8, length: Int, usable: Bool) {
        let record = RecordData.tlsa(
            usage: usage, selector: selector, matching: matching, data: .bytes(Array(repeating: 1, count: length)))
        #expect((TLSAAssociation(record) != nil) == usable)
    }
}
