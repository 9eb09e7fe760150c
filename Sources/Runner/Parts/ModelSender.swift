import Scenario
import Sender

/// The built-in sender (`sender.mta: builtin`): the `postfix` delivery model of the scenario
/// format, an NIO SMTP client connecting from the sender's real source addresses.
public struct ModelSenders: SenderKind {
    public var mta: SenderMTA { .builtin }

    public init() {}

    public func unsupportedReason(for scenario: ScenarioCase, settings: RunConfiguration) -> String? { nil }

    public func makeSender(for scenario: ScenarioCase, settings: RunConfiguration) -> any Sender {
        ModelSender(request: DeliveryRequest(
            scenario.sender, connectTimeout: settings.connectTimeout, replyTimeout: settings.replyTimeout))
    }
}

final class ModelSender: Sender {
    let request: DeliveryRequest
    /// Its connections end with the delivery.
    var runsInWarmWorlds: Bool { true }

    init(request: DeliveryRequest) {
        self.request = request
    }

    func deliver(in environment: CaseEnvironment) async throws -> DeliveryReport {
        let agent = DeliveryAgent(lookup: environment.senderResolver, eventLoopGroup: environment.eventLoopGroup, logger: environment.logger)
        return await agent.deliver(request, in: environment.namespace)
    }
}
