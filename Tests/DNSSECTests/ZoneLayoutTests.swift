import DNSCore
import Testing

@testable import DNSSEC

/// Where a signed world is cut (scenario format 1.2): root, each top-level label, each listed
/// zone, each SOA owner; every other name in the nearest enclosing zone.
@Suite struct ZoneLayoutTests {
    static func records(_ lines: [String]) throws -> [ResourceRecord] { try lines.map { try ZoneLine.parse($0) } }

    @Test func zonesAreCutAtRootTopLevelListedAndSOAOwners() throws {
        let spec = WorldSpec(
            records: try Self.records([
                "example.test. MX 10 mx.example.test.",
                "mx.example.test. A 192.0.2.10",
                "sender.test. TXT \"v=spf1 -all\"",
                "own.example. SOA ns.own.example. hostmaster.own.example. 7 3600 600 86400 60",
                "mail.own.example. A 192.0.2.20",
                "2001:db8:5::25 PTR mail.sender.test.",
            ]), dnssec: .signed,
            zones: [
                ZoneDeclaration(name: "example.test", state: .insecure),
                ZoneDeclaration(name: "5.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", state: .wrongDS),
            ])
        let layout = ZoneLayout(spec)
        #expect(
            layout.zones.map(\.name) == [
                ".", "arpa", "5.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", "example", "own.example", "test", "example.test",
            ])
        #expect(layout.zone(of: "mx.example.test")?.name == "example.test")
        #expect(layout.zone(of: "sender.test")?.name == "test")
        #expect(layout.zone(of: "mail.own.example")?.name == "own.example")
        #expect(
            layout.zone(of: "5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.5.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa")?.name
                == "5.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa")
        #expect(layout.zones.first { $0.name == "example.test" }?.state == .insecure)
        #expect(layout.zones.first { $0.name == "5.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa" }?.parent == "arpa")
        #expect(layout.zones.first { $0.name == "test" }?.state == .secure)
    }

    /// Names at or below an `nxdomain` fault are gone, and zones there with them: the fault is an
    /// authenticated NXDOMAIN from the zone above. Other faults keep the data behind them.
    @Test func nxdomainFaultsRemoveRecordsAndZones() throws {
        let spec = WorldSpec(
            records: try Self.records([
                "mx.example.test. A 192.0.2.10",
                "gone.test. A 192.0.2.11",
                "deep.gone.test. A 192.0.2.12",
            ]), faults: [DNSFault(name: "gone.test", kind: .nxdomain)], dnssec: .signed,
            zones: [ZoneDeclaration(name: "gone.test")])
        let signed = try WorldSigner.sign(spec)
        #expect(signed.zones.map(\.name) == [".", "test"])
        let owners = Set(signed.zones.flatMap(\.records).map(\.owner))
        #expect(!owners.contains("gone.test") && !owners.contains("deep.gone.test"))
        #expect(owners.contains("mx.example.test"))
        var failing = spec
        failing.faults = [DNSFault(name: "gone.test", kind: .servfail)]
        let kept = try WorldSigner.sign(failing)
        #expect(kept.zones.map(\.name) == [".", "test", "gone.test"])
    }
}
