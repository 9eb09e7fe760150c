@testable import DKIM
import Testing

@Suite struct TagListTests {
    @Test func readsTagsWithWhitespaceAndTrailingSemicolon() throws {
        let tags = try TagList(parsing: " v=1; a = rsa-sha256 ;\r\n\th=from : to;")
        #expect(tags["v"] == "1")
        #expect(tags["a"] == "rsa-sha256")
        #expect(tags["h"] == "from : to")
        #expect(tags.tags.count == 3)
    }

    @Test func refusesMalformedLists() {
        #expect(throws: DKIMSyntaxError.duplicateTag("a")) { try TagList(parsing: "a=1; a=2") }
        #expect(throws: DKIMSyntaxError.missingEquals(tag: "abc")) { try TagList(parsing: "a=1; abc") }
        #expect(throws: DKIMSyntaxError.badTagName("1a")) { try TagList(parsing: "1a=2") }
        #expect(throws: DKIMSyntaxError.emptyTag(position: 2)) { try TagList(parsing: "a=1;;b=2") }
    }

    @Test func keyRecordFlagsAndErrors() throws {
        let record = try DKIMKeyRecord(text: "v=DKIM1; k=rsa; t=y:s; h=sha256; p=\(rsa512PublicKey)")
        #expect(record.isTesting && record.isStrict)
        #expect(record.hashAlgorithms == ["sha256"])
        #expect(try DKIMKeyRecord(text: "v=DKIM1; p=").isRevoked)
        #expect(throws: DKIMKeyRecordError.versionNotFirst) { try DKIMKeyRecord(text: "k=rsa; v=DKIM1; p=") }
        #expect(throws: DKIMKeyRecordError.unsupportedVersion("DKIM2")) { try DKIMKeyRecord(text: "v=DKIM2; p=") }
        #expect(throws: DKIMKeyRecordError.syntax(.missingTag("p"))) { try DKIMKeyRecord(text: "v=DKIM1; k=rsa") }
        #expect(throws: DKIMKeyRecordError.badBase64) { try DKIMKeyRecord(text: "v=DKIM1; p=@@@@") }
    }

    /// RFC 8301 3.2: a 512-bit key is refused for its size, not as a malformed key.
    @Test func rsaKeyUnder1024BitsIsRefusedBySize() throws {
        let record = try DKIMKeyRecord(text: "v=DKIM1; p=\(rsa512PublicKey)")
        #expect(throws: DKIMKeyRecordError.keyTooSmall(bits: 512)) { try record.key(for: .rsaSHA256) }
    }

    @Test func keySizesAreReadFromTheDER() throws {
        let record = try DKIMKeyRecord(text: TestKeys.rsa2048.keyRecord())
        let key = try record.key(for: .rsaSHA256)
        #expect(key.summary == "rsa 2048 bits")
        #expect(try DKIMKeyRecord(text: TestKeys.rsa1024.keyRecord()).key(for: .rsaSHA256).summary == "rsa 1024 bits")
        #expect(try DKIMKeyRecord(text: TestKeys.ed25519.keyRecord()).key(for: .ed25519SHA256).summary == "ed25519")
    }

    @Test func signatureFieldChecks() {
        let base = "v=1; a=rsa-sha256; d=example.test; s=sel; h=from:to; bh=AAAA; b=AAAA"
        #expect((try? DKIMSignature(value: base)) != nil)
        #expect(throws: DKIMSignatureError.fromNotSigned) {
            try DKIMSignature(value: base.replacing("h=from:to", with: "h=to"))
        }
        #expect(throws: DKIMSignatureError.unsupportedVersion("2")) {
            try DKIMSignature(value: base.replacing("v=1", with: "v=2"))
        }
        #expect(throws: DKIMSignatureError.unsupportedAlgorithm("rsa-md5")) {
            try DKIMSignature(value: base.replacing("rsa-sha256", with: "rsa-md5"))
        }
        #expect(throws: DKIMSignatureError.identityOutsideDomain(identity: "@other.test", domain: "example.test")) {
            try DKIMSignature(value: base + "; i=@other.test")
        }
        #expect(throws: DKIMSignatureError.expiresBeforeSigned(t: 10, x: 5)) {
            try DKIMSignature(value: base + "; t=10; x=5")
        }
        #expect(throws: DKIMSignatureError.syntax(.missingTag("bh"))) {
            try DKIMSignature(value: base.replacing("bh=AAAA; ", with: ""))
        }
        #expect(throws: DKIMSignatureError.syntax(.badValue(tag: "l", value: "-1", expected: "a decimal number"))) {
            try DKIMSignature(value: base + "; l=-1")
        }
    }
}
