@testable import DKIM
import Testing

@Suite struct CanonicalizationTests {
    /// RFC 6376 3.4.6's example.
    static let example = Array("A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n C \r\nD \t E\r\n\r\n\r\n".utf8)

    @Test func relaxedHeadersAsInRFC6376Example() {
        let message = DKIMMessage(Self.example)
        #expect(message.fields.map(\.name) == ["A", "B"])
        let canonical = message.fields.flatMap { Canonicalization.relaxed.header($0) }
        #expect(String(decoding: canonical, as: UTF8.self) == "a:X\r\nb:Y Z\r\n")
    }

    @Test func relaxedBodyAsInRFC6376Example() {
        let body = DKIMMessage(Self.example).body
        #expect(String(decoding: Canonicalization.relaxed.body(body), as: UTF8.self) == " C\r\nD E\r\n")
    }

    @Test func simpleKeepsHeadersAndDropsOnlyTrailingEmptyLines() {
        let message = DKIMMessage(Self.example)
        let headers = message.fields.flatMap { Canonicalization.simple.header($0) }
        #expect(String(decoding: headers, as: UTF8.self) == "A: X\r\nB : Y\t\r\n\tZ  \r\n")
        #expect(String(decoding: Canonicalization.simple.body(message.body), as: UTF8.self) == " C \r\nD \t E\r\n")
    }

    @Test func emptyBodies() {
        #expect(Canonicalization.simple.body([]) == [13, 10])
        #expect(Canonicalization.relaxed.body([]) == [])
        #expect(Canonicalization.simple.body(Array("\r\n\r\n".utf8)) == [13, 10])
        #expect(Canonicalization.relaxed.body(Array("  \r\n\r\n".utf8)) == [])
        // A last line without CRLF gets one.
        #expect(Canonicalization.relaxed.body(Array("abc".utf8)) == Array("abc\r\n".utf8))
    }

    @Test func relaxedHeaderKeepsColonsInsideTheValue() {
        let field = DKIMMessage(Array("Subject:  Re: a  b \r\n\r\n".utf8)).fields[0]
        #expect(String(decoding: Canonicalization.relaxed.header(field), as: UTF8.self) == "subject:Re: a b\r\n")
    }

    @Test func bareLineFeedsReadAsCRLF() {
        let message = DKIMMessage(Array("From: a@b.test\nTo: c@d.test\n\nbody\n".utf8))
        #expect(message.fields.count == 2)
        #expect(message.body == Array("body\r\n".utf8))
    }

    @Test func canonicalizationTag() {
        #expect(CanonicalizationPair(tag: "relaxed") == CanonicalizationPair(header: .relaxed, body: .simple))
        #expect(CanonicalizationPair(tag: "simple/relaxed") == CanonicalizationPair(header: .simple, body: .relaxed))
        #expect(CanonicalizationPair(tag: "loose/simple") == nil)
        #expect(CanonicalizationPair(tag: "simple/simple/simple") == nil)
    }

    @Test func signatureValueRemovalLeavesBodyHashTag() {
        let field = Array("DKIM-Signature: a=1; bh=abc;\r\n b=de\r\n f; c=2\r\n".utf8)
        let stripped = String(decoding: DKIMHashing.withoutSignatureValue(field), as: UTF8.self)
        #expect(stripped == "DKIM-Signature: a=1; bh=abc;\r\n b=; c=2\r\n")
        let last = Array("DKIM-Signature: a=1; b=xyz\r\n".utf8)
        #expect(
            String(decoding: DKIMHashing.withoutSignatureValue(last), as: UTF8.self) == "DKIM-Signature: a=1; b=\r\n")
    }
}
