import CertificateAuthority
import DNSCore
import Delivery
import Logging
import NIOCore
import NIOPosix
import SMTPProtocol
import Scenario

/// Why a case is not run: a part cannot play it here (a policy the receiver cannot express). Thrown
/// by a part during set-up; the case is reported as skipped with the reason, never as passed.
public struct CaseSkipped: Error, Sendable, CustomStringConvertible {
    public var reason: String

    public init(reason: String) {
        self.reason = reason
    }

    public var description: String { reason }
}

/// Runs one case in a world of its own (`CaseEnvironment`) with the receiver and the sender its
/// scenario names, found in `parts`; then compares what happened with `expect`. Every kind of
/// receiver and sender, private or shared, goes through this one path.
public struct CaseRunner: Sendable {
    public var configuration: RunConfiguration
    public var parts: PartCatalog
    /// Warm slots cases run in, when the run keeps them (`ScenarioRun`, unless
    /// `RunConfiguration.warmWorlds` is off); nil: every case builds and removes its own world.
    public var warmWorlds: WarmWorlds?
    public var eventLoopGroup: any EventLoopGroup
    public var logger: Logger

    public init(
        configuration: RunConfiguration, parts: PartCatalog, warmWorlds: WarmWorlds? = nil,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "mxharness.runner")
    ) {
        self.configuration = configuration
        self.parts = parts
        self.warmWorlds = warmWorlds
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    public func run(_ scenario: ScenarioCase) async -> CaseResult {
        let target = configuration.target(for: scenario)
        let mta = configuration.senderMTA(for: scenario)
        var result = CaseResult(scenario: scenario, target: target, status: .passed)
        result.sender = mta
        guard let receiverKind = parts.receivers[target] else {
            result.status = .skipped("no \(target) receiver in this build of mxharness")
            return result
        }
        guard let senderKind = parts.senders[mta] else {
            result.status = .skipped("no \(mta) sender in this build of mxharness")
            return result
        }
        var proxyKind: (any ProxyKind)?
        let proxy = scenario.sender.proxy
        if scenario.sender.throughRealProxy || (scenario.sender.identity.usesProxy && !senderKind.writesProxyHeaders) {
            guard let kind = parts.proxies[proxy] else {
                result.status = .skipped("no \(proxy) proxy for a \(mta) sender in this build of mxharness")
                return result
            }
            proxyKind = kind
        }
        if let reason = parts.unavailableReason(for: scenario, settings: configuration)
            ?? receiverKind.unsupportedReason(for: scenario, settings: configuration)
            ?? senderKind.unsupportedReason(for: scenario, settings: configuration)
            ?? proxyKind?.unsupportedReason(for: scenario, settings: configuration)
            ?? Self.sharedResolvConfReason(
                scenario, receiverShares: receiverKind.resolvesThroughNamespaceResolvConf,
                senderShares: senderKind.resolvesThroughNamespaceResolvConf)
        {
            result.status = .skipped(reason)
            return result
        }
        let scenario: ScenarioCase
        do { scenario = try result.scenario.preparingDKIM().preparingTLSA(authority: configuration.authority) } catch {
            result.status = .error("\(error)")
            return result
        }
        let environment = CaseEnvironment(
            scenario: scenario, settings: configuration,
            receiver: receiverKind.makeReceiver(for: scenario, settings: configuration),
            sender: senderKind.makeSender(for: scenario, settings: configuration),
            proxy: proxyKind?.makeProxy(for: scenario, settings: configuration),
            warmWorlds: warmWorlds, eventLoopGroup: eventLoopGroup, logger: logger)
        let clock = ContinuousClock()
        var phase = clock.now
        var clean = false
        do {
            try await environment.setUp()
            result.timings.setup = clock.now - phase
            result.timings.setupSteps = environment.steps
            phase = clock.now
            let report = try await environment.deliver()
            result.timings.exchange = clock.now - phase
            phase = clock.now
            var (evidence, proxyLines) = try await environment.evidence()
            if !proxyLines.isEmpty { evidence = ProxiedEvidence(receiver: evidence, proxyLines: proxyLines) }
            result.timings.evidence = clock.now - phase
            result.evidence = evidence
            result.delivery = report
            var observed = ObservedDelivery(report)
            observed.messagesAccepted = evidence.messagesAccepted
            result.observed = observed
            result.mismatches = scenario.expect.mismatches(observed)
            result.status = result.mismatches.isEmpty ? .passed : .failed
            clean = true
        } catch let skipped as CaseSkipped {
            result.status = .skipped(skipped.reason)
        } catch {
            result.status = .error("\(error)")
            if result.timings.setup == .zero { result.timings.setup = clock.now - phase }
            phase = clock.now
        }
        if !clean, let evidence = await environment.failureEvidence() { result.evidence = evidence }
        result.receiverInstance = environment.instanceUse
        let artifacts = configuration.artifactsDirectory
        let senderFiles = environment.sender.artifactFiles
        let remains = await environment.tearDown(clean: clean) { directory, queryLog in
            result.queryLog = queryLog
            if let artifacts {
                result.artifactsDirectory = ArtifactWriter.write(
                    result, from: directory, into: artifacts, senderFiles: senderFiles)
            }
        }
        result.queryLog = remains.queryLog
        result.namespaceName = remains.namespaceName
        result.workDirectory = remains.directory
        result.timings.teardown = clock.now - phase
        return result
    }
}

/// A receiver's evidence with the log lines of the proxy in front of it (`sender.proxy`), each
/// marked `proxy: `, after the receiver's own.
struct ProxiedEvidence: ReceiverEvidence {
    var receiver: any ReceiverEvidence
    var proxyLines: [String]

    var messagesAccepted: Int? { receiver.messagesAccepted }
    var log: String {
        ([receiver.log] + proxyLines.map { "proxy: " + $0 }).filter { !$0.isEmpty }.joined(separator: "\n")
    }
    var decisions: [String] { receiver.decisions }
    var records: [any EvidenceRecord] { receiver.records }
    var engines: [EngineVerdict] { receiver.engines }
}

extension CaseRunner {

    /// Why a case cannot run when a receiver and a sender that both resolve through the case
    /// namespace's one resolv.conf ask for different resolvers in a signed world (in an unsigned
    /// world both answer alike): the first of them to start writes the file, and the other would
    /// silently resolve through the wrong one. Nil when nothing conflicts.
    static func sharedResolvConfReason(_ scenario: ScenarioCase, receiverShares: Bool, senderShares: Bool)
        -> String?
    {
        guard receiverShares, senderShares, scenario.dns.isSigned,
            scenario.receiver.resolver != scenario.sender.resolver
        else { return nil }
        return
            "receiver.resolver: \(scenario.receiver.resolver) and sender.resolver: \(scenario.sender.resolver) need two resolvers, but this receiver and this sender both resolve through the case namespace's one /etc/resolv.conf"
    }
}

// The case in the parts' terms and back: what the sender kinds deliver (`DeliveryRequest`), and
// what they report in the terms `expect` is written in (`ObservedDelivery`).

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
    /// The delivery a scenario's sender makes: `limits` and `prefer` (nil: `sender.prefer`) as the
    /// sender kind reads them from its own settings.
    public init(
        _ sender: SenderSpec, connectTimeout: Duration, replyTimeout: Duration, limits: ClientLimits = ClientLimits(),
        prefer: AddressPreference? = nil
    ) {
        let relay: Relay
        switch sender.relay {
        case .mx: relay = .mx
        case .host(let name): relay = .host(name)
        }
        self.init(
            sources: sender.addresses, prefer: prefer ?? AddressPreference(sender.prefer), limits: limits,
            helo: sender.helo, mailFrom: sender.mailFrom,
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
