import DNSCore
import SMTPProtocol
import Scenario
import Delivery

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
        if let index = report.decidingAttempt, report.attempts.indices.contains(index) {
            tls = report.attempts[index].tls != nil
        }
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
        // `sender.postfix` settings the model honours override `sender.prefer` and the defaults.
        let settings = ModelledPostfixSettings(sender.postfix)
        let defaults = ClientLimits()
        let limits = ClientLimits(
            sessionLimit: settings.sessionLimit ?? defaults.sessionLimit,
            addressLimit: settings.addressLimit ?? defaults.addressLimit,
            skip5xxGreeting: settings.skip5xxGreeting ?? defaults.skip5xxGreeting)
        let prefer =
            settings.addressPreference.flatMap(AddressPreference.init(rawValue:)) ?? AddressPreference(sender.prefer)
        self.init(
            sources: sender.addresses, prefer: prefer, limits: limits, helo: sender.helo, mailFrom: sender.mailFrom,
            recipients: sender.rcptTo, relay: relay, message: sender.messageBytes(),
            connectTimeout: connectTimeout, replyTimeout: replyTimeout)
        self.rawData = sender.message?.raw.map { Array($0.utf8) }
        // A real proxy (`sender.proxy`) writes the header itself; the model then connects directly.
        let path: ProxiedSending.Path? =
            switch sender.modelledIdentity {
            case .socket: nil
            case .proxyV1: .proxyV1
            case .proxyV2: .proxyV2
            case .xclient: .xclient(name: sender.xclientName)
            }
        self.proxy = path.map { ProxiedSending(path: $0, addresses: sender.proxyAddresses) }
    }
}
