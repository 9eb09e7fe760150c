import DNSCore
import MXHarnessTestKit
import SMTPProtocol
import SPF
import Testing
@testable import Policy

/// Format 1.2: `reject_at: helo` and `reject_at: mail` (Postfix's smtpd_delay_reject = no with the
/// restrictions in smtpd_helo_restrictions or smtpd_sender_restrictions).
@Suite("Policy engine: answers at HELO and at MAIL FROM")
struct PolicyHELOAndMAILStageTests {
    @Test func aClientCheckAtHELOAnswersEHLO() async throws {
        let engine = World.engine(ReceiverPolicy(checks: [.fcrdns], rejectAt: .helo))
        let (stage, verdict) = try #require(await World.run(engine, client: World.badV4))
        #expect(stage == .helo)
        #expect(
            verdict
                == .reply(
                    SMTPReply(
                        code: 550, enhanced: "5.7.25", "Client host rejected: cannot find your hostname, [198.51.100.7]"
                    ), cause: "fcrdns"))
        #expect(await World.run(engine, client: World.goodV4) == nil)
    }

    @Test func aHELOCheckAtHELOSeesTheNameJustGiven() async throws {
        let engine = World.engine(ReceiverPolicy(checks: [.heloFQDN], rejectAt: .helo))
        let (stage, verdict) = try #require(await World.run(engine, client: World.goodV4, helo: "localhost"))
        #expect(stage == .helo)
        #expect(
            verdict
                == .reply(
                    SMTPReply(
                        code: 504, enhanced: "5.5.2",
                        "<localhost>: Helo command rejected: need fully-qualified hostname"), cause: "helo-fqdn"))
        // A second HELO with a good name is judged again (RFC 5321 4.1.4: HELO starts over).
        let session = engine.session(client: World.goodV4)
        _ = await session.answer(.connect)
        #expect(await session.answer(.helo(name: "localhost", extended: true)) != .proceed)
        #expect(await session.answer(.helo(name: "mail.sender.test", extended: false)) == .proceed)
    }

    @Test func aCheckAtMAILAnswersMAILFROMAndNotHELO() async throws {
        let engine = World.engine(ReceiverPolicy(checks: [.ptr], rejectAt: .mail, onFail: .defer))
        let (stage, verdict) = try #require(await World.run(engine, client: World.badV6))
        #expect(stage == .mail)
        #expect(
            verdict
                == .reply(
                    SMTPReply(
                        code: 450, enhanced: "4.7.1",
                        "Client host rejected: cannot find your reverse hostname, [2001:db8::66]"), cause: "ptr"))
    }

    @Test func spfAtMAILSeesTheSender() async throws {
        let engine = World.engine(ReceiverPolicy(checks: [.spf], rejectAt: .mail), spf: .fail)
        let (stage, _) = try #require(await World.run(engine, client: World.goodV4))
        #expect(stage == .mail)
    }

    @Test(arguments: [RejectStage.helo, .mail])
    func rcptAndTheMessageAreNotAskedAgain(_ stage: RejectStage) async {
        // The failure answered its stage; a checked client that passes goes on through RCPT and DATA.
        let engine = World.engine(ReceiverPolicy(checks: [.fcrdns, .heloResolves], rejectAt: stage))
        #expect(await World.run(engine, client: World.goodV6) == nil)
        let opening = engine.opening(client: World.goodV6)
        #expect(
            opening.immediateVerdict(
                for: .rcpt(forwardPath: "bob@example.test", reversePath: "a@sender.test", helo: "h")) == .proceed)
        #expect(opening.immediateVerdict(for: .helo(name: "h", extended: true)) == nil)
    }

    @Test func whatEachStageCanAnswer() {
        #expect(
            RejectStage.helo.canAnswer(.heloValid) && RejectStage.helo.canAnswer(.fcrdns)
                && RejectStage.helo.canAnswer(.dnsbl(zone: "bl.test")))
        #expect(!RejectStage.helo.canAnswer(.spf) && !RejectStage.helo.canAnswer(.spfPass))
        #expect(RejectStage.mail.canAnswer(.spf) && RejectStage.mail.canAnswer(.heloResolves))
        #expect(!RejectStage.greeting.canAnswer(.heloFQDN))
        #expect(RejectStage.allCases.map(\.smtpStage) == [.rcpt, .data, .greeting, .helo, .mail])
    }
}
