import DNSCore
import Foundation
import Matrix
import Runner
import SMTPProtocol
import Scenario
import Testing

struct CellOutcomeTests {
    @Test func labelsSayOutcomeFamilyAndWhatMadeTheSenderMoveOn() {
        let scenario = Fixtures.scenario("x")
        #expect(CellOutcome(Fixtures.fallback(scenario)).label == "delivered/v4 after 450")
        #expect(CellOutcome(Fixtures.bounce(scenario)).label == "bounced/v6 550 5.7.25 at RCPT")
        #expect(CellOutcome(Fixtures.delivered6(scenario)).label == "delivered/v6")
        let deferred = Fixtures.result(
            scenario, .deferred,
            [
                Fixtures.attempt(.ipv6, .tempfailed, .rcpt, Fixtures.deferredV6),
                Fixtures.attempt(
                    .ipv4, .tempfailed, .rcpt,
                    SMTPReply(code: 450, enhanced: "4.7.1", "Helo command rejected: Host not found")),
            ])
        #expect(CellOutcome(deferred).label == "deferred/v4 450 4.7.1 at RCPT")
        let unreachable = Fixtures.result(
            scenario, .delivered,
            [
                Fixtures.attempt(.ipv6, .unreachable, .connect, nil),
                Fixtures.attempt(.ipv4, .accepted, .data, Fixtures.accepted),
            ])
        #expect(CellOutcome(unreachable).label == "delivered/v4 after no connection")
        #expect(
            CellOutcome(CaseResult(scenario: scenario, target: .postfix, status: .skipped("builtin only"))).label
                == "skipped")
        #expect(
            CellOutcome(CaseResult(scenario: scenario, target: .builtin, status: .error("unbound exited"))).label
                == "error")
    }

    @Test func theReplyLineIsTheDecidingReplyWithTheQueueIDMasked() {
        let outcome = CellOutcome(Fixtures.fallback(Fixtures.scenario("x")))
        #expect(outcome.replyLine == "250 2.0.0 Ok: queued as <id>")
        #expect(
            CellOutcome(Fixtures.bounce(Fixtures.scenario("x"))).replyLine
                == "550 5.7.25 Client host rejected: cannot find your hostname, [2001:db8:5::25]")
        let skipped = CellOutcome(
            CaseResult(
                scenario: Fixtures.scenario("x"), target: .postfix,
                status: .skipped("preset gmail-like is builtin only")))
        #expect(skipped.replyLine == "preset gmail-like is builtin only")
    }

    @Test func queueIDsOfEitherReceiverAreMasked() {
        let builtin = CellOutcome(
            status: .ran, reply: SMTPReply(code: 250, enhanced: "2.0.0", "Ok: queued as MXH1A2B3"))
        let postfix = CellOutcome(
            status: .ran, reply: SMTPReply(code: 250, enhanced: "2.0.0", "Ok: queued as 4ZxQ1p0Kz8z9"))
        #expect(builtin.reply?.text == "Ok: queued as <id>")
        #expect(builtin == postfix, "two runs of the same delivery compare equal")
        let other = CellOutcome(status: .ran, reply: SMTPReply(code: 250, "Message accepted"))
        #expect(other.reply?.text == "Message accepted")
    }

    @Test func aNoReplyCellSaysWhy() {
        let scenario = Fixtures.scenario("x")
        var failed = Fixtures.attempt(.ipv6, .unreachable, .connect, nil)
        failed.error = "connect to mx.example.test[2001:db8::10]:25: connection refused"
        let result = Fixtures.result(scenario, .deferred, [failed])
        let outcome = CellOutcome(result)
        #expect(outcome.label == "deferred/v6 at connect (no connection)")
        #expect(outcome.replyLine == "no reply: connect to mx.example.test[2001:db8::10]:25: connection refused")
    }

    @Test func attemptsReadBackFromTheirOneLineForm() {
        let texts = [
            "ipv6 tempfailed at rcpt 450 4.7.25", "ipv4 accepted at data 250 2.0.0", "ipv6 unreachable at connect",
            "ipv4 rejected at greeting 554",
        ]
        for text in texts {
            #expect(AttemptSummary(parsing: text)?.description == text)
        }
        #expect(AttemptSummary(parsing: "ipv5 accepted") == nil)
        #expect(AttemptSummary(parsing: "ipv4 exploded") == nil)
        #expect(AttemptSummary(parsing: "ipv4 accepted at nowhere") == nil)
        #expect(AttemptSummary(parsing: "ipv4 accepted at data 250 2.0.0 extra") == nil)
    }

    @Test func aCellSurvivesJSONUnchanged() throws {
        let scenario = Fixtures.scenario("x")
        var unreachable = Fixtures.attempt(.ipv6, .unreachable, .connect, nil)
        unreachable.error = "connection refused"
        let cells = [
            CellOutcome(Fixtures.fallback(scenario)), CellOutcome(Fixtures.bounce(scenario)),
            CellOutcome(Fixtures.result(scenario, .deferred, [unreachable])),
            CellOutcome(status: .ran, outcome: .bounced, reply: SMTPReply(code: 556, enhanced: "5.1.10", "")),
            CellOutcome(status: .ran, outcome: .deferred, reply: SMTPReply(code: 451, "")),
            CellOutcome(status: .skipped, reason: "preset gmail-like is builtin only"),
            CellOutcome(status: .error, reason: "unbound exited"),
        ]
        for cell in cells {
            let data = try JSONEncoder().encode(cell)
            #expect(
                try JSONDecoder().decode(CellOutcome.self, from: data) == cell,
                "\(String(decoding: data, as: UTF8.self))")
        }
    }

    @Test func aBadCellInJSONIsADecodingErrorNotACrash() {
        for json in [
            #"{"family": "ipv5"}"#, #"{"reply": "hello"}"#, #"{"stage": "lunch"}"#, #"{"attempts": ["ipv4 flew"]}"#,
            #"[1]"#,
        ] {
            #expect(throws: DecodingError.self) { try JSONDecoder().decode(CellOutcome.self, from: Data(json.utf8)) }
        }
    }
}
