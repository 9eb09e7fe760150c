import Complaint
import DNSCore
import DNSWorld
import Foundation
import MXHarnessTestKit
import Runner
import RunnerTestKit
import Scenario
import Testing

/// The capture walk over an in-memory world with the unbound world's answering rules.
@Suite struct CaptureWalkTests {
    static let world = InMemoryDNS(
        records: try! WorldFixture.records([
            "example.test. MX 10 mx.example.test.",
            "example.test. MX 20 mx2.example.test.",
            "mx.example.test. AAAA 2001:db8::10",
            "2001:db8:5::25 PTR mail.sender.test.",
            "mail.sender.test. CNAME host25.hosting.test.",
            "host25.hosting.test. AAAA 2001:db8:5::25",
            "sender.test. TXT \"v=spf1 include:_spf.sender.test a:relay.sender.test mx exists:%{i}._e.sender.test ptr -all\"",
            "sender.test. MX 10 mail.sender.test.",
            "_spf.sender.test. TXT \"v=spf1 include:_net.hosting.test include:_spf.broken.test redirect=_r.sender.test\"",
            "_net.hosting.test. CNAME _spf6.hosting.test.",
            "_spf6.hosting.test. TXT \"v=spf1 ip6:2001:db8:5::/64 -all\"",
            "_r.sender.test. TXT \"v=spf1 a:%{d}.hosts.sender.test exp=_exp.sender.test -all\"",
            "_exp.sender.test. TXT \"not allowed\"",
            "x.only-child.hosting.test. TXT \"v=spf1 -all\"",
            "bad.sender.test. TXT \"some text\"",
        ]), faults: ["_spf.broken.test": .servfail, "slow.test": .timeout])

    func capture(_ request: CaptureRequest) async -> CapturedWorld {
        await DNSCapture.capture(request, lookup: Self.world, now: 1_700_000_000)
    }

    func has(_ world: CapturedWorld, _ line: String) throws -> Bool {
        world.records.contains(try ZoneLine.parse(line))
    }

    @Test func followsIncludesRedirectsMacrosAndCNAMEs() async throws {
        let world = await capture(
            CaptureRequest(
                client: IPAddress("2001:db8:5::25")!, helo: "mail.sender.test", mailFrom: "a@sender.test",
                rcptTo: ["u@example.test"]))
        for line in [
            "2001:db8:5::25 PTR mail.sender.test.",
            "mail.sender.test. CNAME host25.hosting.test.",
            "host25.hosting.test. AAAA 2001:db8:5::25",
            "sender.test. TXT \"v=spf1 include:_spf.sender.test a:relay.sender.test mx exists:%{i}._e.sender.test ptr -all\"",
            "sender.test. MX 10 mail.sender.test.",
            "_spf.sender.test. TXT \"v=spf1 include:_net.hosting.test include:_spf.broken.test redirect=_r.sender.test\"",
            "_net.hosting.test. CNAME _spf6.hosting.test.",
            "_spf6.hosting.test. TXT \"v=spf1 ip6:2001:db8:5::/64 -all\"",
            "_r.sender.test. TXT \"v=spf1 a:%{d}.hosts.sender.test exp=_exp.sender.test -all\"",
            "_exp.sender.test. TXT \"not allowed\"",
            "example.test. MX 10 mx.example.test.",
            "example.test. MX 20 mx2.example.test.",
            "mx.example.test. AAAA 2001:db8::10",
        ] {
            #expect(try has(world, line), "missing \(line)")
        }
        #expect(world.faults == [DNSFault(name: "_spf.broken.test", kind: .servfail)])
        let notes = world.notes.map(\.description)
        #expect(notes.contains("relay.sender.test: NXDOMAIN (absent here too)"))
        #expect(notes.contains("mx2.example.test: NXDOMAIN (absent here too)"))
        // %{i} expanded for this client (RFC 7208 7.3: dot-separated nibbles for IPv6); %{d} for the redirect's domain.
        let exists = "2.0.0.1.0.d.b.8.0.0.0.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.5._e.sender.test"
        #expect(notes.contains("\(exists): NXDOMAIN (absent here too)"), "\(notes)")
        #expect(notes.contains("_r.sender.test.hosts.sender.test: NXDOMAIN (absent here too)"), "\(notes)")
        #expect(world.exchangers.map(\.name) == ["mx.example.test", "mx2.example.test"])
        #expect(world.exchangers.first?.addresses == [IPAddress("2001:db8::10")!])
        #expect(world.spfVerdict == "pass")
    }

    @Test func aTimeoutBecomesAFaultAndNODATAStaysNODATA() async throws {
        let world = await capture(
            CaptureRequest(
                client: IPAddress("2001:db8:5::25")!, helo: "only-child.hosting.test", mailFrom: "b@slow.test",
                rcptTo: ["u@example.test"]))
        #expect(world.faults.contains(DNSFault(name: "slow.test", kind: .timeout)))
        // The HELO name exists only as the parent of another name: a marker below it keeps it existing.
        #expect(world.records.contains { $0.owner == "_exists.only-child.hosting.test" })
        let replay = InMemoryDNS(
            records: world.records,
            faults: Dictionary(uniqueKeysWithValues: world.faults.map { ($0.name, InMemoryDNS.Fault.timeout) }))
        await #expect(throws: DNSLookupError.nodata(name: "only-child.hosting.test", type: .a)) {
            try await replay.query("only-child.hosting.test", .a)
        }
        #expect(world.spfVerdict == "temperror")
    }

    @Test func theValidatedNameMacroIsLeftToTheEvaluationAndSaidSo() async throws {
        let dns = InMemoryDNS(
            records: try WorldFixture.records([
                "2001:db8:5::25 PTR mail.sender.test.",
                "mail.sender.test. AAAA 2001:db8:5::25",
                "sender.test. TXT \"v=spf1 exists:%{p}.allow.sender.test -all\"",
                "mail.sender.test.allow.sender.test. A 127.0.0.2",
            ]))
        let world = await DNSCapture.capture(
            CaptureRequest(
                client: IPAddress("2001:db8:5::25")!, helo: "mail.sender.test", mailFrom: "a@sender.test",
                rcptTo: ["u@example.test"]), lookup: dns)
        #expect(world.notes.contains { $0.text.contains("%{p}") })
        #expect(try has(world, "mail.sender.test.allow.sender.test. A 127.0.0.2"), "the evaluation asked it")
        #expect(world.spfVerdict == "pass")
    }

    @Test func theCapturedScenarioLoads() async throws {
        let world = await capture(
            CaptureRequest(
                client: IPAddress("2001:db8:5::25")!, helo: "mail.sender.test", mailFrom: "a@sender.test",
                rcptTo: ["u@example.test"]))
        let yaml = world.scenarioYAML(
            CapturedScenarioOptions(resolver: "192.0.2.53@53", capturedAt: Date(timeIntervalSince1970: 1_700_000_000)))
        let scenario = try #require(
            try ScenarioLoader(kinds: builtinKinds).load(yaml: yaml, file: "/tmp/captured.yaml").first)
        #expect(Set(scenario.dns.records) == Set(world.records))
        #expect(scenario.dns.faults == world.faults)
        #expect(scenario.receiver.hostname == "mx.example.test")
        #expect(scenario.receiver.addresses == [IPAddress("2001:db8::10")!])
        #expect(scenario.sender.addresses == [.ipv6: IPAddress("2001:db8:5::25")!])
        #expect(scenario.expect == Expectation())
        #expect(yaml.contains("# relay.sender.test: NXDOMAIN"))
        #expect(yaml.contains("policy: open  # TODO"))
    }
}

/// `capture` against an unbound world of our own standing in for the internet's DNS, and the
/// captured scenario replayed: the same verdict as the world it was captured from.
@Suite(.serialized, .enabled(if: IntegrationEnvironment.canRunWorlds, IntegrationEnvironment.worldSkipReason))
struct CaptureReplayTests {
    static let original = """
        name: internet
        dns:
          records:
            - example.test. MX 10 mx.example.test.
            - example.test. MX 20 mx2.example.test.
            - mx.example.test. AAAA 2001:db8::10
            - mx.example.test. A 192.0.2.10
            - 2001:db8:5::25 PTR mail.sender.test.
            - mail.sender.test. CNAME host25.hosting.test.
            - host25.hosting.test. AAAA 2001:db8:5::25
            - sender.test. TXT "v=spf1 include:_spf.sender.test a:relay.sender.test mx exists:%{i}._e.sender.test -all"
            - sender.test. MX 10 mail.sender.test.
            - _spf.sender.test. TXT "v=spf1 include:_net.hosting.test ~all"
            - _net.hosting.test. CNAME _spf6.hosting.test.
            - _spf6.hosting.test. TXT "v=spf1 ip6:2001:db8:5::/64 ip4:198.51.100.0/24 -all"
            - 2001:db8:6::25 PTR mail.other.test.
            - mail.other.test. AAAA 2001:db8:6::25
            - other.test. TXT "v=spf1 include:_spf.slow.test redirect=_spf.sender.test"
          faults:
            - {name: 7.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa, fault: timeout}
            - {name: slow.test, fault: timeout}
        receiver:
          hostname: mx.example.test
          addresses: [192.0.2.10, "2001:db8::10"]
          policy: ipv6-strict
        sender:
          addresses: {ipv6: "2001:db8:5::25"}
          helo: mail.sender.test
          mail_from: a@sender.test
          rcpt_to: [u@example.test]
        expect: {}
        variants:
          - name: delivered
            expect: {outcome: delivered, family: ipv6, stage: data, code: 250}
          - name: ptr-timeout
            sender: {addresses: {ipv6: "2001:db8:7::25"}, helo: mail7.sender.test}
            expect: {outcome: deferred, family: ipv6, stage: rcpt, code: 450, enhanced: 4.7.25}
          - name: spf-include-timeout
            sender: {addresses: {ipv6: "2001:db8:6::25"}, helo: mail.other.test, mail_from: b@other.test}
            expect: {outcome: deferred, family: ipv6, stage: rcpt, code: 451, enhanced: 4.4.3}
        """

    static func cases() throws -> [ScenarioCase] {
        try ScenarioLoader(kinds: builtinKinds).load(yaml: original, file: "/tmp/internet.yaml").filter {
            $0.name.contains("/")
        }
    }

    @Test(arguments: ["delivered", "ptr-timeout", "spf-include-timeout"])
    func theCapturedScenarioGivesTheSameVerdict(_ variant: String) async throws {
        let scenario = try #require(try Self.cases().first { $0.name == "internet/\(variant)" })
        let client = try #require(scenario.sender.addresses[.ipv6])
        let request = CaptureRequest(
            client: client, helo: scenario.sender.helo, mailFrom: scenario.sender.mailFrom,
            rcptTo: scenario.sender.rcptTo)
        // The "internet": the original world's unbound inside a namespace; capture asks it at 127.0.0.1@53 there.
        let captured = try await WorldFixture.withWorld(scenario.dns) { fixture in
            try await CaptureSession.capture(
                request, server: IPAddress("127.0.0.1")!, port: 53, namespace: fixture.namespace,
                timeout: .milliseconds(800))
        }
        let yaml = captured.scenarioYAML(CapturedScenarioOptions(resolver: "127.0.0.1@53", complaint: scenario))
        let replay = try #require(
            try ScenarioLoader(kinds: builtinKinds).load(yaml: yaml, file: "/tmp/replay.yaml").first, "\(yaml)")
        #expect(replay.receiver.policy == scenario.receiver.policy)
        #expect(replay.expect == scenario.expect)

        let runner = CaseRunner(configuration: RunConfiguration(target: .builtin), parts: builtinParts)
        let before = await runner.run(scenario)
        let after = await runner.run(replay)
        #expect(before.status == .passed, "the original: \(before.status) \(before.mismatches)")
        #expect(after.status == .passed, "the replay: \(after.status) \(after.mismatches)\n\(yaml)")
        #expect(after.observed?.outcome == before.observed?.outcome)
        #expect(after.observed?.stage == before.observed?.stage)
        #expect(after.observed?.reply?.code == before.observed?.reply?.code)
        #expect(after.observed?.reply?.enhanced == before.observed?.reply?.enhanced)

        switch variant {
        case "delivered":
            #expect(yaml.contains("mail.sender.test. CNAME host25.hosting.test."))
            #expect(yaml.contains("_net.hosting.test. CNAME _spf6.hosting.test."))
            #expect(yaml.contains("# relay.sender.test: NXDOMAIN"))
            #expect(yaml.contains("# mx2.example.test: NXDOMAIN"))
        case "ptr-timeout":
            #expect(captured.faults.contains(DNSFault(name: client.reverseName, kind: .timeout)), "\(captured.faults)")
        default:
            #expect(captured.faults.contains(DNSFault(name: "_spf.slow.test", kind: .timeout)), "\(captured.faults)")
        }
    }
}

/// `capture` keeps what a validating resolver says of DNSSEC: the AD bit of a secure answer, the
/// SERVFAIL and extended error of a bogus one (here a signed world's validating unbound).
@Suite(.enabled(if: IntegrationEnvironment.canRunWorlds, IntegrationEnvironment.worldSkipReason))
struct CaptureSecurityTests {
    @Test func secureAndBogusAnswersAreRecorded() async throws {
        let spec = WorldSpec(
            records: try WorldFixture.records([
                "example.test. MX 10 mx.example.test.", "mx.example.test. AAAA 2001:db8::10",
                "2001:db8:5::25 PTR mail.sender.test.", "mail.sender.test. AAAA 2001:db8:5::25",
                "sender.test. TXT \"v=spf1 ip6:2001:db8:5::/64 -all\"",
            ]),
            dnssec: .signed, zones: [ZoneDeclaration(name: "5.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", state: .expired)])
        let request = CaptureRequest(
            client: IPAddress("2001:db8:5::25")!, helo: "mail.sender.test", mailFrom: "a@sender.test",
            rcptTo: ["u@example.test"])
        let captured = try await WorldFixture.withWorld(spec) { fixture in
            let twin = try fixture.world.launchValidatingTwin()
            do {
                try await twin.waitUntilServing()
                let world = try await CaptureSession.capture(
                    request, server: DNSWorld.validatingAddress, port: 53, namespace: fixture.namespace,
                    timeout: .milliseconds(800))
                await twin.stop()
                return world
            } catch {
                await twin.stop()
                throw error
            }
        }
        let states = Dictionary(
            captured.security.map { ("\($0.name) \($0.type)", $0) }, uniquingKeysWith: { first, _ in first })
        #expect(states["example.test MX"]?.security == .secure, "\(captured.security)")
        let ptr = try #require(states["\(IPAddress("2001:db8:5::25")!.reverseName) PTR"], "\(captured.security)")
        // The first question validated the answer; unbound answers the second from its cache of
        // bogus answers, with EDE 6 (DNSSEC Bogus) and no longer the reason.
        #expect(ptr.security == .bogus && ptr.detail.hasPrefix("SERVFAIL, EDE "), "\(ptr)")
        let yaml = captured.scenarioYAML(CapturedScenarioOptions(resolver: "127.0.0.3@53"))
        #expect(yaml.contains("# DNSSEC as the resolver reported it"), "\(yaml)")
        #expect(yaml.contains("#   example.test MX: secure (AD set)"), "\(yaml)")
    }
}
