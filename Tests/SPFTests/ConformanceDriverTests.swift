import DNSCore
import SPF
import Testing
import Yams

/// The conformance driver's own parts: the zone builder and the runner must be able to fail.
@Suite struct ConformanceDriverTests {
    static let yaml = #"""
        description: Driver check
        tests:
          passes:
            helo: mail.sender.test
            host: 192.0.2.1
            mailfrom: a@pass.sender.test
            result: pass
          wrong:
            helo: mail.sender.test
            host: 192.0.2.1
            mailfrom: a@pass.sender.test
            result: [fail, softfail]
          badexp:
            helo: mail.sender.test
            host: 192.0.2.9
            mailfrom: a@fail.sender.test
            result: fail
            explanation: Something else
        zonedata:
          pass.sender.test:
            - SPF: v=spf1 ip4:192.0.2.1 -all
          fail.sender.test:
            - SPF: [ "v=spf1 -all ", "exp=why.sender.test" ]
          why.sender.test:
            - TXT: "Not from %{i}"
          both.sender.test:
            - SPF: v=spf1 +all
            - TXT: NONE
            - MX: [10, mx.sender.test]
          slow.sender.test:
            - A: 192.0.2.7
            - TIMEOUT
          bytes.sender.test:
            - TXT: "\xEF\xBB\xBF"
        """#

    @Test func buildsRecordsAndTimeouts() throws {
        let scenarios = try ConformanceSuite.scenarios(yaml: Self.yaml)
        let zone = try #require(scenarios.first).zone
        #expect(
            zone.records.contains(ResourceRecord(owner: "pass.sender.test", data: txt("v=spf1 ip4:192.0.2.1 -all"))))
        #expect(
            zone.records.contains(
                ResourceRecord(
                    owner: "fail.sender.test",
                    data: .txt([Array("v=spf1 -all ".utf8), Array("exp=why.sender.test".utf8)]))))
        #expect(!zone.records.contains { $0.owner == "both.sender.test" && $0.type == .txt })
        #expect(
            zone.records.contains(
                ResourceRecord(owner: "both.sender.test", data: .mx(preference: 10, exchange: "mx.sender.test"))))
        #expect(zone.records.contains(ResourceRecord(owner: "bytes.sender.test", data: .txt([[0xEF, 0xBB, 0xBF]]))))
        #expect(zone.timeouts == ["slow.sender.test"])
        #expect(zone.timesOut("slow.sender.test", .txt))
        #expect(!zone.timesOut("slow.sender.test", .a))
        #expect(!zone.timesOut("x.slow.sender.test", .txt))
    }

    @Test func tableLookupTimesOutOnlyTheListedNames() async throws {
        let zone = try #require(try ConformanceSuite.scenarios(yaml: Self.yaml).first).zone
        let dns = ConformanceDNS(zone: zone)
        await #expect(throws: DNSLookupError.timeout(name: "slow.sender.test", type: .txt)) {
            try await dns.query("slow.sender.test", .txt)
        }
        #expect(try await dns.query("Slow.Sender.Test.", .a) == [.a(address("192.0.2.7"))])
        await #expect(throws: DNSLookupError.nxdomain(name: "x.slow.sender.test")) {
            try await dns.query("x.slow.sender.test", .txt)
        }
        await #expect(throws: DNSLookupError.nodata(name: "sender.test", type: .txt)) {
            try await dns.query("sender.test", .txt)
        }
    }

    @Test func runnerReportsWrongResultsAndExplanations() async throws {
        let scenario = try #require(try ConformanceSuite.scenarios(yaml: Self.yaml).first)
        let outcome = await ConformanceRunner.run(scenario, lookup: ConformanceDNS(zone: scenario.zone))
        #expect(outcome.passed == 1)
        #expect(outcome.summary == "rfc7208: 1 passed, 2 failed")
        let lines = outcome.failures.map(\.description)
        #expect(
            lines.first?.hasPrefix(
                "Driver check/wrong: expected fail or softfail, got pass (192.0.2.1 matches ip4:192.0.2.1") == true)
        #expect(
            lines.last
                == #"Driver check/badexp: expected fail with explanation "Something else", got fail with explanation "Not from 192.0.2.9" (192.0.2.9 matches -all in the SPF record of fail.sender.test)"#
        )
    }

    @Test func malformedZoneDataIsReported() throws {
        let bad = """
            description: Bad
            tests: {}
            zonedata:
              x.sender.test:
                - A: not-an-address
            """
        #expect(throws: ConformanceDataError.self) { try ConformanceSuite.scenarios(yaml: bad) }
    }
}
