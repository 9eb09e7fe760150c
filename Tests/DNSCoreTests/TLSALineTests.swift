import DNSCore
import Testing

/// TLSA lines (RFC 6698 2.2) with the scenario format's stand-ins for the receiver's certificate.
struct TLSALineTests {
    @Test func theStandInsAndHexAreRead() throws {
        let key = try ZoneLine.parse("_25._tcp.mx.example.test. TLSA 3 1 1 receiver-key")
        #expect(
            key
                == ResourceRecord(
                    owner: "_25._tcp.mx.example.test",
                    data: .tlsa(usage: 3, selector: 1, matching: 1, data: .receiverKey)))
        let cert = try ZoneLine.parse("_25._tcp.mx.example.test. TLSA 3 0 1 Receiver-Cert")
        #expect(cert.data == .tlsa(usage: 3, selector: 0, matching: 1, data: .receiverCert))
        let authorityKey = try ZoneLine.parse("_25._tcp.mx.example.test. TLSA 2 1 1 authority-key")
        #expect(authorityKey.data == .tlsa(usage: 2, selector: 1, matching: 1, data: .authorityKey))
        let authorityCert = try ZoneLine.parse("_25._tcp.mx.example.test. TLSA 2 0 1 AUTHORITY-CERT")
        #expect(authorityCert.data == .tlsa(usage: 2, selector: 0, matching: 1, data: .authorityCert))
        #expect(authorityCert.description == "_25._tcp.mx.example.test. 300 IN TLSA 2 0 1 authority-cert")
        // Hex in any case, split into words as zone files do.
        let hex = try ZoneLine.parse("_25._tcp.mx.example.test. 60 IN TLSA 2 0 1 0aFF 10")
        #expect(hex.data == .tlsa(usage: 2, selector: 0, matching: 1, data: .bytes([0x0a, 0xff, 0x10])))
        #expect(hex.description == "_25._tcp.mx.example.test. 60 IN TLSA 2 0 1 0AFF10")
    }

    @Test(arguments: [
        ("_25._tcp.mx.example.test. TLSA 3 1 1", 37, "TLSA expects"),
        ("_25._tcp.mx.example.test. TLSA 3 1 x 00", 36, "matching type"),
        ("_25._tcp.mx.example.test. TLSA 256 1 1 00", 32, "certificate usage"),
        ("_25._tcp.mx.example.test. TLSA 3 1 1 0g", 38, "neither hex"),
        ("_25._tcp.mx.example.test. TLSA 3 1 1 abc", 38, "neither hex"),
        ("_25._tcp.mx.example.test. TLSA 3 1 1 receiver-key 00", 38, "neither hex"),
        ("_25._tcp.mx.example.test. TLSA 2 1 1 authority 00", 38, "authority-key or authority-cert"),
    ])
    func badLinesNameTheColumn(_ line: String, _ column: Int, _ words: String) {
        #expect(throws: ZoneSyntaxError.self) { try ZoneLine.parse(line) }
        do { _ = try ZoneLine.parse(line) } catch {
            #expect(error.column == column, "\(error)")
            #expect(error.message.contains(words), "\(error)")
        }
    }
}
