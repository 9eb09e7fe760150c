import DNSCore
import Testing

@testable import DNSSEC

/// The wire details a validator checks, against the examples the RFCs give.
@Suite struct WireFormatTests {
    /// RFC 4034 6.1: "the following names are sorted in canonical DNS name order".
    @Test func canonicalNameOrderIsTheRFCsExample() {
        let rfc = [
            "example", "a.example", "yljkjljk.a.example", "Z.a.example", "zABC.a.EXAMPLE", "z.example",
            "\\001.z.example", "*.z.example", "\\200.z.example",
        ]
        let shuffled = [rfc[5], rfc[8], rfc[0], rfc[3], rfc[7], rfc[1], rfc[6], rfc[2], rfc[4]]
        #expect(shuffled.sorted(by: WireName.precedes) == rfc)
    }

    /// RFC 4034 4.3: the NSEC type bit maps of `A MX RRSIG NSEC TYPE1234`.
    @Test func typeBitmapIsTheRFCsExample() {
        let bitmap = WorldSigner.typeBitmap([1, 15, 46, 47, 1234])
        let expected: [UInt8] =
            [0x00, 0x06, 0x40, 0x01, 0x00, 0x00, 0x00, 0x03, 0x04, 0x1b]
            + [UInt8](repeating: 0, count: 26) + [0x20]
        #expect(bitmap == expected)
    }

    @Test func namesInWireFormAreLowerCaseAndUncompressed() {
        #expect(WireName.wire(".") == [0])
        #expect(
            WireName.wire("Mx.Example.TEST.") == [2, 0x6d, 0x78, 7] + Array("example".utf8) + [4] + Array("test".utf8)
                + [0])
        #expect(WireName.wire("a\\046b.test") == [3, 0x61, 0x2e, 0x62, 4] + Array("test".utf8) + [0])
    }

    /// RFC 4034 3.1.3: the labels field counts neither the root nor a leading wildcard.
    @Test func signatureLabelsSkipTheWildcard() {
        #expect(WireName.signatureLabelCount(".") == 0)
        #expect(WireName.signatureLabelCount("www.example.test") == 3)
        #expect(WireName.signatureLabelCount("*.example.test") == 2)
    }

    /// RFC 4034 3.2: YYYYMMDDHHmmSS in UTC (values from Python's `datetime.utcfromtimestamp`).
    @Test func signatureTimesAreUTC() {
        #expect(WorldSigner.timestamp(0) == "19700101000000")
        #expect(WorldSigner.timestamp(1_284_026_679) == "20100909100439")
        #expect(WorldSigner.timestamp(951_782_400) == "20000229000000")
        #expect(WorldSigner.timestamp(4_102_444_799) == "20991231235959")
    }

    /// The RDATA forms RFC 4034 6.2 asks for: names inside MX, SOA, NS, PTR lower-cased.
    @Test func rdataIsCanonical() {
        #expect(
            RecordWire.rdata(.mx(preference: 10, exchange: "MX.Example.test")) == [0, 10]
                + WireName.wire("mx.example.test"))
        #expect(RecordWire.rdata(.txt([Array("v=spf1".utf8), []])) == [6] + Array("v=spf1".utf8) + [0])
        #expect(RecordWire.rdata(.a(IPAddress("192.0.2.10")!)) == [192, 0, 2, 10])
    }
}
