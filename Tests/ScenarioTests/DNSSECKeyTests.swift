import DNSCore
import Scenario
import Testing

/// `dns.dnssec`, `dns.zones`, `receiver.resolver` and `sender.resolver` (format 1.2).
@Suite struct DNSSECKeyTests {
    static let signed = """
        dns:
          dnssec: signed
          zones:
            - {zone: example.test, state: secure}
            - {zone: 5.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa, state: wrong-ds}
            - zone: sender.test
          records:
            - example.test. MX 10 mx.example.test.
            - mx.example.test. AAAA 2001:db8::10
            - sender.test. TXT "v=spf1 -all"
            - 2001:db8:5::25 PTR mail.sender.test.
        receiver:
          addresses: ["2001:db8::10"]
          resolver: validating
        sender:
          addresses: {ipv6: "2001:db8:5::25"}
          helo: mail.sender.test
          mail_from: alice@sender.test
          rcpt_to: bob@example.test
          resolver: validating
        expect: {outcome: delivered}
        """

    @Test func theKeysLoad() throws {
        let c = try #require(try ScenarioLoader().load(yaml: Self.signed, file: "s.yaml").first)
        #expect(c.dns.dnssec == .signed)
        #expect(
            c.dns.zones == [
                ZoneDeclaration(name: "example.test", state: .secure),
                ZoneDeclaration(name: "5.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", state: .wrongDS),
                ZoneDeclaration(name: "sender.test", state: .secure),
            ])
        #expect(c.receiver.resolver == .validating)
        #expect(c.sender.resolver == .validating)
    }

    @Test func theDefaultsAreTodaysBehaviour() throws {
        let c = try #require(
            try ScenarioLoader().load(yaml: minimalWorld + "\nexpect: {outcome: delivered}\n", file: "a.yaml").first)
        #expect(c.dns.dnssec == .unsigned && c.dns.zones.isEmpty)
        #expect(c.receiver.resolver == .nonValidating && c.sender.resolver == .nonValidating)
    }

    /// `validating` in an unsigned world is allowed (it answers as for an insecure world).
    @Test func validatingInAnUnsignedWorldLoads() throws {
        let yaml = minimalWorld.replacingOccurrences(
            of: "  addresses: [192.0.2.10]", with: "  addresses: [192.0.2.10]\n  resolver: validating")
        let c = try #require(
            try ScenarioLoader().load(yaml: yaml + "\nexpect: {outcome: delivered}\n", file: "a.yaml").first)
        #expect(c.receiver.resolver == .validating && c.dns.dnssec == .unsigned)
    }

    @Test func anUnknownStateNamesItsPlace() {
        let yaml = Self.signed.replacingOccurrences(of: "state: wrong-ds", with: "state: wrong-dss")
        #expect(
            loadErrors(yaml: yaml, file: "s.yaml") == [
                "s.yaml:5:55: dns.zones[1].state: unknown zone state \"wrong-dss\" (known: secure, insecure, bogus-signature, expired, not-yet-valid, missing-signatures, wrong-ds); did you mean \"wrong-ds\"?"
            ])
    }

    @Test func aZoneOutsideTheWorldNamesItsPlace() {
        let yaml = Self.signed.replacingOccurrences(of: "    - zone: sender.test", with: "    - zone: other.test")
        #expect(
            loadErrors(yaml: yaml, file: "s.yaml") == [
                "s.yaml:6:13: dns.zones[2].zone: zone other.test. is outside the world: no record in dns.records is at or below it; list a zone that holds some of the world's names"
            ])
    }

    @Test func aZoneListedTwiceNamesItsPlace() {
        let yaml = Self.signed.replacingOccurrences(of: "    - zone: sender.test", with: "    - zone: example.test.")
        #expect(
            loadErrors(yaml: yaml, file: "s.yaml") == [
                "s.yaml:6:13: dns.zones[2].zone: zone example.test. is listed twice (first at line 4): give each zone once, with one state"
            ])
    }

    @Test func badValuesNameTheirPlace() {
        #expect(
            loadErrors(
                yaml: Self.signed.replacingOccurrences(of: "dnssec: signed", with: "dnssec: yes"), file: "s.yaml") == [
                    "s.yaml:2:11: dns.dnssec: unknown DNSSEC mode \"yes\" (known: unsigned, signed)"
                ])
        #expect(
            loadErrors(
                yaml: Self.signed.replacingOccurrences(
                    of: "  resolver: validating\nsender", with: "  resolver: validate\nsender"), file: "s.yaml") == [
                    "s.yaml:14:13: receiver.resolver: unknown resolver \"validate\" (known: non-validating, validating)"
                ])
        #expect(
            loadErrors(
                yaml: Self.signed.replacingOccurrences(of: "zone: sender.test", with: "zone: \"bad name\""),
                file: "s.yaml") == [
                    "s.yaml:6:13: dns.zones[2].zone: \"bad name\" is not a valid domain name"
                ])
    }

    /// `explain` writes the keys back so that the merged case loads again as the same case.
    @Test func explainWritesTheKeysBack() throws {
        let c = try #require(try ScenarioLoader().load(yaml: Self.signed, file: "s.yaml").first)
        let text = explain(c)
        let again = try #require(try ScenarioLoader().load(yaml: text, file: "again.yaml").first, "\(text)")
        #expect(again.dns.zones == c.dns.zones && again.dns.dnssec == .signed)
        #expect(again.receiver.resolver == .validating && again.sender.resolver == .validating)
    }
}
