import DNSCore
import Foundation
import Policy
import SMTPProtocol
import Scenario
import Testing
import MXHarnessTestKit

@Suite struct SpecExampleTests {
    @Test func theExampleLoadsAndMeansWhatTheSpecSays() throws {
        let cases = try ScenarioLoader().load(yaml: formatExample, file: "Scenarios/example.yaml")
        try #require(cases.count == 1)
        let c = cases[0]
        #expect(c.name == "ipv6-sender-without-ptr")
        #expect(
            c.description
                == "An IPv6 sender whose address has no PTR record delivers to a receiver that requires forward-confirmed reverse DNS."
        )
        #expect(c.tags == ["ipv6", "ptr"])
        #expect(c.location == SourceLocation(file: "Scenarios/example.yaml", line: 1, column: 1))

        #expect(
            c.dns.records == [
                ResourceRecord(owner: "example.test", data: .mx(preference: 10, exchange: "mx.example.test")),
                ResourceRecord(owner: "mx.example.test", data: .a(IPAddress("192.0.2.10")!)),
                ResourceRecord(owner: "mx.example.test", data: .aaaa(IPAddress("2001:db8::10")!)),
                ResourceRecord(owner: "mail.sender.test", data: .aaaa(IPAddress("2001:db8:5::25")!)),
                ResourceRecord(owner: "sender.test", data: .txt([Array("v=spf1 ip6:2001:db8:5::/64 -all".utf8)])),
            ])
        #expect(c.dns.faults.isEmpty)
        #expect(c.dns.reverse == .none)

        #expect(c.receiver.hostname == "mx.example.test")
        #expect(c.receiver.addresses == [IPAddress("192.0.2.10")!, IPAddress("2001:db8::10")!])
        #expect(c.receiver.target == nil)
        #expect(c.receiver.policy == Preset.fcrdnsStrict.policy)
        #expect(c.receiver.settings.isEmpty)

        #expect(c.sender.addresses == [.ipv6: IPAddress("2001:db8:5::25")!])
        #expect(c.sender.prefer == .ipv6)
        #expect(c.sender.helo == "mail.sender.test")
        #expect(c.sender.mailFrom == "alice@sender.test")
        #expect(c.sender.rcptTo == ["bob@example.test"])
        #expect(c.sender.relay == .mx)
        #expect(c.sender.message == nil)

        #expect(
            c.expect
                == Expectation(
                    outcome: .bounced, family: .ipv6, stage: .rcpt, code: CodePattern("550"),
                    enhanced: EnhancedPattern("5.7.25"),
                    text: .substring("cannot find your hostname")))
    }

    @Test func defaultsOfTheFormat() throws {
        let c = try #require(
            try ScenarioLoader().load(yaml: minimalWorld + "\nexpect: {outcome: delivered}\n", file: "a.yaml").first)
        #expect(c.name == "a")
        #expect(c.description == nil)
        #expect(c.tags.isEmpty)
        #expect(c.receiver.hostname == "mx.example.test")
        #expect(c.receiver.policy == Preset.open.policy)
        #expect(c.sender.prefer == .ipv6)
        #expect(c.sender.relay == .mx)
        #expect(c.sender.rcptTo == ["bob@example.test"])  // a single string is one recipient
        #expect(c.dns.reverse == .none)
        #expect(c.expect == Expectation(outcome: .delivered))
    }

    @Test func everyKeyOfTheFormatIsRead() throws {
        let yaml = """
            name: all-keys
            description: every key
            tags: [a, b]
            dns:
              records:
                - 2001:db8:5::25 PTR mail.sender.test.
                - mail.sender.test. 60 IN A 198.51.100.25
              faults:
                - {name: broken.example.test, fault: servfail}
                - {name: slow.example.test., fault: timeout}
              reverse: auto
            receiver:
              hostname: mx2.example.test
              addresses: ["2001:db8::10"]
              target: postfix
              policy:
                checks: [ptr, "dnsbl:bl.example.test"]
                ipv6: [fcrdns, spf-pass, helo-valid, helo-fqdn, helo-resolves, helo-matches, spf]
                reject_at: data
                on_fail: defer
            sender:
              addresses: {ipv4: 198.51.100.25, ipv6: "2001:db8:5::25"}
              prefer: ipv4
              helo: "[IPv6:2001:db8:5::25]"
              mail_from: ""
              rcpt_to: [bob@example.test, carol@example.test]
              relay: {host: relay.example.test.}
              message:
                headers: {From: alice@sender.test, Subject: hello}
                body: |
                  line one
                  line two
            expect:
              outcome: deferred
              family: ipv4
              stage: data
              code: 45x
              enhanced: 4.7.x
              text: /try (again|later)/
              attempts:
                - {family: ipv6, result: unreachable}
                - {family: ipv4, result: tempfailed, code: 451, enhanced: 4.4.3, stage: data}
            """
        let c = try #require(try ScenarioLoader().load(yaml: yaml, file: "all.yaml").first)
        #expect(
            c.dns.records.first
                == ResourceRecord(owner: IPAddress("2001:db8:5::25")!.reverseName, data: .ptr("mail.sender.test")))
        #expect(c.dns.records.last?.ttl == 60)
        #expect(
            c.dns.faults == [
                DNSFault(name: "broken.example.test", kind: .servfail),
                DNSFault(name: "slow.example.test", kind: .timeout),
            ])
        #expect(c.dns.reverse == .auto)
        #expect(c.receiver.hostname == "mx2.example.test")
        #expect(c.receiver.target == .postfix)
        #expect(c.receiver.policy.ipv4 == [.ptr, .dnsbl(zone: "bl.example.test")])
        #expect(
            c.receiver.policy.ipv6 == [.fcrdns, .spfPass, .heloValid, .heloFQDN, .heloResolves, .heloMatches, .spf])
        #expect(c.receiver.policy.rejectAt == .data)
        #expect(c.receiver.policy.onFail == .defer)
        #expect(c.receiver.policy.preset == nil)
        #expect(c.sender.addresses.count == 2)
        #expect(c.sender.prefer == .ipv4)
        #expect(c.sender.helo == "[IPv6:2001:db8:5::25]")
        #expect(c.sender.mailFrom == "")
        #expect(c.sender.rcptTo == ["bob@example.test", "carol@example.test"])
        #expect(c.sender.relay == .host("relay.example.test"))
        #expect(
            c.sender.message
                == MessageSpec(
                    headers: [
                        MessageHeader(name: "From", value: "alice@sender.test"),
                        MessageHeader(name: "Subject", value: "hello"),
                    ],
                    body: "line one\nline two\n"))
        #expect(c.expect.outcome == .deferred)
        #expect(c.expect.family == .ipv4)
        #expect(c.expect.stage == .data)
        #expect(c.expect.code == CodePattern("45x"))
        #expect(c.expect.enhanced == EnhancedPattern("4.7.x"))
        #expect(c.expect.text == .regex("try (again|later)"))
        #expect(
            c.expect.attempts == [
                ExpectedAttempt(family: .ipv6, result: .unreachable),
                ExpectedAttempt(
                    family: .ipv4, result: .tempfailed, code: CodePattern("451"), enhanced: EnhancedPattern("4.4.3"),
                    stage: .data),
            ])
    }

    @Test func presetsByName() throws {
        for preset in Preset.allCases {
            let yaml =
                minimalWorld.replacingOccurrences(
                    of: "  addresses: [192.0.2.10]", with: "  addresses: [192.0.2.10]\n  policy: \(preset.rawValue)")
                + "\nexpect: {outcome: delivered}\n"
            let c = try #require(try ScenarioLoader().load(yaml: yaml, file: "p.yaml").first)
            #expect(c.receiver.policy == preset.policy)
        }
    }
}

@Suite struct NamingTests {
    @Test func singleDocumentTakesTheFileName() throws {
        let folder = try ScenarioFolder(["rdns/no-ptr.yaml": minimalWorld + "\nexpect: {outcome: bounced}\n"])
        let cases = try ScenarioLoader().load(paths: [folder.path])
        #expect(cases.map(\.name) == ["no-ptr"])
        #expect(cases.first?.location == SourceLocation(file: folder.file("rdns/no-ptr.yaml"), line: 1, column: 1))
    }

    @Test func multiDocumentFilesNumberTheirDocuments() throws {
        let doc = minimalWorld + "\nexpect: {outcome: delivered}\n"
        let text = doc + "---\nname: named\n" + doc + "---\n" + doc + "---\n"
        let folder = try ScenarioFolder(["several.yml": text])
        let cases = try ScenarioLoader().load(paths: [folder.file("several.yml")])
        #expect(cases.map(\.name) == ["several#1", "named", "several#3"])
        let secondLine =
            text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex(of: "name: named")! + 1
        #expect(cases[1].location.line == secondLine)
    }

    @Test func foldersAreSearchedInSortedOrderSkippingProfiles() throws {
        let doc = minimalWorld + "\nexpect: {outcome: delivered}\n"
        let folder = try ScenarioFolder([
            "b.yaml": doc, "a.yml": doc, "c/d.yaml": doc, "c/_profiles/world.yaml": doc,
            "_profiles/p.yaml": doc, "notes.txt": "not yaml", "c/a/e.yaml": doc,
        ])
        let cases = try ScenarioLoader().load(paths: [folder.path])
        #expect(cases.map(\.name) == ["a", "b", "e", "d"])
    }

    @Test func theSameFileGivenTwiceLoadsOnce() throws {
        let folder = try ScenarioFolder(["a.yaml": minimalWorld + "\nexpect: {outcome: delivered}\n"])
        let cases = try ScenarioLoader().load(paths: [folder.path, folder.file("a.yaml"), folder.path + "/"])
        #expect(cases.map(\.name) == ["a"])
    }
}

@Suite struct IncludeTests {
    @Test func profilesMergeInOrderUnderTheScenario() throws {
        let folder = try ScenarioFolder([
            "_profiles/world.yaml": """
            dns:
              records: [example.test. MX 10 mx.example.test., mx.example.test. A 192.0.2.10]
            receiver:
              addresses: [192.0.2.10]
              policy: reverse
            sender:
              helo: world.sender.test
            """,
            "_profiles/sender.yaml": """
            sender:
              addresses: {ipv4: 198.51.100.25}
              helo: mail.sender.test
              mail_from: alice@sender.test
              rcpt_to: bob@example.test
            """,
            "rdns/case.yaml": """
            include: [../_profiles/world.yaml, ../_profiles/sender.yaml]
            receiver:
              policy: fcrdns
            expect: {outcome: deferred}
            """,
        ])
        let cases = try ScenarioLoader().load(paths: [folder.path])
        try #require(cases.count == 1)
        let c = cases[0]
        #expect(c.name == "case")
        #expect(c.dns.records.count == 2)
        #expect(c.receiver.addresses == [IPAddress("192.0.2.10")!])
        #expect(c.receiver.policy == Preset.fcrdns.policy)  // the scenario wins over the profile
        #expect(c.sender.helo == "mail.sender.test")  // the later profile wins over the earlier
        #expect(c.location.file == folder.file("rdns/case.yaml"))
    }

    @Test func includesOfIncludesResolveRelativeToTheirOwnFile() throws {
        let folder = try ScenarioFolder([
            "_profiles/base.yaml": "include: [parts/dns.yaml]\n"
                + minimalWorld.replacingOccurrences(
                    of: "dns:\n  records:\n    - example.test. MX 10 mx.example.test.\n", with: ""),
            "_profiles/parts/dns.yaml": "dns:\n  records: [example.test. MX 20 mx.example.test.]\n",
            "s.yaml": "include: [_profiles/base.yaml]\nexpect: {outcome: delivered}\n",
        ])
        let c = try #require(try ScenarioLoader().load(paths: [folder.file("s.yaml")]).first)
        #expect(
            c.dns.records == [
                ResourceRecord(owner: "example.test", data: .mx(preference: 20, exchange: "mx.example.test"))
            ])
    }

    @Test func errorsInIncludedValuesPointAtTheProfile() throws {
        let folder = try ScenarioFolder([
            "_profiles/world.yaml": "receiver:\n  addresses: [192.0.2.10]\n  policy: fcrdns-stric\n",
            "s.yaml": "include: [_profiles/world.yaml]\n"
                + minimalWorld.replacingOccurrences(of: "receiver:\n  addresses: [192.0.2.10]\n", with: "")
                + "\nexpect: {outcome: delivered}\n",
        ])
        let errors = loadErrors({ () throws(ScenarioLoadError) in
            try ScenarioLoader().load(paths: [folder.file("s.yaml")])
        }).map(\.description)
        #expect(
            errors == [
                "\(folder.file("_profiles/world.yaml")):3:11: receiver.policy: unknown preset \"fcrdns-stric\" (known: open, reverse, fcrdns, fcrdns-strict, helo-strict, ipv6-strict, gmail-like, microsoft-like, microsoft-like-dkim, gmx-like); did you mean \"fcrdns-strict\"?"
            ])
    }

    @Test func variantsMayIncludeProfilesToo() throws {
        let folder = try ScenarioFolder([
            "_profiles/strict.yaml": "receiver: {policy: fcrdns-strict}\n",
            "s.yaml": minimalWorld
                + "\nvariants:\n  - name: strict\n    include: [_profiles/strict.yaml]\n    expect: {outcome: bounced}\n",
        ])
        let c = try #require(try ScenarioLoader().load(paths: [folder.file("s.yaml")]).first)
        #expect(c.name == "s/strict")
        #expect(c.receiver.policy == Preset.fcrdnsStrict.policy)
    }
}
