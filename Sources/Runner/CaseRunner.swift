import DNSCore
import DNSWorld
import Foundation
import Logging
import NIOCore
import NIOPosix
import Policy
import ReferenceMX
import Resolver
import Sandbox
import Scenario
import Sender

/// Settings every case of a run shares.
public struct RunConfiguration: Sendable {
    /// Overrides each scenario's `receiver.target`.
    public var target: ReceiverTarget?
    /// How long one DNS query may take before it counts as a timeout (keeps `timeout` faults cheap).
    public var resolverTimeout: Duration
    public var connectTimeout: Duration
    public var replyTimeout: Duration
    /// Where per-case artifacts go (transcripts, unbound config and log, MX log); nil: none kept.
    public var artifactsDirectory: String?

    public init(
        target: ReceiverTarget? = nil, resolverTimeout: Duration = .milliseconds(1500),
        connectTimeout: Duration = .seconds(3), replyTimeout: Duration = .seconds(15), artifactsDirectory: String? = nil
    ) {
        self.target = target
        self.resolverTimeout = resolverTimeout
        self.connectTimeout = connectTimeout
        self.replyTimeout = replyTimeout
        self.artifactsDirectory = artifactsDirectory
    }
}

/// Runs one case in a world of its own: a fresh namespace holding the receiver's and the sender's
/// addresses, an unbound serving the case's records, the MX, and the sender; then compares what
/// happened with `expect` and takes everything down, also when a step fails.
public struct CaseRunner: Sendable {
    public var configuration: RunConfiguration
    public var eventLoopGroup: any EventLoopGroup
    public var logger: Logger

    public init(configuration: RunConfiguration, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger = Logger(label: "mxharness.runner")) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    public func run(_ scenario: ScenarioCase) async -> CaseResult {
        let target = configuration.target ?? scenario.receiver.target ?? .builtin
        var result = CaseResult(scenario: scenario, target: target, status: .passed)
        if target == .postfix {
            result.status = .skipped("--target postfix is not available yet (Postfix as the target arrives with its own issue)")
            return result
        }
        let registry = ResourceRegistry.shared
        let clock = ContinuousClock()
        var phase = clock.now
        var directory: String?
        var namespace: NetworkNamespace?
        var world: DNSWorld?
        var resolver: Resolver?
        var mx: ReferenceMX?
        do {
            directory = try registry.makeTemporaryDirectory("case")
            var addresses = scenario.receiver.addresses
            addresses += scenario.sender.addresses.values
            namespace = try await NetworkNamespace.create(name: registry.makeName("case"), addresses: addresses, logger: logger)
            world = try await DNSWorld.start(scenario.dns, in: namespace!, directory: directory!, logger: logger)
            resolver = try await Resolver(configuration: ResolverConfiguration(
                server: world!.resolverAddress, timeout: configuration.resolverTimeout, namespace: namespace, directory: directory!), logger: logger)
            mx = ReferenceMX(
                configuration: MXConfiguration(hostname: scenario.receiver.hostname, policy: scenario.receiver.policy),
                lookup: resolver!, eventLoopGroup: eventLoopGroup, logger: logger)
            try await mx!.start(listeningOn: scenario.receiver.addresses, port: 25, in: namespace)
            result.timings.setup = clock.now - phase
            phase = clock.now

            let agent = DeliveryAgent(lookup: resolver!, eventLoopGroup: eventLoopGroup, logger: logger)
            let request = DeliveryRequest(scenario.sender, connectTimeout: configuration.connectTimeout, replyTimeout: configuration.replyTimeout)
            let report = await agent.deliver(request, in: namespace)
            result.timings.exchange = clock.now - phase
            phase = clock.now

            await mx!.stop()
            result.delivery = report
            result.sessions = mx!.sessions
            let observed = ObservedDelivery(report)
            result.observed = observed
            result.mismatches = scenario.expect.mismatches(observed)
            result.status = result.mismatches.isEmpty ? .passed : .failed
        } catch {
            result.status = .error("\(error)")
            if result.timings.setup == .zero { result.timings.setup = clock.now - phase }
            phase = clock.now
        }
        if let mx { await mx.stop() }
        resolver?.shutdown()
        if let world {
            await world.stop()
            result.queryLog = world.queryLog
        }
        if let artifacts = configuration.artifactsDirectory, let directory {
            result.artifactsDirectory = ArtifactWriter.write(result, from: directory, into: artifacts)
        }
        if let namespace { await namespace.destroy() }
        if let directory { registry.removeDirectory(directory) }
        result.timings.teardown = clock.now - phase
        return result
    }
}
