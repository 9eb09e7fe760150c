import Testing
@testable import SMTPProtocol

/// PROXY v1 and v2 headers (haproxy doc/proxy-protocol.txt), parsed as a pure function.
@Suite struct ProxyHeaderTests {
    static let v4Source = ProxiedEndpoint(address: [198, 51, 100, 25], port: 40000)
    static let v4Destination = ProxiedEndpoint(address: [192, 0, 2, 10], port: 25)
    static let v6Source = ProxiedEndpoint(
        address: [0x20, 0x01, 0x0d, 0xb8, 0, 5] + [UInt8](repeating: 0, count: 9) + [0x25], port: 40001)
    static let v6Destination = ProxiedEndpoint(
        address: [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [0x10], port: 25)

    func parse(_ text: String) -> ProxyHeader.ParseResult { ProxyHeader.parse(Array(text.utf8)) }

    @Test func v1TCP4AndTCP6() {
        #expect(
            parse("PROXY TCP4 198.51.100.25 192.0.2.10 40000 25\r\nEHLO x\r\n")
                == .header(
                    ProxyHeader(version: 1, kind: .proxied(source: Self.v4Source, destination: Self.v4Destination)),
                    length: 46))
        #expect(
            parse("PROXY TCP6 2001:db8:5::25 2001:db8::10 40001 25\r\n")
                == .header(
                    ProxyHeader(version: 1, kind: .proxied(source: Self.v6Source, destination: Self.v6Destination)),
                    length: 49))
        #expect(
            parse("PROXY UNKNOWN whatever follows\r\n") == .header(ProxyHeader(version: 1, kind: .unknown), length: 32))
    }

    @Test func v1WritesWhatItReads() {
        let line = ProxyHeader.v1(source: Self.v6Source, destination: Self.v6Destination)
        #expect(String(decoding: line, as: UTF8.self) == "PROXY TCP6 2001:db8:5::25 2001:db8::10 40001 25\r\n")
        #expect(
            ProxyHeader.parse(line)
                == .header(
                    ProxyHeader(version: 1, kind: .proxied(source: Self.v6Source, destination: Self.v6Destination)),
                    length: line.count))
    }

    @Test func v1NeedsMoreUntilItsEndAndNoLongerThan107Bytes() {
        #expect(parse("") == .needMore)
        #expect(parse("PRO") == .needMore)
        #expect(parse("PROXY TCP4 198.51.100.25") == .needMore)
        #expect(
            parse("PROXY TCP4 " + String(repeating: "1", count: 96)) == .invalid("missing protocol header terminator"))
        #expect(
            parse("PROXY TCP4 " + String(repeating: "1", count: 200) + "\r\n")
                == .invalid("missing protocol header terminator"))
    }

    @Test func v1BadFieldsAreNamed() {
        #expect(parse("PROXY UDP4 198.51.100.25 192.0.2.10 1 25\r\n") == .invalid("bad or missing protocol type"))
        #expect(parse("PROXY TCP4 2001:db8::1 192.0.2.10 1 25\r\n") == .invalid("bad or missing client address"))
        #expect(parse("PROXY TCP6 2001:db8::1 192.0.2.10 1 25\r\n") == .invalid("bad or missing server address"))
        #expect(parse("PROXY TCP4 198.51.100.25 192.0.2.10 70000 25\r\n") == .invalid("bad or missing client port"))
        #expect(parse("PROXY TCP4 198.51.100.25 192.0.2.10 1 025\r\n") == .invalid("bad or missing server port"))
        #expect(parse("PROXY TCP4 198.51.100.25 192.0.2.10 1\r\n") == .invalid("bad or missing protocol header"))
        #expect(parse("PROXY TCP4 198.51.100.25 192.0.2.10 1 25\n") == .invalid("bad or missing protocol header"))
    }

    @Test func garbageAndPlainSMTPAreRefusedAtOnce() {
        #expect(parse("EHLO client.sender.test\r\n") == .invalid("unrecognized protocol header"))
        #expect(parse("\r\n\r\nX") == .invalid("unrecognized protocol header"))
        #expect(ProxyHeader.parse([0x16, 0x03, 0x01]) == .invalid("unrecognized protocol header"))
    }

    @Test func v2IPv4AndIPv6WithTLVsSkipped() {
        let v4 = ProxyHeader.v2(source: Self.v4Source, destination: Self.v4Destination)
        #expect(v4.count == 28)
        #expect(
            ProxyHeader.parse(v4 + Array("EHLO".utf8))
                == .header(
                    ProxyHeader(version: 2, kind: .proxied(source: Self.v4Source, destination: Self.v4Destination)),
                    length: 28))
        let v6 = ProxyHeader.v2(source: Self.v6Source, destination: Self.v6Destination)
        #expect(v6.count == 52)
        #expect(
            ProxyHeader.parse(v6)
                == .header(
                    ProxyHeader(version: 2, kind: .proxied(source: Self.v6Source, destination: Self.v6Destination)),
                    length: 52))
        // A TLV (PP2_TYPE_AUTHORITY, 3 bytes) after the addresses: counted in the length, skipped.
        var withTLV = v4
        withTLV[15] = 12 + 6
        withTLV += [0x02, 0x00, 0x03, 0x61, 0x62, 0x63]
        #expect(
            ProxyHeader.parse(withTLV)
                == .header(
                    ProxyHeader(version: 2, kind: .proxied(source: Self.v4Source, destination: Self.v4Destination)),
                    length: 34))
    }

    @Test func v2LocalUnspecAndBadHeaders() {
        let local = ProxyHeader.v2Signature + [0x20, 0x00, 0x00, 0x00]
        #expect(ProxyHeader.parse(local) == .header(ProxyHeader(version: 2, kind: .local), length: 16))
        let unspec = ProxyHeader.v2Signature + [0x21, 0x00, 0x00, 0x00]
        #expect(ProxyHeader.parse(unspec) == .header(ProxyHeader(version: 2, kind: .unknown), length: 16))
        #expect(
            ProxyHeader.parse(ProxyHeader.v2Signature + [0x11, 0x11, 0x00, 0x0c])
                == .invalid("unrecognized protocol version"))
        #expect(
            ProxyHeader.parse(ProxyHeader.v2Signature + [0x22, 0x11, 0x00, 0x0c] + [UInt8](repeating: 0, count: 12))
                == .invalid("bad command in proxy header"))
        #expect(
            ProxyHeader.parse(ProxyHeader.v2Signature + [0x21, 0x11, 0x00, 0x04, 1, 2, 3, 4])
                == .invalid("short address field"))
        #expect(
            ProxyHeader.parse(ProxyHeader.v2Signature + [0x21, 0x21, 0x00, 0x0c] + [UInt8](repeating: 0, count: 12))
                == .invalid("short address field"))
    }

    @Test func v2IsBoundedAndWaitsForItsLength() {
        let v4 = ProxyHeader.v2(source: Self.v4Source, destination: Self.v4Destination)
        for cut in 0..<v4.count {
            #expect(ProxyHeader.parse(v4.prefix(cut)) == .needMore, "cut at \(cut)")
        }
        // Any length field up to 65535: past Postfix's 258 bytes it is refused, never read.
        for length in [243, 1000, 65535] {
            let header = ProxyHeader.v2Signature + [0x21, 0x11, UInt8(length >> 8), UInt8(length & 0xff)]
            #expect(ProxyHeader.parse(header) == .invalid("short version 2 protocol header"))
        }
        let longest = ProxyHeader.v2Signature + [0x21, 0x11, 0x00, 242] + [UInt8](repeating: 7, count: 242)
        if case .header(_, let length) = ProxyHeader.parse(longest) {
            #expect(length == 258)
        } else {
            Issue.record("the longest header did not parse")
        }
    }

    @Test func randomBytesNeverCrashAndStayBounded() {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<2000 {
            var bytes = round % 2 == 0 ? ProxyHeader.v2Signature : Array("PROXY ".utf8)
            bytes += (0..<Int.random(in: 0..<300, using: &generator)).map { _ in
                UInt8.random(in: 0...255, using: &generator)
            }
            switch ProxyHeader.parse(bytes) {
            case .header(_, let length): #expect(length <= ProxyHeader.maximumV2Length && length <= bytes.count)
            case .needMore: #expect(bytes.count <= ProxyHeader.maximumV2Length)
            case .invalid: break
            }
        }
    }
}
