import DNSCore
import DNSSEC
import DNSWorld
import Foundation
import MXHarnessTestKit
import Sandbox
import Testing

struct UnboundConfigurationTests {
    @Test func rendersRecordsFaultsAndSwitchesOffBuiltInZones() throws {
        let spec = WorldSpec(
            records: try WorldFixture.records([
                "mx.example.test. A 192.0.2.10",
                "host.gone.test. A 192.0.2.11",
                #"sender.test. TXT "it's""#,
            ]),
            faults: [
                DNSFault(name: "gone.test", kind: .nxdomain), DNSFault(name: "broken.test.", kind: .servfail),
                DNSFault(name: "slow.test", kind: .timeout), DNSFault(name: "no.test", kind: .refused),
            ])
        let text = UnboundConfiguration(world: spec, directory: "/tmp/x", logFile: "/tmp/x/log").render()
        #expect(text.contains("local-data: 'mx.example.test. 300 IN A 192.0.2.10'"))
        #expect(text.contains(#"local-data: 'sender.test. 300 IN TXT "it\039s"'"#))
        #expect(!text.contains("host.gone.test"), "records below a fault are replaced by it")
        #expect(text.contains("local-zone: \"gone.test.\" always_nxdomain"))
        #expect(text.contains("local-zone: \"slow.test.\" deny"))
        #expect(text.contains("local-zone: \"no.test.\" refuse"))
        #expect(text.contains("local-zone: \"broken.test.\" transparent"))
        #expect(text.contains("stub-zone:\n  name: \"broken.test.\"\n  stub-addr: 127.0.0.1@53"))
        for zone in ["test.", "8.b.d.0.1.0.0.2.ip6.arpa.", "2.0.192.in-addr.arpa.", "localhost.", "onion."] {
            #expect(text.contains("local-zone: \"\(zone)\" nodefault"), "\(zone)")
        }
    }
}

/// A signed world's configurations: zones served from files, the static root gone (it would
/// answer before them), `nxdomain` left to the signer, and the twin's validator.
struct SignedUnboundConfigurationTests {
    @Test func signedWorldsAreServedFromAuthZones() throws {
        let spec = WorldSpec(
            records: try WorldFixture.records(["mx.example.test. A 192.0.2.10", "gone.example.test. A 192.0.2.11"]),
            faults: [
                DNSFault(name: "gone.example.test", kind: .nxdomain),
                DNSFault(name: "broken.example.test", kind: .servfail),
            ],
            dnssec: .signed, zones: [ZoneDeclaration(name: "example.test", state: .expired)])
        let signed = try WorldSigner.sign(spec)
        let plain = UnboundConfiguration(world: spec, directory: "/tmp/x", logFile: "/tmp/x/log", signed: signed)
            .render()
        #expect(!plain.contains("local-zone: \".\" static"))
        #expect(!plain.contains("local-data:"))
        #expect(!plain.contains("always_nxdomain"), "the signer leaves the names out instead")
        #expect(plain.contains("local-zone: \"broken.example.test.\" transparent"))
        for (zone, file) in [(".", "root"), ("test.", "test"), ("example.test.", "example.test")] {
            #expect(
                plain.contains(
                    "auth-zone:\n  name: \"\(zone)\"\n  zonefile: \"/tmp/x/zones/\(file).zone\"\n  for-downstream: no\n  for-upstream: yes"
                ), "\(zone)")
        }
        #expect(plain.contains("module-config: \"iterator\""))
        #expect(!plain.contains("trust-anchor"))
        let validating = UnboundConfiguration(
            world: spec, directory: "/tmp/x", logFile: "/tmp/x/v.log", listenAddresses: ["127.0.0.3"], signed: signed,
            validating: true
        ).render()
        #expect(validating.contains("module-config: \"validator iterator\""))
        #expect(validating.contains("trust-anchor: \"\(signed.trustAnchor ?? "none")\""))
        #expect(validating.contains("ede: yes"))
        #expect(validating.contains("stub-addr: 127.0.0.3@53"), "a servfail stub points at the daemon itself")
    }
}

/// The world as other programs see it: `dig` inside the namespace, the way a real MTA's stub resolver asks.
@Suite(.enabled(if: IntegrationEnvironment.canRunWorlds, IntegrationEnvironment.worldSkipReason))
struct DNSWorldWireTests {
    func dig(_ fixture: WorldFixture, _ arguments: [String]) throws -> String {
        try Command.runSync(
            "/usr/sbin/ip",
            ["netns", "exec", fixture.namespace.name, "dig", "@127.0.0.1", "+time=1", "+tries=1"] + arguments)
    }

    func status(_ output: String) -> String {
        if output.contains("timed out") || output.contains("no servers could be reached") { return "TIMEOUT" }
        guard let range = output.range(of: #"status: [A-Z]+"#, options: .regularExpression) else { return "?" }
        return String(output[range].dropFirst("status: ".count))
    }

    @Test func faultsAreOnTheWire() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/dig") else {
            Issue.record("dig is missing: apt-get install dnsutils")
            return
        }
        let spec = WorldSpec(
            records: try WorldFixture.records(["ok.test. A 192.0.2.1", "a.nx.test. A 192.0.2.2"]),
            faults: [
                DNSFault(name: "nx.test", kind: .nxdomain), DNSFault(name: "sf.test", kind: .servfail),
                DNSFault(name: "rf.test", kind: .refused), DNSFault(name: "to.test", kind: .timeout),
            ])
        try await WorldFixture.withWorld(spec) { fixture in
            #expect(status(try dig(fixture, ["ok.test", "A"])) == "NOERROR")
            #expect(status(try dig(fixture, ["ok.test", "AAAA"])) == "NOERROR")
            #expect(status(try dig(fixture, ["missing.test", "A"])) == "NXDOMAIN")
            #expect(status(try dig(fixture, ["a.nx.test", "A"])) == "NXDOMAIN")
            #expect(status(try dig(fixture, ["x.sf.test", "A"])) == "SERVFAIL")
            #expect(status(try dig(fixture, ["rf.test", "MX"])) == "REFUSED")
            // dig exits non-zero on a timeout: Command throws with dig's output.
            do {
                let out = try dig(fixture, ["deep.to.test", "A"])
                #expect(status(out) == "TIMEOUT")
            } catch let error as CommandError {
                #expect(status(error.output) == "TIMEOUT")
            }
            #expect(status(try dig(fixture, ["-x", "2001:db8::1"])) == "NXDOMAIN")
            #expect(status(try dig(fixture, ["localhost", "A"])) == "NXDOMAIN")
            // The query log is the evidence behind a rejection.
            #expect(fixture.world.queryLog.contains("missing.test. A IN"))
        }
    }

    @Test func anUnboundThatCannotStartIsReportedWithItsOwnWords() async throws {
        try await WorldFixture.withWorld(WorldSpec()) { fixture in
            // A second unbound on the same namespace and port cannot bind.
            let directory = try ResourceRegistry.shared.makeTemporaryDirectory("second")
            defer { ResourceRegistry.shared.removeDirectory(directory) }
            do {
                let world = try await DNSWorld.start(
                    WorldSpec(), in: fixture.namespace, directory: directory, startTimeout: .seconds(3))
                await world.stop()
                Issue.record("a second unbound on port 53 started")
            } catch let error as DNSWorldError {
                #expect(error.description.contains("unbound"), "\(error)")
                #expect(
                    error.log.lowercased().contains("address already in use")
                        || error.log.contains("could not open ports"), "\(error.log)")
            }
        }
    }
}
