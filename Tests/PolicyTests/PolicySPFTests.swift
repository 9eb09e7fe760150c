import DNSCore
import MXHarnessTestKit
import SMTPProtocol
import SPF
import Testing
@testable import Policy

/// The spf and spf-pass checks with the real `SPFEvaluator` over a small SPF world.
@Suite("Policy engine: SPF through the evaluator")
struct PolicySPFTests {
    static func world(faults: [String: InMemoryDNS.Fault] = [:]) -> InMemoryDNS {
        InMemoryDNS(
            records: World.dns.records + [
                ResourceRecord(
                    owner: "sender.test", data: .txt([Array("v=spf1 ip6:2001:db8:5::/64 ip4:192.0.2.25 -all".utf8)])),
                ResourceRecord(owner: "soft.test", data: .txt([Array("v=spf1 ~all".utf8)])),
                ResourceRecord(owner: "broken.test", data: .txt([Array("v=spf1 ip6:not-an-address -all".utf8)])),
            ], faults: faults)
    }

    static func reply(_ checks: [Check], client: IPAddress, mailFrom: String, dns: InMemoryDNS = world()) async
        -> String?
    {
        let engine = PolicyEngine(policy: ReceiverPolicy(checks: checks), lookup: dns, receiver: "mx.example.test")
        guard let (_, verdict) = await World.run(engine, client: client, mailFrom: mailFrom),
            case .reply(let reply, _) = verdict
        else { return nil }
        return reply.description
    }

    @Test func spfPassesAndFailsInBothFamilies() async {
        #expect(await Self.reply([.spf], client: World.goodV6, mailFrom: "alice@sender.test") == nil)
        #expect(await Self.reply([.spf], client: World.goodV4, mailFrom: "alice@sender.test") == nil)
        #expect(
            await Self.reply([.spf], client: World.badV6, mailFrom: "alice@sender.test")
                == "550 5.7.23 SPF fail - not authorized")
        #expect(
            await Self.reply([.spf], client: World.badV4, mailFrom: "alice@sender.test")
                == "550 5.7.23 SPF fail - not authorized")
        #expect(await Self.reply([.spf], client: World.badV6, mailFrom: "alice@soft.test") == nil)
        #expect(
            await Self.reply([.spf], client: World.badV6, mailFrom: "alice@broken.test")
                == "550 5.5.2 SPF permanent error")
    }

    @Test func spfPassNeedsPass() async {
        #expect(await Self.reply([.spfPass], client: World.goodV6, mailFrom: "alice@sender.test") == nil)
        #expect(
            await Self.reply([.spfPass], client: World.badV6, mailFrom: "alice@soft.test")
                == "550 5.7.23 SPF check did not pass")
        #expect(
            await Self.reply([.spfPass], client: World.goodV4, mailFrom: "alice@nowhere.test")
                == "550 5.7.23 SPF check did not pass")
    }

    @Test func dnsErrorIsTemperror() async {
        let broken = Self.world(faults: ["sender.test": .servfail])
        #expect(
            await Self.reply([.spf], client: World.goodV6, mailFrom: "alice@sender.test", dns: broken)
                == "451 4.4.3 SPF temporary error")
        #expect(
            await Self.reply([.spfPass], client: World.goodV4, mailFrom: "alice@sender.test", dns: broken)
                == "451 4.4.3 SPF temporary error")
    }

    /// A receiver that runs policyd-spf (`receiver.engines: [policyd-spf]`) gives its codes for
    /// SPF errors (spf_engine/policyd_spf.py); a fail keeps 550 5.7.23 in both.
    @Test func policydSPFRepliesGiveItsCodesForErrorsOnly() {
        let client = World.goodV6
        for check in [Check.spf, .spfPass] {
            let format = check.standardReply(for: .temporary, client: client, helo: "h.test")
            let policyd = check.standardReply(for: .temporary, client: client, helo: "h.test", spf: .policydSPF)
            #expect(format.map { "\($0.code) \($0.enhanced ?? "")" } == "451 4.4.3", "\(check)")
            #expect(policyd.map { "\($0.code) \($0.enhanced ?? "")" } == "450 4.7.24", "\(check)")
        }
        let permerror = Check.spf.standardReply(for: .permerror, client: client, helo: "h.test")
        let policydPermerror = Check.spf.standardReply(
            for: .permerror, client: client, helo: "h.test", spf: .policydSPF)
        #expect(permerror.map { "\($0.code) \($0.enhanced ?? "")" } == "550 5.5.2")
        #expect(policydPermerror.map { "\($0.code) \($0.enhanced ?? "")" } == "550 5.7.24")
        let fail = Check.spf.standardReply(for: .fail, client: client, helo: "h.test", spf: .policydSPF)
        #expect(fail.map { "\($0.code) \($0.enhanced ?? "")" } == "550 5.7.23")
        var policy = ReceiverPolicy(ipv6: [.spf])
        policy.spfReplies = .policydSPF
        #expect(policy.reply(for: .spf, outcome: .temporary, client: client, helo: "h.test")?.code == 450)
    }

    @Test func theRecordAndTermAreKept() async {
        let engine = PolicyEngine(
            policy: ReceiverPolicy(ipv6: [.spf]), lookup: Self.world(), receiver: "mx.example.test")
        let session = engine.session(client: World.goodV6)
        _ = await session.answer(.helo(name: "mail.sender.test", extended: true))
        _ = await session.answer(.mail(reversePath: "alice@sender.test", helo: "mail.sender.test"))
        _ = await session.evaluate()
        let spf = await session.findings.spf
        #expect(spf?.result == .pass)
        #expect(spf?.matched == "ip6:2001:db8:5::/64")
        #expect(await session.findings.summaryLines.contains { $0.hasPrefix("SPF: pass (ip6:2001:db8:5::/64)") })
    }
}
