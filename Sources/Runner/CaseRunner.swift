import DNSCore
import DNSWorld
import Foundation
import Logging
import NIOCore
import NIOPosix
import Policy
import PostfixTarget
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
    /// A user's own main.cf (`--postfix-config`), the base of every Postfix receiver's configuration.
    public var postfixBase: MainCF?
    /// Cases with the same Postfix configuration share one running instance (`PostfixPool`,
    /// `PostfixSharing`) when `ScenarioRun` runs them; false (`--fresh-postfix`) starts a new
    /// Postfix for every case.
    public var sharePostfix: Bool

    public init(
        target: ReceiverTarget? = nil, resolverTimeout: Duration = .milliseconds(1500),
        connectTimeout: Duration = .seconds(3), replyTimeout: Duration = .seconds(15), artifactsDirectory: String? = nil,
        postfixBase: MainCF? = nil, sharePostfix: Bool = true
    ) {
        self.target = target
        self.resolverTimeout = resolverTimeout
        self.connectTimeout = connectTimeout
        self.replyTimeout = replyTimeout
        self.artifactsDirectory = artifactsDirectory
        self.postfixBase = postfixBase
        self.sharePostfix = sharePostfix
    }
}

/// Runs one case in a world of its own: a fresh namespace holding the receiver's and the sender's
/// addresses, an unbound serving the case's records, the MX, and the sender; then compares what
/// happened with `expect` and takes everything down, also when a step fails.
///
/// With a `pool`, a Postfix case whose configuration may be shared runs on a pooled host instead:
/// its namespace and running Postfix are lent for the case, and only the world (unbound, the
/// resolver, the sender's addresses) is the case's own (`runOnSharedPostfix`).
public struct CaseRunner: Sendable {
    public var configuration: RunConfiguration
    public var eventLoopGroup: any EventLoopGroup
    public var logger: Logger
    /// Shared Postfix instances; nil: every Postfix case starts its own. `ScenarioRun` makes one
    /// for its run when `configuration.sharePostfix` is set and none is given.
    public var pool: PostfixPool?

    public init(
        configuration: RunConfiguration, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "mxharness.runner"), pool: PostfixPool? = nil
    ) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.pool = pool
    }

    /// The receiver a case runs on.
    public func target(for scenario: ScenarioCase) -> ReceiverTarget {
        configuration.target ?? scenario.receiver.target ?? .builtin
    }

    /// The key of the pooled Postfix host a case would run on, nil when it would not run on one
    /// (another target, no pool, a configuration that is not shared or not supported).
    public func sharingKey(for scenario: ScenarioCase) -> String? {
        guard pool != nil, target(for: scenario) == .postfix else { return nil }
        let postfixConfiguration = postfixConfiguration(for: scenario)
        guard postfixConfiguration.unsupportedReason == nil else { return nil }
        return postfixConfiguration.sharingKey
    }

    public func run(_ scenario: ScenarioCase) async -> CaseResult {
        let target = target(for: scenario)
        var result = CaseResult(scenario: scenario, target: target, status: .passed)
        let postfixConfiguration = target == .postfix ? postfixConfiguration(for: scenario) : nil
        // The spec: a policy with no Postfix equivalent is skipped with the reason, never passed.
        if let reason = postfixConfiguration?.unsupportedReason {
            result.status = .skipped(reason)
            return result
        }
        if let postfixConfiguration {
            if let pool {
                if let key = postfixConfiguration.sharingKey {
                    return await runOnSharedPostfix(scenario, postfixConfiguration, key: key, pool: pool, result: result)
                }
                await pool.countPrivateInstance()
            }
            result.postfixHost = PostfixHostUse(
                instance: PostfixInstanceNumbers.next(), reused: false,
                privateReason: pool == nil ? "sharing is off" : postfixConfiguration.sharingRefusal ?? "not shareable")
        }
        let registry = ResourceRegistry.shared
        let clock = ContinuousClock()
        var phase = clock.now
        var directory: String?
        var namespace: NetworkNamespace?
        var world: DNSWorld?
        var resolver: DNSResolver?
        var mx: ReferenceMX?
        var postfix: PostfixInstance?
        do {
            directory = try registry.makeTemporaryDirectory("case")
            result.workDirectory = directory
            var addresses = scenario.receiver.addresses
            addresses += scenario.sender.addresses.values
            let namespaceName = registry.makeName("case")
            result.namespaceName = namespaceName
            namespace = try await NetworkNamespace.create(name: namespaceName, addresses: addresses, logger: logger)
            // unbound starts while the resolver and the receiver are set up; neither asks it anything
            // before the sender connects.
            world = try DNSWorld.launch(scenario.dns, in: namespace!, directory: directory!)
            resolver = try await DNSResolver(configuration: ResolverConfiguration(
                server: world!.resolverAddress, timeout: configuration.resolverTimeout, namespace: namespace, directory: directory!), logger: logger)
            if let postfixConfiguration {
                postfix = try await PostfixInstance.start(postfixConfiguration, in: namespace!, caseDirectory: directory!, logger: logger)
            } else {
                mx = ReferenceMX(
                    configuration: MXConfiguration(
                        hostname: scenario.receiver.hostname, policy: scenario.receiver.policy,
                        bareNewline: scenario.receiver.bareNewline ?? .normalize),
                    lookup: resolver!, eventLoopGroup: eventLoopGroup, logger: logger)
                try await mx!.start(listeningOn: scenario.receiver.addresses, port: 25, in: namespace)
            }
            try await world!.waitUntilServing()
            result.timings.setup = clock.now - phase
            phase = clock.now

            let agent = DeliveryAgent(lookup: resolver!, eventLoopGroup: eventLoopGroup, logger: logger)
            let request = DeliveryRequest(scenario.sender, connectTimeout: configuration.connectTimeout, replyTimeout: configuration.replyTimeout)
            let report = await agent.deliver(request, in: namespace)
            result.timings.exchange = clock.now - phase
            phase = clock.now

            if let mx {
                await mx.stop()
                result.sessions = mx.sessions
            }
            if let postfix {
                await postfix.stop()
                result.receiverLog = scenario.sender.addresses.values.sorted()
                    .flatMap { postfix.sessionLog(client: $0) }.joined(separator: "\n")
            }
            result.delivery = report
            var observed = ObservedDelivery(report)
            observed.messagesAccepted = mx.map { $0.sessions.reduce(0) { $0 + $1.messagesAccepted } }
                ?? PostfixLog.messagesAccepted(inSessionLog: result.receiverLog)
            result.observed = observed
            result.mismatches = scenario.expect.mismatches(observed)
            result.status = result.mismatches.isEmpty ? .passed : .failed
        } catch let error as PostfixConfigurationError where error.unsupportedReason != nil {
            result.status = .skipped(error.unsupportedReason!)
        } catch {
            result.status = .error("\(error)")
            if result.timings.setup == .zero { result.timings.setup = clock.now - phase }
            phase = clock.now
        }
        if let mx { await mx.stop() }
        if let postfix {
            if result.receiverLog.isEmpty { result.receiverLog = postfix.log.joined(separator: "\n") }
            await postfix.stop()
        }
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

    /// A Postfix case on a pooled host: the host's namespace gets this case's sender addresses
    /// (and loses the previous case's), this case's unbound and resolver start there in a folder
    /// of the case's own, and only the log lines after a mark taken at check-out are the case's.
    /// The host goes back to the pool when the case ran cleanly and the instance has settled
    /// (`PostfixInstance.settle`, `isHealthy`); otherwise it is stopped.
    func runOnSharedPostfix(
        _ scenario: ScenarioCase, _ postfixConfiguration: PostfixConfiguration, key: String, pool: PostfixPool, result initial: CaseResult
    ) async -> CaseResult {
        var result = initial
        let registry = ResourceRegistry.shared
        let clock = ContinuousClock()
        var phase = clock.now
        var directory: String?
        var host: PostfixHost?
        var mark = PostfixLogMark.start
        var world: DNSWorld?
        var resolver: DNSResolver?
        var reusable = false
        let senders = Array(scenario.sender.addresses.values)
        do {
            directory = try registry.makeTemporaryDirectory("case")
            result.workDirectory = directory
            let lease = try await pool.checkOut(postfixConfiguration, key: key)
            host = lease.host
            mark = lease.host.instance.logMark()
            result.namespaceName = lease.host.namespace.name
            result.postfixHost = PostfixHostUse(instance: lease.host.number, reused: lease.reused, privateReason: nil)
            try await lease.host.assignSenderAddresses(senders)
            world = try DNSWorld.launch(scenario.dns, in: lease.host.namespace, directory: directory!)
            resolver = try await DNSResolver(configuration: ResolverConfiguration(
                server: world!.resolverAddress, timeout: configuration.resolverTimeout, namespace: lease.host.namespace, directory: directory!), logger: logger)
            try await world!.waitUntilServing()
            result.timings.setup = clock.now - phase
            phase = clock.now

            let agent = DeliveryAgent(lookup: resolver!, eventLoopGroup: eventLoopGroup, logger: logger)
            let request = DeliveryRequest(scenario.sender, connectTimeout: configuration.connectTimeout, replyTimeout: configuration.replyTimeout)
            let report = await agent.deliver(request, in: lease.host.namespace)
            result.timings.exchange = clock.now - phase
            phase = clock.now

            // Every smtpd of this case gone (so none carries its caches into the next case) and its
            // log lines written, before they are read and before the host serves anyone else.
            let settled = await lease.host.instance.settle(since: mark)
            reusable = settled && lease.host.instance.isHealthy(since: mark)
            if !reusable {
                logger.debug("postfix host not reused", metadata: ["netns": "\(lease.host.namespace.name)", "settled": "\(settled)", "case": "\(scenario.name)"])
            }
            result.receiverLog = senders.sorted()
                .flatMap { lease.host.instance.sessionLog(client: $0, since: mark) }.joined(separator: "\n")
            result.delivery = report
            var observed = ObservedDelivery(report)
            observed.messagesAccepted = PostfixLog.messagesAccepted(inSessionLog: result.receiverLog)
            result.observed = observed
            result.mismatches = scenario.expect.mismatches(observed)
            result.status = result.mismatches.isEmpty ? .passed : .failed
        } catch let error as PostfixConfigurationError where error.unsupportedReason != nil {
            result.status = .skipped(error.unsupportedReason!)
        } catch {
            result.status = .error("\(error)")
            if result.timings.setup == .zero { result.timings.setup = clock.now - phase }
            phase = clock.now
        }
        if let host, result.receiverLog.isEmpty {
            result.receiverLog = host.instance.log(since: mark).lines.joined(separator: "\n")
        }
        resolver?.shutdown()
        if let world {
            await world.stop()
            result.queryLog = world.queryLog
        }
        if let artifacts = configuration.artifactsDirectory, let directory {
            result.artifactsDirectory = ArtifactWriter.write(result, from: directory, into: artifacts)
        }
        if let directory { registry.removeDirectory(directory) }
        if let host { await pool.checkIn(host, reusable: reusable) }
        result.timings.teardown = clock.now - phase
        return result
    }

    /// The Postfix receiver of a case: the scenario's policy and `receiver.postfix` over the user's
    /// main.cf, accepting mail for every recipient domain.
    func postfixConfiguration(for scenario: ScenarioCase) -> PostfixConfiguration {
        var domains: [String] = []
        for recipient in scenario.sender.rcptTo {
            if let at = recipient.lastIndex(of: "@") {
                let domain = DNSName.normalize(recipient[recipient.index(after: at)...])
                if !domains.contains(domain) { domains.append(domain) }
            }
        }
        return PostfixConfiguration(
            hostname: scenario.receiver.hostname, addresses: scenario.receiver.addresses, domains: domains,
            policy: scenario.receiver.policy, settings: scenario.receiver.postfix, base: configuration.postfixBase,
            bareNewline: (scenario.receiver.bareNewline ?? .normalize).rawValue)
    }
}
