import DNSCore
import MXHarnessTestKit
import SMTPProtocol
import SPF
import Testing
@testable import Policy

@Suite("Policy engine: checks")
struct PolicyCheckTests {
    @Test func ptrPassesAndFailsInBothFamilies() async {
        let engine = World.engine(ReceiverPolicy(checks: [.ptr]))
        #expect(await World.reply(engine, client: World.goodV4) == nil)
        #expect(await World.reply(engine, client: World.goodV6) == nil)
        #expect(
            await World.reply(engine, client: World.badV4)
                == "550 5.7.1 Client host rejected: cannot find your reverse hostname, [198.51.100.7]")
        #expect(
            await World.reply(engine, client: World.badV6)
                == "550 5.7.1 Client host rejected: cannot find your reverse hostname, [2001:db8::66]")
    }

    @Test func fcrdnsPassesAndFailsInBothFamilies() async {
        let engine = World.engine(ReceiverPolicy(checks: [.fcrdns]))
        #expect(await World.reply(engine, client: World.goodV4) == nil)
        #expect(await World.reply(engine, client: World.goodV6) == nil)
        #expect(
            await World.reply(engine, client: World.badV4)
                == "550 5.7.25 Client host rejected: cannot find your hostname, [198.51.100.7]")
        #expect(
            await World.reply(engine, client: World.badV6)
                == "550 5.7.25 Client host rejected: cannot find your hostname, [2001:db8::66]")
    }

    /// Postfix's sane_hostaddr_to_name(): a numeric or malformed PTR name counts as no name, even
    /// when an A record makes the "name" resolve back to the client.
    @Test func numericOrInvalidPTRNamesCountAsNoPTR() async {
        let client = IPAddress("203.0.113.25")!
        let numeric = InMemoryDNS([(client.reverseName, .ptr("203.0.113.25")), ("203.0.113.25", .a(client))])
        #expect(
            await World.reply(World.engine(ReceiverPolicy(checks: [.ptr]), dns: numeric), client: client)
                == "550 5.7.1 Client host rejected: cannot find your reverse hostname, [203.0.113.25]")
        #expect(
            await World.reply(World.engine(ReceiverPolicy(checks: [.fcrdns]), dns: numeric), client: client)
                == "550 5.7.25 Client host rejected: cannot find your hostname, [203.0.113.25]")
        let invalid = InMemoryDNS([(client.reverseName, .ptr("bad_name!.sender.test"))])
        #expect(
            await World.reply(World.engine(ReceiverPolicy(checks: [.ptr]), dns: invalid), client: client)
                == "550 5.7.1 Client host rejected: cannot find your reverse hostname, [203.0.113.25]")
        let generic = InMemoryDNS([
            (client.reverseName, .ptr("203-0-113-25.dsl.sender.test")), ("203-0-113-25.dsl.sender.test", .a(client)),
        ])
        #expect(await World.reply(World.engine(ReceiverPolicy(checks: [.fcrdns]), dns: generic), client: client) == nil)
    }

    @Test func fcrdnsLooksOnlyInTheClientsFamily() async {
        let engine = World.engine(ReceiverPolicy(ipv6: [.fcrdns]))
        let session = engine.session(client: World.v6WithV4OnlyName)
        _ = await session.answer(.connect)
        _ = await session.answer(.helo(name: "mail.sender.test", extended: true))
        let decision = await session.evaluate()
        #expect(
            decision?.reply.description == "550 5.7.25 Client host rejected: cannot find your hostname, [2001:db8:7::7]"
        )
        let findings = await session.findings
        #expect(findings.fcrdns?.reason == "v4only.sender.test AAAA: NODATA")
        #expect(findings.ptr?.names == ["v4only.sender.test"])
    }

    @Test func dnsErrorsGive4xxNever5xx() async {
        let broken = InMemoryDNS(
            records: World.dns.records,
            faults: ["ip6.arpa": .servfail, "in-addr.arpa": .timeout, "sender.test": .servfail])
        let cases: [(ReceiverPolicy, String, String)] = [
            (
                ReceiverPolicy(checks: [.ptr]),
                "450 4.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.25]",
                "450 4.7.1 Client host rejected: cannot find your reverse hostname, [2001:db8:5::25]"
            ),
            (
                ReceiverPolicy(checks: [.fcrdns]),
                "450 4.7.25 Client host rejected: cannot find your hostname, [192.0.2.25]",
                "450 4.7.25 Client host rejected: cannot find your hostname, [2001:db8:5::25]"
            ),
            (
                ReceiverPolicy(checks: [.heloResolves]),
                "450 4.7.1 <mail.sender.test>: Helo command rejected: Host not found",
                "450 4.7.1 <mail.sender.test>: Helo command rejected: Host not found"
            ),
            (
                ReceiverPolicy(checks: [.heloMatches]),
                "450 4.7.1 <mail.sender.test>: Helo command rejected: does not match calling host",
                "450 4.7.1 <mail.sender.test>: Helo command rejected: does not match calling host"
            ),
        ]
        for (policy, v4, v6) in cases {
            let engine = World.engine(policy, dns: broken)
            #expect(await World.reply(engine, client: World.goodV4) == v4)
            #expect(await World.reply(engine, client: World.goodV6) == v6)
        }
    }

    @Test func forwardLookupErrorDuringFCrDNSIsTemporary() async {
        let broken = InMemoryDNS(records: World.dns.records, faults: ["mail.sender.test": .servfail])
        let engine = World.engine(ReceiverPolicy(checks: [.fcrdns]), dns: broken)
        #expect(
            await World.reply(engine, client: World.goodV6)
                == "450 4.7.25 Client host rejected: cannot find your hostname, [2001:db8:5::25]")
    }

    @Test func heloValidAndFQDN() async {
        let engine = World.engine(ReceiverPolicy(checks: [.heloValid, .heloFQDN]))
        #expect(await World.reply(engine, client: World.goodV4, helo: "mail.sender.test") == nil)
        #expect(await World.reply(engine, client: World.goodV4, helo: "[192.0.2.25]") == nil)
        #expect(await World.reply(engine, client: World.goodV6, helo: "[IPv6:2001:db8:5::25]") == nil)
        #expect(
            await World.reply(engine, client: World.goodV6, helo: "bad_host!")
                == "501 5.5.2 <bad_host!>: Helo command rejected: Invalid name")
        #expect(
            await World.reply(engine, client: World.goodV4, helo: "[2001:db8::1]")
                == "501 5.5.2 <[2001:db8::1]>: Helo command rejected: Invalid name")
        #expect(
            await World.reply(engine, client: World.goodV4, helo: "localhost")
                == "504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname")
        #expect(
            await World.reply(engine, client: World.goodV6, helo: "mailhost")
                == "504 5.5.2 <mailhost>: Helo command rejected: need fully-qualified hostname")
    }

    @Test func heloResolves() async {
        let engine = World.engine(ReceiverPolicy(checks: [.heloResolves]))
        #expect(await World.reply(engine, client: World.goodV4, helo: "mail.sender.test") == nil)
        #expect(await World.reply(engine, client: World.goodV6, helo: "mx-only.sender.test") == nil)
        #expect(await World.reply(engine, client: World.goodV6, helo: "[IPv6:2001:db8:5::25]") == nil)
        #expect(
            await World.reply(engine, client: World.goodV4, helo: "nowhere.sender.test")
                == "550 5.7.1 <nowhere.sender.test>: Helo command rejected: Host not found")
        #expect(
            await World.reply(engine, client: World.goodV6, helo: "nowhere.sender.test")
                == "550 5.7.1 <nowhere.sender.test>: Helo command rejected: Host not found")
    }

    @Test func heloMatches() async {
        let engine = World.engine(ReceiverPolicy(checks: [.heloMatches]))
        #expect(await World.reply(engine, client: World.goodV4, helo: "mail.sender.test") == nil)
        #expect(await World.reply(engine, client: World.goodV6, helo: "mail.sender.test") == nil)
        #expect(await World.reply(engine, client: World.goodV4, helo: "[192.0.2.25]") == nil)
        #expect(await World.reply(engine, client: World.goodV6, helo: "[IPv6:2001:db8:5::25]") == nil)
        #expect(
            await World.reply(engine, client: World.badV4, helo: "mail.sender.test")
                == "550 5.7.1 <mail.sender.test>: Helo command rejected: does not match calling host")
        #expect(
            await World.reply(engine, client: World.badV6, helo: "[IPv6:2001:db8:5::25]")
                == "550 5.7.1 <[IPv6:2001:db8:5::25]>: Helo command rejected: does not match calling host")
        #expect(
            await World.reply(engine, client: World.v6WithV4OnlyName, helo: "v4only.sender.test")
                == "550 5.7.1 <v4only.sender.test>: Helo command rejected: does not match calling host")
    }

    @Test func dnsblListedNotListedAndErrorIgnored() async {
        let policy = ReceiverPolicy(checks: [.dnsbl(zone: "bl.example.test")])
        let engine = World.engine(policy)
        #expect(await World.reply(engine, client: World.goodV4) == nil)
        #expect(await World.reply(engine, client: World.goodV6) == nil)
        #expect(
            await World.reply(engine, client: World.badV4)
                == "554 5.7.1 Service unavailable; Client host [198.51.100.7] blocked using bl.example.test")
        let listedV6 = InMemoryDNS(
            records: World.dns.records + [
                ResourceRecord(
                    owner: World.badV6.reversedLabels.joined(separator: ".") + ".bl.example.test",
                    data: .a(IPAddress("127.0.0.2")!))
            ])
        #expect(
            await World.reply(World.engine(policy, dns: listedV6), client: World.badV6)
                == "554 5.7.1 Service unavailable; Client host [2001:db8::66] blocked using bl.example.test")
        let broken = InMemoryDNS(records: World.dns.records, faults: ["bl.example.test": .servfail])
        #expect(await World.reply(World.engine(policy, dns: broken), client: World.badV4) == nil)
    }

    @Test func dnsblQueriesReversedNibbles() async {
        let session = World.engine(ReceiverPolicy(checks: [.dnsbl(zone: "bl.example.test")])).session(
            client: World.badV6)
        _ = await session.answer(.helo(name: "x.test", extended: true))
        _ = await session.evaluate()
        let query = await session.findings.dnsbl.first?.query
        #expect(query == "6.6.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.example.test")
    }

    @Test(
        arguments: [
            (SPFResult.pass, nil, nil),
            (.none, nil, "550 5.7.23 SPF check did not pass"),
            (.neutral, nil, "550 5.7.23 SPF check did not pass"),
            (.softfail, nil, "550 5.7.23 SPF check did not pass"),
            (.fail, "550 5.7.23 SPF fail - not authorized", "550 5.7.23 SPF check did not pass"),
            (.permerror, "550 5.5.2 SPF permanent error", "550 5.7.23 SPF check did not pass"),
            (.temperror, "451 4.4.3 SPF temporary error", "451 4.4.3 SPF temporary error"),
        ] as [(SPFResult, String?, String?)])
    func spfVerdictMapping(result: SPFResult, spf: String?, spfPass: String?) async {
        // The seam: a verdict straight to a reply.
        let verdict = SPFVerdict(result: result, domain: "sender.test", reason: "test")
        let policy = ReceiverPolicy()
        #expect(
            policy.reply(for: .spf, outcome: Check.spf.outcome(of: verdict), client: World.goodV6, helo: "h.test")?
                .description == spf)
        #expect(
            policy.reply(
                for: .spfPass, outcome: Check.spfPass.outcome(of: verdict), client: World.goodV6, helo: "h.test")?
                .description == spfPass)
        // And through the engine, in both families.
        for address in [World.goodV4, World.goodV6] {
            #expect(
                await World.reply(World.engine(ReceiverPolicy(checks: [.spf]), spf: result), client: address) == spf)
            #expect(
                await World.reply(World.engine(ReceiverPolicy(checks: [.spfPass]), spf: result), client: address)
                    == spfPass)
        }
    }

    @Test func firstFailingCheckDecides() async {
        let engine = World.engine(ReceiverPolicy(checks: [.ptr, .heloFQDN, .fcrdns]))
        #expect(
            await World.reply(engine, client: World.badV6, helo: "localhost")
                == "550 5.7.1 Client host rejected: cannot find your reverse hostname, [2001:db8::66]")
        #expect(
            await World.reply(engine, client: World.goodV6, helo: "localhost")
                == "504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname")
        let session = engine.session(client: World.goodV6)
        _ = await session.answer(.helo(name: "localhost", extended: true))
        _ = await session.evaluate()
        let ran = await session.findings.checks.map(\.check)
        #expect(ran == ["ptr", "helo-fqdn"])
    }

    @Test func checksAreAnsweredAtRcptByDefault() async {
        let engine = World.engine(ReceiverPolicy(checks: [.heloValid]))
        let result = await World.run(engine, client: World.goodV4, helo: "bad_host!")
        #expect(result?.0 == .rcpt)
        if case .reply(_, let cause) = result?.1 { #expect(cause == "helo-valid") } else { Issue.record("no reply") }
    }

    @Test func rejectAtDataAnswersAfterTheDot() async {
        let engine = World.engine(ReceiverPolicy(checks: [.fcrdns], rejectAt: .data))
        let result = await World.run(engine, client: World.badV4)
        #expect(result?.0 == .data)
        #expect(
            await World.reply(engine, client: World.badV4)
                == "550 5.7.25 Client host rejected: cannot find your hostname, [198.51.100.7]")
    }

    @Test func deferModeTurns5xxInto450() async {
        #expect(
            await World.reply(World.engine(ReceiverPolicy(checks: [.fcrdns], onFail: .defer)), client: World.badV6)
                == "450 4.7.25 Client host rejected: cannot find your hostname, [2001:db8::66]")
        #expect(
            await World.reply(
                World.engine(ReceiverPolicy(checks: [.heloFQDN], onFail: .defer)), client: World.goodV4,
                helo: "localhost") == "450 4.5.2 <localhost>: Helo command rejected: need fully-qualified hostname")
        #expect(
            await World.reply(
                World.engine(ReceiverPolicy(checks: [.spf], onFail: .defer), spf: .fail), client: World.goodV4)
                == "450 4.7.23 SPF fail - not authorized")
        // 4xx stay as they are.
        #expect(
            await World.reply(
                World.engine(ReceiverPolicy(checks: [.spf], onFail: .defer), spf: .temperror), client: World.goodV4)
                == "451 4.4.3 SPF temporary error")
    }

    @Test func findingsSummarizeTheDecision() async {
        let engine = World.engine(ReceiverPolicy(ipv6: [.fcrdns, .spf]))
        let session = engine.session(client: World.badV6)
        _ = await session.answer(.connect)
        _ = await session.answer(.helo(name: "mail.sender.test", extended: true))
        _ = await session.answer(.mail(reversePath: "alice@sender.test", helo: "mail.sender.test"))
        _ = await session.answer(
            .rcpt(forwardPath: "bob@example.test", reversePath: "alice@sender.test", helo: "mail.sender.test"))
        let lines = await session.findings.summaryLines
        #expect(lines.contains("PTR 2001:db8::66: NXDOMAIN"))
        #expect(lines.contains("FCrDNS: failed (no PTR)"))
        #expect(
            lines.last
                == "decision: 550 5.7.25 Client host rejected: cannot find your hostname, [2001:db8::66] (check fcrdns)"
        )
    }
}

@Suite("Policy engine: presets")
struct PresetReplyTests {
    @Test func openAcceptsEveryone() async {
        for client in [World.badV4, World.badV6] {
            #expect(await World.reply(World.engine(Preset.open.policy), client: client) == nil)
        }
    }

    @Test func reverse() async {
        let engine = World.engine(Preset.reverse.policy)
        #expect(await World.reply(engine, client: World.goodV6) == nil)
        #expect(
            await World.reply(engine, client: World.badV4)
                == "450 4.7.1 Client host rejected: cannot find your reverse hostname, [198.51.100.7]")
        #expect(
            await World.reply(engine, client: World.badV6)
                == "450 4.7.1 Client host rejected: cannot find your reverse hostname, [2001:db8::66]")
    }

    @Test func fcrdnsAndStrict() async {
        #expect(
            await World.reply(World.engine(Preset.fcrdns.policy), client: World.badV6)
                == "450 4.7.25 Client host rejected: cannot find your hostname, [2001:db8::66]")
        #expect(
            await World.reply(World.engine(Preset.fcrdnsStrict.policy), client: World.badV6)
                == "550 5.7.25 Client host rejected: cannot find your hostname, [2001:db8::66]")
        #expect(
            await World.reply(World.engine(Preset.fcrdnsStrict.policy), client: World.badV4)
                == "550 5.7.25 Client host rejected: cannot find your hostname, [198.51.100.7]")
        #expect(await World.reply(World.engine(Preset.fcrdnsStrict.policy), client: World.goodV4) == nil)
    }

    @Test func heloStrict() async {
        let engine = World.engine(Preset.heloStrict.policy)
        #expect(await World.reply(engine, client: World.badV6, helo: "mail.sender.test") == nil)
        #expect(
            await World.reply(engine, client: World.goodV4, helo: "bad_host!")
                == "501 5.5.2 <bad_host!>: Helo command rejected: Invalid name")
        #expect(
            await World.reply(engine, client: World.goodV4, helo: "localhost")
                == "504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname")
        #expect(
            await World.reply(engine, client: World.goodV6, helo: "nowhere.sender.test")
                == "550 5.7.1 <nowhere.sender.test>: Helo command rejected: Host not found")
    }

    @Test func ipv6Strict() async {
        #expect(await World.reply(World.engine(Preset.ipv6Strict.policy), client: World.badV4) == nil)
        #expect(
            await World.reply(World.engine(Preset.ipv6Strict.policy), client: World.badV6)
                == "550 5.7.25 Client host rejected: cannot find your hostname, [2001:db8::66]")
        #expect(
            await World.reply(World.engine(Preset.ipv6Strict.policy, spf: .fail), client: World.goodV6)
                == "550 5.7.23 SPF fail - not authorized")
        #expect(await World.reply(World.engine(Preset.ipv6Strict.policy, spf: .softfail), client: World.goodV6) == nil)
    }

    @Test func gmailLike() async {
        let v4 = await World.run(World.engine(Preset.gmailLike.policy), client: World.badV4)
        #expect(v4?.0 == .data)
        #expect(
            await World.reply(World.engine(Preset.gmailLike.policy), client: World.badV4)
                == "550 5.7.25 The IP address sending this message does not have a PTR record setup, or the corresponding forward DNS entry does not point to the sending IP."
        )
        let v6Text =
            "550 5.7.1 Our system has detected that this message does not meet IPv6 sending guidelines regarding PTR records and authentication."
        #expect(await World.reply(World.engine(Preset.gmailLike.policy), client: World.badV6) == v6Text)
        #expect(
            await World.reply(World.engine(Preset.gmailLike.policy, spf: .softfail), client: World.goodV6) == v6Text)
        #expect(await World.reply(World.engine(Preset.gmailLike.policy), client: World.goodV6) == nil)
        // A DNS error keeps the standard 4xx wording.
        let broken = InMemoryDNS(records: World.dns.records, faults: ["ip6.arpa": .servfail])
        #expect(
            await World.reply(World.engine(Preset.gmailLike.policy, dns: broken), client: World.goodV6)
                == "450 4.7.25 Client host rejected: cannot find your hostname, [2001:db8:5::25]")
    }

    @Test func microsoftLike() async {
        #expect(await World.reply(World.engine(Preset.microsoftLike.policy), client: World.badV4) == nil)
        let ptr = await World.run(World.engine(Preset.microsoftLike.policy), client: World.badV6)
        #expect(ptr?.0 == .rcpt)
        #expect(
            await World.reply(World.engine(Preset.microsoftLike.policy), client: World.badV6)
                == "450 4.7.25 Service unavailable, sending IPv6 address [2001:db8::66] must have reverse DNS record.")
        #expect(
            await World.reply(World.engine(Preset.microsoftLike.policy, spf: .none), client: World.goodV6)
                == "450 4.7.26 Service unavailable, message sent over IPv6 [2001:db8:5::25] must pass either SPF or DKIM validation."
        )
        #expect(await World.reply(World.engine(Preset.microsoftLike.policy), client: World.goodV6) == nil)
    }
}
