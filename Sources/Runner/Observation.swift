import DNSCore
import SMTPProtocol
import Scenario
import Sender

extension ObservedDelivery {
    /// What the sender recorded, in the terms `expect` is written in.
    public init(_ report: DeliveryReport) {
        // The first recipient's: with several recipients the deciding attempt may have delivered
        // another one, and with none tried (null MX) the sender states the reply itself.
        self.init(
            outcome: report.outcome,
            family: report.decidingFamily,
            stage: report.decidingStage,
            reply: report.decidingReply,
            attempts: report.attempts.map {
                ObservedAttempt(family: $0.family, result: $0.result, stage: $0.stage, reply: $0.reply)
            })
    }
}

extension DeliveryRequest {
    /// The delivery a scenario's sender makes.
    public init(_ sender: SenderSpec, connectTimeout: Duration, replyTimeout: Duration) {
        let relay: Relay
        switch sender.relay {
        case .mx: relay = .mx
        case .host(let name): relay = .host(name)
        }
        self.init(
            sources: sender.addresses, prefer: sender.prefer, helo: sender.helo, mailFrom: sender.mailFrom,
            recipients: sender.rcptTo, relay: relay, message: sender.messageBytes(),
            connectTimeout: connectTimeout, replyTimeout: replyTimeout, skip5xxGreeting: sender.skips5xxGreeting)
        self.rawData = sender.message?.raw.map { Array($0.utf8) }
    }
}
