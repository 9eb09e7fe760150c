import DNSCore
import MXHarnessTestKit
import SMTPProtocol
import SPF
import Testing
@testable import Policy

/// Policy map 1.1: `reject_at: greeting` and the map's `reply:`.
@Suite("Policy engine: greeting rejects and site replies")
struct PolicyGreetingAndReplyTests {
    @Test func aGreetingRejectIsTheReplyToTheConnectionAndCloses() async throws {
        let engine = World.engine(ReceiverPolicy(checks: [.fcrdns], rejectAt: .greeting))
        let (stage, verdict) = try #require(await World.run(engine, client: World.badV4))
        #expect(stage == .greeting)
        #expect(
            verdict
                == .replyAndClose(
                    SMTPReply(
                        code: 554, enhanced: "5.7.25", "Client host rejected: cannot find your hostname, [198.51.100.7]"
                    ), cause: "fcrdns"))
        #expect(await World.run(engine, client: World.goodV4) == nil)
        // Connect goes to the session: the greeting waits for the checks.
        #expect(engine.opening(client: World.badV4).immediateVerdict(for: .connect) == nil)
    }

    @Test func aDeferringGreetingIs421() async {
        let engine = World.engine(ReceiverPolicy(checks: [.ptr], rejectAt: .greeting, onFail: .defer))
        #expect(
            await World.reply(engine, client: World.badV6)
                == "421 4.7.1 Client host rejected: cannot find your reverse hostname, [2001:db8::66]")
    }

    @Test func aDNSErrorAtTheGreetingIs421EvenWithASiteReply() async {
        let broken = InMemoryDNS(records: World.dns.records, faults: ["in-addr.arpa": .servfail])
        let site = CustomReply(code: 554, enhanced: "5.7.1", text: "Bad DNS PTR resource record")
        let engine = World.engine(ReceiverPolicy(checks: [.fcrdns], rejectAt: .greeting, siteReply: site), dns: broken)
        #expect(
            await World.reply(engine, client: World.goodV4)
                == "421 4.7.25 Client host rejected: cannot find your hostname, [192.0.2.25]")
    }

    @Test func theSiteReplyReplacesTheFailingChecksReplyWithItsOwnCode() async {
        let site = CustomReply(code: 550, enhanced: "5.7.25", text: "IP name lookup failed for [ADDR]")
        let greeting = World.engine(ReceiverPolicy(checks: [.ptr], rejectAt: .greeting, siteReply: site))
        #expect(
            await World.reply(greeting, client: World.badV4) == "550 5.7.25 IP name lookup failed for [198.51.100.7]")
        let noEnhanced = CustomReply(code: 450, enhanced: nil, text: "inconsistent or no DNS PTR record")
        let rcpt = World.engine(ReceiverPolicy(checks: [.fcrdns], onFail: .defer, siteReply: noEnhanced))
        #expect(await World.reply(rcpt, client: World.badV6) == "450 inconsistent or no DNS PTR record")
    }

    @Test(arguments: [Check.heloResolves, .spf, .spfPass, .heloMatches])
    func checksThatNeedTheHELOOrSenderAreNotKnownAtConnect(_ check: Check) {
        #expect(!check.isKnownAtConnect)
    }

    @Test func aLongReplyIsSentInLinesThatJoinBackToTheText() {
        let text = (1...60).map { "word\($0)" }.joined(separator: " ")
        let lines = ReceiverPolicy.wrap(text)
        #expect(lines.count > 1)
        #expect(lines.allSatisfy { $0.count <= 200 })
        #expect(lines.joined(separator: " ") == text)
        let policy = ReceiverPolicy(checks: [.ptr], siteReply: CustomReply(code: 550, enhanced: "5.7.1", text: text))
        #expect(policy.reply(for: .ptr, outcome: .fail, client: World.badV4, helo: "h")?.text == text)
    }
}
