@testable import Census
import DNSCore
import Policy
import Foundation
import Testing

/// A report made from groups by hand: totals, rankings, JSON, masking, text and HTML.
struct ReportTests {
    static func outcome(_ fate: Fate, reason: String? = nil) -> GroupOutcome {
        GroupOutcome(
            fate: fate, label: fate.rawValue,
            reply: fate == .bounced
                ? "550 5.7.25 Client host rejected: cannot find your hostname, [2001:db8:5::25]" : "250 2.0.0 Ok",
            reason: reason)
    }

    static func report() -> CensusReport {
        let broken = CensusGroup(
            name: "census/a", description: "v4 PTR confirmed; v6 no PTR",
            weight: Weight(clients: 3, sessions: 30, messages: 40), dualStack: 3,
            domains: [
                "a.test": Weight(clients: 2, sessions: 20, messages: 30),
                "b.test": Weight(clients: 1, sessions: 10, messages: 10),
            ],
            examples: [
                ClientExample(
                    addresses: ["192.0.2.5", "2001:db8:5::25"], helo: "mail.a.test", sender: "x@a.test", sessions: 12,
                    messages: 20)
            ],
            outcomes: [
                "open": outcome(.delivered), "fcrdns": outcome(.fellBack, reason: "no PTR over IPv6"),
                "fcrdns-strict": outcome(.bounced, reason: "no PTR over IPv6"),
            ])
        let fine = CensusGroup(
            name: "census/b", description: "v4 PTR confirmed", weight: Weight(clients: 5, sessions: 7, messages: 9),
            dualStack: 0,
            domains: ["c.test": Weight(clients: 5, sessions: 7, messages: 9)], examples: [],
            outcomes: [
                "open": outcome(.delivered), "fcrdns": outcome(.delivered), "fcrdns-strict": outcome(.delivered),
            ])
        return CensusReport(
            groups: [broken, fine], columns: ["open", "fcrdns", "fcrdns-strict"], worlds: "log", target: "builtin",
            assumptions: ["spf-assumed-pass": 8], reading: ReadingSummary(), top: 10)
    }

    @Test func totalsAndRankings() throws {
        let report = Self.report()
        #expect(report.clients == 8 && report.sessions == 37 && report.messages == 49 && report.dualStack == 3)
        let strict = report.policies[2]
        #expect(strict.bounced == 3 && strict.delivered == 5)
        #expect(strict.messages["bounced"] == 40)
        #expect(strict.changed == Weight(clients: 3, sessions: 30, messages: 40))
        #expect(strict.byReason?.map(\.name) == ["no PTR over IPv6"])
        #expect(strict.byDomain?.map(\.name) == ["a.test", "b.test"])
        #expect(report.policies[1].fellBack == 3)
        #expect(report.policies[0].changed == nil)
    }

    @Test func theJSONHasTheAgreedShape() throws {
        let object = try JSONSerialization.jsonObject(with: Self.report().json()) as? [String: Any]
        #expect(object?["clients"] as? Int == 8)
        #expect(object?["sessions"] as? Int == 37)
        #expect(object?["messages"] as? Int == 49)
        let policies = try #require(object?["policies"] as? [[String: Any]])
        #expect(policies.map { $0["name"] as? String } == ["open", "fcrdns", "fcrdns-strict"])
        #expect(policies[1]["fell_back"] as? Int == 3)
        #expect(policies[2]["bounced"] as? Int == 3)
        #expect(policies[2]["delivered"] as? Int == 5)
        #expect(policies[2]["deferred"] as? Int == 0)
        // Shards merge from the groups: the report reads back and computes the same.
        var again = try CensusReport.read(Self.report().json())
        again.compute(columns: ["open", "fcrdns", "fcrdns-strict"])
        #expect(again.policies == Self.report().policies)
    }

    @Test func maskingIsConsistentAndKeepsTheLook() throws {
        let masker = Masker(key: "k")
        let v4 = masker.address(IPAddress("8.8.8.8")!)
        #expect(v4 == masker.address(IPAddress("8.8.8.8")!))
        #expect(
            ["192.0.2", "198.51.100", "203.0.113"].contains(v4.bytes.prefix(3).map(String.init).joined(separator: ".")))
        let v6 = masker.address(IPAddress("2a00:1450::1")!)
        #expect(v6.family == .ipv6 && v6.description.hasPrefix("2001:db8:"))
        // 800 addresses: the documentation networks hold 768, then 198.18.0.0/15; all distinct.
        let many = (0..<800).map { masker.address(IPAddress("10.0.\($0 / 256).\($0 % 256)")!) }
        #expect(Set(many).count == 800)
        #expect(masker.name("mail.google.com") == Masker(key: "k").name("MAIL.google.com."))
        #expect(masker.name("mail.google.com").hasSuffix(".test"))
        #expect(Masker(key: "other").name("mail.google.com") != masker.name("mail.google.com"))

        let masked = masker.mask(Self.report())
        let text = String(decoding: try masked.json(), as: UTF8.self)
        for secret in ["a.test", "b.test", "c.test", "192.0.2.5", "2001:db8:5::25", "mail.a.test", "x@a.test"] {
            #expect(
                !text.contains("\"\(secret)\"") && !text.contains(secret + ",") && !text.contains("[\(secret)]"),
                "\(secret) left in the masked report")
        }
        #expect(masked.policies[2].byDomain?.first?.name == masker.name("a.test"))
        #expect(masked.policies[2].bounced == 3)
    }

    @Test func textEscapesWhatCameFromTheLogs() {
        var report = Self.report()
        report.groups[0].examples[0].helo = "evil\u{1B}[2Jhelo"
        report.compute(columns: ["open", "fcrdns", "fcrdns-strict"])
        let text = CensusText.render(report)
        #expect(!text.contains("\u{1B}"))
        #expect(text.contains("evil\\x1b[2Jhelo"))
        #expect(text.contains("fcrdns-strict: 3 clients (30 sessions, 40 messages) change against open"))
    }
}

/// Facts, their canonical form, and the world built from them.
struct WorldTests {
    static func facts(
        v4: IPAddress = IPAddress("192.0.2.5")!, v6: IPAddress = IPAddress("2001:db8:5::25")!,
        name: String = "mail.a.test"
    ) -> ClientFacts {
        ClientFacts(
            sides: [
                ClientFacts.Side(address: v4, reverse: .confirmed(name), heloAddress: .matches, spf: .pass),
                ClientFacts.Side(address: v6, reverse: .missing, heloAddress: .none, spf: .fail),
            ],
            helo: name, heloFound: .found,
            mailFrom: "x@" + name.split(separator: ".").dropFirst().joined(separator: "."))
    }

    @Test func clientsAlikeButForNamesAndAddressesShareACanonicalForm() {
        let a = Self.facts()
        let b = Self.facts(v4: IPAddress("198.51.100.9")!, v6: IPAddress("2001:db8:9::9")!, name: "smtp.other.test")
        #expect(a != b)
        #expect(a.canonical == b.canonical)
        var c = Self.facts()
        c.helo = "other.helo.test"
        #expect(c.canonical != a.canonical, "a HELO that is not the PTR name is another world")
    }

    @Test func theWorldGivesEachFactItsRecords() {
        let scenario = CensusWorld.scenario(Self.facts(), name: "t")
        let records = Set(scenario.dns.records.map(\.description))
        #expect(
            records.contains { $0.contains("mail.a.test") && $0.contains("192.0.2.5") && $0.hasPrefix("mail.a.test") })
        #expect(
            !scenario.dns.records.contains { $0.owner == IPAddress("2001:db8:5::25")!.reverseName },
            "no PTR for the IPv6 address")
        let spf = scenario.dns.records.first { $0.owner == "a.test" && $0.type == .txt }
        #expect(spf?.data.text == "v=spf1 +ip4:192.0.2.5 -ip6:2001:db8:5::25 -all")
        #expect(scenario.sender.addresses.count == 2 && scenario.sender.prefer == .ipv6)
        #expect(scenario.receiver.addresses.map(\.family) == [.ipv6, .ipv4])
    }

    @Test func reasonsInAPostmastersWords() {
        let facts = Self.facts()
        #expect(
            ChangeReason.explain(facts, policy: Preset.fcrdns.policy, family: .ipv6, reply: nil) == "no PTR over IPv6")
        #expect(
            ChangeReason.explain(facts, policy: Preset.ipv6Strict.policy, family: .ipv6, reply: nil)
                == "no PTR over IPv6")
        var noPTRProblem = facts
        noPTRProblem.sides[1].reverse = .confirmed("mail.a.test")
        #expect(
            ChangeReason.explain(noPTRProblem, policy: Preset.ipv6Strict.policy, family: .ipv6, reply: nil)
                == "SPF without ip6")
        #expect(ChangeReason.explain(facts, policy: nil, family: .ipv6, reply: "554 x") == "other: 554 x")
    }
}
