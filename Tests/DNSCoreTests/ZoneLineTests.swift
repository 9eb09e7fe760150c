import DNSCore
import Testing

struct ZoneLineTests {
    @Test(arguments: [
        ("mx.example.test. A 192.0.2.10", ResourceRecord(owner: "mx.example.test", data: .a(IPAddress("192.0.2.10")!))),
        (
            "mx.example.test AAAA 2001:db8::10",
            ResourceRecord(owner: "mx.example.test", data: .aaaa(IPAddress("2001:db8::10")!))
        ),
        (
            "Mail.Sender.TEST. 3600 IN AAAA 2001:DB8:5::25",
            ResourceRecord(owner: "mail.sender.test", ttl: 3600, data: .aaaa(IPAddress("2001:db8:5::25")!))
        ),
        (
            "mx.example.test. IN 60 A 192.0.2.10",
            ResourceRecord(owner: "mx.example.test", ttl: 60, data: .a(IPAddress("192.0.2.10")!))
        ),
        (
            "mx.example.test. 1h A 192.0.2.10",
            ResourceRecord(owner: "mx.example.test", ttl: 3600, data: .a(IPAddress("192.0.2.10")!))
        ),
        (
            "example.test. MX 10 mx.example.test.",
            ResourceRecord(owner: "example.test", data: .mx(preference: 10, exchange: "mx.example.test"))
        ),
        ("example.test. MX 0 .", ResourceRecord(owner: "example.test", data: .mx(preference: 0, exchange: "."))),
        (
            "2001:db8:5::25 PTR mail.sender.test.",
            ResourceRecord(owner: IPAddress("2001:db8:5::25")!.reverseName, data: .ptr("mail.sender.test"))
        ),
        (
            "192.0.2.25 PTR mail.sender.test",
            ResourceRecord(owner: "25.2.0.192.in-addr.arpa", data: .ptr("mail.sender.test"))
        ),
        (
            "alias.example.test. CNAME mx.example.test.",
            ResourceRecord(owner: "alias.example.test", data: .cname("mx.example.test"))
        ),
        ("example.test. NS ns.example.test.", ResourceRecord(owner: "example.test", data: .ns("ns.example.test"))),
        (
            "example.test. SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 300",
            ResourceRecord(
                owner: "example.test",
                data: .soa(
                    mname: "ns.example.test", rname: "hostmaster.example.test", serial: 1, refresh: 3600, retry: 600,
                    expire: 86400, minimum: 300))
        ),
        (
            #"sender.test. TXT "v=spf1 ip6:2001:db8:5::/64" " -all""#,
            ResourceRecord(
                owner: "sender.test", data: .txt([Array("v=spf1 ip6:2001:db8:5::/64".utf8), Array(" -all".utf8)]))
        ),
        (
            #"sender.test. TXT "a\"b" "c\\d" "\065\066" ; comment"#,
            ResourceRecord(
                owner: "sender.test", data: .txt([Array("a\"b".utf8), Array("c\\d".utf8), Array("AB".utf8)]))
        ),
        ("sender.test. TXT plain", ResourceRecord(owner: "sender.test", data: .txt([Array("plain".utf8)]))),
    ])
    func parsesEveryForm(line: String, expected: ResourceRecord) throws {
        #expect(try ZoneLine.parse(line) == expected)
    }

    @Test(arguments: [
        ("", 1, "empty"),
        ("mx.example.test.", 17, "missing record type"),
        ("mx.example.test. AX 192.0.2.1", 18, "unknown record type"),
        ("mx.example.test. A 2001:db8::1", 20, "not an IPv4 address"),
        ("mx.example.test. AAAA 192.0.2.1", 23, "not an IPv6 address"),
        ("mx.example.test. A 192.0.2.1 192.0.2.2", 30, "one address"),
        ("example.test. MX mx.example.test.", 34, "preference and an exchange"),
        ("example.test. MX 70000 mx.example.test.", 18, "not a number"),
        (#"sender.test. TXT "unterminated"#, 18, "unterminated"),
        (#"sender.test. TXT "bad \9 escape""#, 23, "three digits"),
        ("192.0.2.1 A 192.0.2.1", 1, "only for PTR"),
        ("bad..name. A 192.0.2.1", 1, "not a valid domain name"),
        ("example.test. CH A 192.0.2.1", 15, "only IN"),
        ("example.test. SOA a. b. 1 2 3", 30, "MNAME RNAME"),
    ])
    func malformedLinesSayWhereAndWhat(line: String, column: Int, message: String) {
        do {
            let record = try ZoneLine.parse(line)
            Issue.record("parsed \(record) from a malformed line")
        } catch {
            #expect(error.column == column, "\(error.message)")
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test func longTXTStringsMustBeSplit() {
        let long = String(repeating: "a", count: 256)
        #expect(throws: ZoneSyntaxError.self) { try ZoneLine.parse("x.test. TXT \"\(long)\"") }
        let split = "x.test. TXT \"\(String(long.dropLast()))\" \"a\""
        #expect(throws: Never.self) { try ZoneLine.parse(split) }
    }

    @Test func recordsRoundTripThroughTheirZoneForm() throws {
        for line in ["example.test. MX 10 mx.example.test.", #"s.test. TXT "it's" "x\"y""#, "2001:db8::1 PTR h.test."] {
            let record = try ZoneLine.parse(line)
            #expect(try ZoneLine.parse(record.description) == record)
        }
    }
}

struct AddressTests {
    @Test func reverseNamesRoundTrip() {
        for text in ["192.0.2.10", "2001:db8:5::25", "2001:db8::1:0:0:1"] {
            let address = IPAddress(text)!
            #expect(IPAddress(reverseName: address.reverseName) == address)
            #expect(IPAddress(reverseName: address.reverseName + ".") == address)
        }
        #expect(IPAddress("192.0.2.10")!.reverseName == "10.2.0.192.in-addr.arpa")
        #expect(IPAddress("2001:db8::1")!.reverseName.hasSuffix("0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"))
        #expect(IPAddress("2001:db8::1")!.reverseName.hasPrefix("1.0.0.0."))
    }

    @Test func parsingIsStrict() {
        for bad in ["", "192.0.2", "192.0.2.256", "2001:db8:::1", "[2001:db8::1]", "example.test", "2001:db8::1%lo"] {
            #expect(IPAddress(bad) == nil, "\(bad)")
        }
        #expect(IPAddress("2001:DB8:0:0::25")!.description == "2001:db8::25")
    }

    @Test func prefixes() {
        let address = IPAddress("2001:db8:5::25")!
        #expect(address.isInside(IPAddress("2001:db8:5::")!, prefixLength: 64))
        #expect(!address.isInside(IPAddress("2001:db8:6::")!, prefixLength: 64))
        #expect(IPAddress("192.0.2.200")!.isInside(IPAddress("192.0.2.128")!, prefixLength: 25))
        #expect(!IPAddress("192.0.2.100")!.isInside(IPAddress("192.0.2.128")!, prefixLength: 25))
        #expect(!IPAddress("192.0.2.1")!.isInside(IPAddress("2001:db8::")!, prefixLength: 0))
    }

    @Test func automaticReverseAddsOnlyMissingPTRs() throws {
        let spec = WorldSpec(
            records: [
                try ZoneLine.parse("a.test. A 192.0.2.1"),
                try ZoneLine.parse("b.test. AAAA 2001:db8::2"),
                try ZoneLine.parse("2001:db8::2 PTR other.test."),
            ], reverse: .auto)
        let ptrs = spec.effectiveRecords.filter { $0.type == .ptr }
        #expect(ptrs.count == 2)
        #expect(ptrs.contains(ResourceRecord(owner: "1.2.0.192.in-addr.arpa", data: .ptr("a.test"))))
        #expect(ptrs.contains(ResourceRecord(owner: IPAddress("2001:db8::2")!.reverseName, data: .ptr("other.test"))))
        #expect(WorldSpec(records: spec.records).effectiveRecords.filter { $0.type == .ptr }.count == 1)
    }
}
