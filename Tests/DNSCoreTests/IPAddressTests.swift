import DNSCore
import Testing

@Suite("IPAddress text")
struct IPAddressTests {
    /// inet_ntop's forms (RFC 5952 for IPv6): what reports, transcripts and decisions show.
    @Test(arguments: [
        ("192.0.2.25", "192.0.2.25"),
        ("0.0.0.0", "0.0.0.0"),
        ("255.255.255.255", "255.255.255.255"),
        ("2001:DB8:0:0::25", "2001:db8::25"),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2:3:4:5:6"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("::", "::"),
        ("::1", "::1"),
        ("::ffff:192.0.2.1", "::ffff:192.0.2.1"),
        ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
    ])
    func description(of text: String, is expected: String) throws {
        let address = try #require(IPAddress(text))
        #expect(address.description == expected)
        #expect(IPAddress(address.description) == address)
    }

    @Test func everyBytePrintsAndParsesBack() throws {
        for byte in UInt8.min...UInt8.max {
            let v4 = try #require(IPAddress(bytes: [192, 0, 2, byte]))
            #expect(v4.description == "192.0.2.\(byte)")
            let v6 = try #require(IPAddress(bytes: [0x20, 0x01, 0x0d, 0xb8] + Array(repeating: byte, count: 12)))
            #expect(IPAddress(v6.description) == v6)
        }
    }

    @Test func aLiteralIsTheAddressTheTextParsesTo() {
        #expect(IPAddress(literal: "192.0.2.10") == IPAddress("192.0.2.10"))
        #expect(IPAddress(literal: "2001:db8::10").description == "2001:db8::10")
    }
}
