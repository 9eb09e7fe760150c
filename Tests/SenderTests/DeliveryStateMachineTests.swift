import DNSCore
import Delivery
import SMTPProtocol
import Testing
@testable import Sender

/// The attempt walk fed with hand-made attempt results (no client state machine, no sockets).
@Suite("DeliveryStateMachine")
struct DeliveryStateMachineTests {
    private let first = Destination(host: "mx.example.test", preference: 10, address: World.mx6)
    private let second = Destination(host: "mx.example.test", preference: 10, address: World.mx4)

    private func attempt(
        _ destination: Destination, _ result: AttemptResult, stage: SMTPStage, code: Int?,
        recipients: [(String, AttemptResult)]
    ) -> DeliveryAttempt {
        let reply = code.map { SMTPReply(code: $0, "scripted") }
        return DeliveryAttempt(
            family: destination.family, localAddress: nil, remoteAddress: destination.address,
            remoteHost: destination.host,
            stage: stage, reply: reply, result: result,
            recipients: recipients.map {
                SMTPClientRecipientStatus(address: $0.0, rcptReply: reply, outcome: $0.1, stage: stage, reply: reply)
            })
    }

    @Test func walksTheDestinationsInOrderAndSkipsFamiliesWithoutSource() {
        var machine = DeliveryStateMachine(
            recipients: ["bob@example.test"], destinations: [first, second], sources: [.ipv4: World.source4])
        #expect(machine.start() == .attempt(second, source: World.source4, recipients: ["bob@example.test"]))
        let action = machine.attemptFinished(
            attempt(second, .tempfailed, stage: .rcpt, code: 450, recipients: [("bob@example.test", .tempfailed)]))
        #expect(action == .finished)
        let report = machine.report(
            plan: DestinationPlan(source: .mx, destinations: [first, second], failure: nil, notes: []))
        #expect(report.outcome == .deferred)
        #expect(report.decidingAttempt == 0)
        #expect(report.decidingReply?.code == 450)
    }

    @Test func onlyOpenRecipientsGoToTheNextAddress() {
        var machine = DeliveryStateMachine(
            recipients: ["a@example.test", "b@example.test", "c@example.test"], destinations: [first, second],
            sources: World.bothSources)
        #expect(
            machine.start()
                == .attempt(
                    first, source: World.source6, recipients: ["a@example.test", "b@example.test", "c@example.test"]))
        let next = machine.attemptFinished(
            attempt(
                first, .accepted, stage: .data, code: 250,
                recipients: [
                    ("a@example.test", .tempfailed), ("b@example.test", .accepted), ("c@example.test", .rejected),
                ]))
        #expect(next == .attempt(second, source: World.source4, recipients: ["a@example.test"]))
        #expect(
            machine.attemptFinished(
                attempt(second, .accepted, stage: .data, code: 250, recipients: [("a@example.test", .accepted)]))
                == .finished)
        let report = machine.report(
            plan: DestinationPlan(source: .mx, destinations: [first, second], failure: nil, notes: []))
        #expect(report.recipients.map(\.outcome) == [.delivered, .delivered, .bounced])
        #expect(report.recipients.map(\.attemptIndex) == [1, 0, 0])
    }

    @Test func unreachableKeepsEveryoneOpenWithTheConnectError() {
        var machine = DeliveryStateMachine(
            recipients: ["a@example.test"], destinations: [first], sources: World.bothSources)
        _ = machine.start()
        var failed = attempt(
            first, .unreachable, stage: .connect, code: nil, recipients: [("a@example.test", .tempfailed)])
        failed.error = "connection refused"
        #expect(machine.attemptFinished(failed) == .finished)
        let report = machine.report(plan: DestinationPlan(source: .mx, destinations: [first], failure: nil, notes: []))
        #expect(report.outcome == .deferred)
        #expect(report.decidingStage == .connect)
        #expect(report.recipients.first?.diagnostic == "connection refused")
    }

    @Test func attemptWithoutStatusForARecipientLeavesItOpen() {
        var machine = DeliveryStateMachine(
            recipients: ["a@example.test"], destinations: [first, second], sources: World.bothSources)
        _ = machine.start()
        let odd = attempt(first, .tempfailed, stage: .greeting, code: 421, recipients: [])
        #expect(machine.attemptFinished(odd) == .attempt(second, source: World.source4, recipients: ["a@example.test"]))
    }

    @Test func planFailureDecidesEveryRecipientWithoutAttempts() {
        let machine = DeliveryStateMachine(
            recipients: ["a@example.test", "b@example.test"], destinations: [], sources: World.bothSources)
        let failure = DestinationPlan.Failure(
            outcome: .bounced, reply: SMTPReply(code: 556, enhanced: "5.1.10", "null MX"), note: "null MX")
        let report = machine.report(plan: DestinationPlan(source: .mx, destinations: [], failure: failure, notes: []))
        #expect(report.recipients.map(\.outcome) == [.bounced, .bounced])
        #expect(report.decidingAttempt == nil)
        #expect(report.note == "null MX")
    }
}
