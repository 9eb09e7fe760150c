import DNSCore
@testable import DKIM
import MXHarnessTestKit
import Testing

@Suite struct VerifierTests {
    static let keyName = "sel._domainkey.sender.test"

    static func signed(
        _ key: DKIMSigningKey, canonicalization: CanonicalizationPair = .init(header: .relaxed, body: .relaxed),
        expiration: Int? = nil
    ) throws -> [UInt8] {
        let signer = DKIMSigner(domain: "sender.test", selector: "sel", key: key, canonicalization: canonicalization)
        return try signer.sign(sampleMessage, timestamp: signingTime, expiration: expiration)
    }

    static func verify(
        _ message: [UInt8], record: String?, faults: [String: InMemoryDNS.Fault] = [:], now: Int = signingTime + 60
    ) async -> DKIMVerification? {
        var entries: [(String, RecordData)] = [("sender.test", .a(IPAddress("192.0.2.1")!))]
        if let record { entries.append((keyName, txt(record))) }
        let verifier = DKIMVerifier(lookup: InMemoryDNS(entries, faults: faults))
        return await verifier.verify(message, now: now).first
    }

    @Test(arguments: [Canonicalization.simple, .relaxed], [Canonicalization.simple, .relaxed])
    func everyAlgorithmAndCanonicalizationVerifies(header: Canonicalization, body: Canonicalization) async throws {
        for key in [TestKeys.rsa1024, TestKeys.rsa2048, TestKeys.ed25519] {
            let message = try Self.signed(key, canonicalization: .init(header: header, body: body))
            let result = try #require(await Self.verify(message, record: key.keyRecord()))
            #expect(result.result == .pass, "\(key.algorithm) \(header)/\(body): \(result)")
        }
    }

    @Test func aChangedBodyFailsOnTheBodyHash() async throws {
        var message = try Self.signed(TestKeys.rsa2048)
        message += Array("P.S. added in transit\r\n".utf8)
        let result = try #require(await Self.verify(message, record: TestKeys.rsa2048.keyRecord()))
        #expect(result.result == .fail)
        #expect(result.reason.contains("body hash"))
    }

    @Test func aChangedSignedHeaderFailsTheSignature() async throws {
        let message = try Self.signed(TestKeys.ed25519)
        let changed = Array(
            String(decoding: message, as: UTF8.self).replacing(
                "Subject: Is dinner ready?", with: "Subject: Is lunch ready?"
            ).utf8)
        let result = try #require(await Self.verify(changed, record: TestKeys.ed25519.keyRecord()))
        #expect(result.result == .fail)
        #expect(result.reason.contains("signature did not verify"))
    }

    @Test func anUnsignedHeaderMayChange() async throws {
        let message = try Self.signed(TestKeys.ed25519)
        let withHeader = Array("X-Added: yes\r\n".utf8) + message
        #expect(await Self.verify(withHeader, record: TestKeys.ed25519.keyRecord())?.result == .pass)
    }

    @Test func anExpiredSignatureIsRefused() async throws {
        let message = try Self.signed(TestKeys.rsa1024, expiration: signingTime + 30)
        let result = try #require(
            await Self.verify(message, record: TestKeys.rsa1024.keyRecord(), now: signingTime + 3600))
        #expect(result.result == .permerror)
        #expect(result.reason.contains("expired"))
        #expect(
            await Self.verify(message, record: TestKeys.rsa1024.keyRecord(), now: signingTime + 10)?.result == .pass)
    }

    @Test func keyRecordBreakages() async throws {
        let message = try Self.signed(TestKeys.rsa2048)
        let good = TestKeys.rsa2048.keyRecord()
        // Missing key (NXDOMAIN at the selector).
        let missing = try #require(await Self.verify(message, record: nil))
        #expect(
            missing.result == .permerror && missing.reason.contains("no key record")
                && missing.reason.contains(Self.keyName))
        // Truncated TXT: the base64 cut short.
        let truncated = try #require(await Self.verify(message, record: String(good.prefix(good.count - 40))))
        #expect(truncated.result == .permerror, "\(truncated)")
        #expect(truncated.keyRecord != nil)
        // Revoked.
        let revoked = try #require(await Self.verify(message, record: "v=DKIM1; k=rsa; p="))
        #expect(revoked.result == .permerror && revoked.reason.contains("revoked"))
        // A 512-bit key.
        let weak = try #require(await Self.verify(message, record: "v=DKIM1; k=rsa; p=\(rsa512PublicKey)"))
        #expect(weak.result == .permerror && weak.reason.contains("RFC 8301"))
        // t=y: verified but treated as unsigned.
        let testing = try #require(await Self.verify(message, record: TestKeys.rsa2048.keyRecord(flags: "y")))
        #expect(testing.result == .neutral && testing.reason.contains("t=y"))
        // Another key than the signer's.
        let other = try #require(await Self.verify(message, record: TestKeys.rsa1024.keyRecord()))
        #expect(other.result == .fail)
        // Key type that does not fit the algorithm.
        let mismatch = try #require(await Self.verify(message, record: TestKeys.ed25519.keyRecord()))
        #expect(mismatch.result == .permerror && mismatch.reason.contains("k=ed25519"))
        // DNS trouble is temporary.
        let servfail = try #require(await Self.verify(message, record: good, faults: [Self.keyName: .servfail]))
        #expect(servfail.result == .temperror)
    }

    @Test func aWrongSelectorFindsNoKey() async throws {
        let signer = DKIMSigner(domain: "sender.test", selector: "old", key: TestKeys.ed25519)
        let message = try signer.sign(sampleMessage, timestamp: signingTime)
        let result = try #require(await Self.verify(message, record: TestKeys.ed25519.keyRecord()))
        #expect(result.result == .permerror)
        #expect(result.reason.contains("old._domainkey.sender.test"))
    }

    /// RFC 8301 3.1: rsa-sha1 is refused whatever the key.
    @Test func rsaSHA1IsRefused() async throws {
        let message =
            Array("DKIM-Signature: v=1; a=rsa-sha1; d=sender.test; s=sel; h=from; bh=AAAA; b=AAAA\r\n".utf8)
            + sampleMessage
        let result = try #require(await Self.verify(message, record: TestKeys.rsa2048.keyRecord()))
        #expect(result.result == .permerror && result.reason.contains("RFC 8301"))
    }

    @Test func bodyLengthLimitsTheBodyHash() async throws {
        let signer = DKIMSigner(domain: "sender.test", selector: "sel", key: TestKeys.ed25519, bodyLength: 10)
        let message = try signer.sign(sampleMessage, timestamp: signingTime) + Array("appended\r\n".utf8)
        #expect(await Self.verify(message, record: TestKeys.ed25519.keyRecord())?.result == .pass)
    }

    @Test func noSignatureGivesNoResults() async {
        let verifier = DKIMVerifier(lookup: InMemoryDNS())
        #expect(await verifier.verify(sampleMessage, now: signingTime).isEmpty)
    }
}
