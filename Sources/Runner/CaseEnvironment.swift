import DNSCore
import DNSSEC
import DNSWorld
import Foundation
import Logging
import NIOCore
import Resolver
import Sandbox
import Scenario

/// One case's world and the parts that play in it: a work folder, a network namespace holding the
/// receiver's and the sender's addresses, the scenario's DNS served by unbound, a resolver for it,
/// the receiver, a real proxy when the scenario puts one in front of it, and the sender.
///
/// `setUp` builds them in that order; `tearDown` takes down whatever was built, in reverse order,
/// on every path: after a delivery, after any step threw, and after the task was cancelled. It is
/// the one place a case's resources are released. A namespace lent by a shared receiver
/// (`Receiver.hostNamespace`) is given back by the receiver's `stop`, not destroyed; a warm slot
/// (`WarmWorlds`, when the run keeps them and both parts can run in one) goes back to the run's
/// slots with the world unloaded at the next case's `setUp`.
public final class CaseEnvironment: @unchecked Sendable {
    public let scenario: ScenarioCase
    public let settings: RunConfiguration
    public let eventLoopGroup: any EventLoopGroup
    public let logger: Logger
    public let receiver: any Receiver
    public let sender: any Sender
    /// A real proxy between them (`sender.proxy`), nil when there is none.
    public let proxy: (any CaseProxy)?
    let warmWorlds: WarmWorlds?

    // Set by `setUp`, one step at a time, from the one task that runs the case; read by the
    // parts and by `tearDown` from that same task.
    private var parts = BuiltParts()

    private struct BuiltParts {
        var directory: String?
        var namespace: NetworkNamespace?
        var ownsNamespace = false
        var world: DNSWorld?
        /// The world's validating twin (`DNSWorld.launchValidatingTwin`), for the parts that read
        /// resolv.conf when their resolver validates (`needsValidatingServer`).
        var twin: DNSWorld?
        var slot: WarmSlot?
        /// The warm unbound of a namespace the receiver lent (`Receiver.lentDNS`).
        var lentDNS: WarmDNSWorld?
        /// One libunbound resolver per kind the case's parts use (`receiver.resolver`,
        /// `sender.resolver`).
        var resolvers: [ResolverValidation: DNSResolver] = [:]
        /// `proxy.start` was called (and so `proxy.stop` is owed).
        var proxyStarted = false
    }

    init(
        scenario: ScenarioCase, settings: RunConfiguration, receiver: any Receiver, sender: any Sender,
        proxy: (any CaseProxy)? = nil,
        warmWorlds: WarmWorlds?, eventLoopGroup: any EventLoopGroup, logger: Logger
    ) {
        self.proxy = proxy
        self.warmWorlds = warmWorlds
        self.scenario = scenario
        self.settings = settings
        self.receiver = receiver
        self.sender = sender
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    /// The case's work folder (unbound's configuration and log, a real MTA's files).
    public var directory: String {
        guard let directory = parts.directory else {
            preconditionFailure("CaseEnvironment.directory read before setUp")
        }
        return directory
    }

    /// The namespace every process of the case runs in.
    public var namespace: NetworkNamespace {
        guard let namespace = parts.namespace else {
            preconditionFailure("CaseEnvironment.namespace read before setUp")
        }
        return namespace
    }

    /// Where the scenario's DNS is served in the namespace (unbound on port 53).
    public var resolverAddress: IPAddress {
        guard let address = parts.world?.resolverAddress ?? (parts.slot?.dns ?? parts.lentDNS)?.resolverAddress else {
            preconditionFailure("CaseEnvironment.resolverAddress read before setUp")
        }
        return address
    }

    /// The name server a real receiver's resolv.conf names: the world's validating twin when
    /// `receiver.resolver: validating` in a signed world, else the world's unbound (an unsigned
    /// world's answers are the same from both: nothing is authenticated, nothing is bogus).
    public var receiverNameserver: IPAddress { nameserver(scenario.receiver.resolver) }

    /// The name server a real sender's resolv.conf names (`sender.resolver`).
    public var senderNameserver: IPAddress { nameserver(scenario.sender.resolver) }

    private func nameserver(_ validation: ResolverValidation) -> IPAddress {
        validation == .validating ? parts.twin?.resolverAddress ?? resolverAddress : resolverAddress
    }

    /// Whether a case's world needs its validating twin: a signed world and a validating
    /// resolver on either side. Such a case runs in a fresh world (no warm slot, no lent
    /// namespace), whose twin `setUp` starts.
    public static func needsValidatingServer(_ scenario: ScenarioCase) -> Bool {
        scenario.dns.isSigned && (scenario.receiver.resolver == .validating || scenario.sender.resolver == .validating)
    }

    /// The receiver's resolver (`receiver.resolver`): libunbound asking only the world's
    /// unbound, as a real MTA's lookups go, and validating from the world's trust anchor when the
    /// scenario says so.
    public var receiverResolver: DNSResolver { resolver(scenario.receiver.resolver) }

    /// The sender's resolver (`sender.resolver`).
    public var senderResolver: DNSResolver { resolver(scenario.sender.resolver) }

    /// The receiver's resolver, for parts that take one resolver.
    public var resolver: DNSResolver { receiverResolver }

    private func resolver(_ validation: ResolverValidation) -> DNSResolver {
        guard let resolver = parts.resolvers[validation] else {
            preconditionFailure("CaseEnvironment.resolver read before setUp")
        }
        return resolver
    }

    /// The addresses the sender connects from, and its proxy's (`sender.proxy_address`) when a
    /// proxy, modelled or real, connects for it.
    public var clientAddresses: [IPAddress] {
        let proxies = scenario.sender.connectsFromProxy ? Array(scenario.sender.proxyAddresses.values) : []
        return Array(Set(scenario.sender.addresses.values).union(proxies)).sorted()
    }

    /// Builds the world and starts the receiver; on a throw, what was built stays recorded for
    /// `tearDown`.
    func setUp() async throws {
        let clock = ContinuousClock()
        var step = clock.now
        func done(_ name: String) {
            let now = clock.now
            steps[name, default: .zero] += now - step
            step = now
        }
        let registry = ResourceRegistry.shared
        let directory = try registry.makeTemporaryDirectory("case")
        parts.directory = directory
        done("folder")
        let addresses =
            scenario.receiver.addresses + clientAddresses.filter { !scenario.receiver.addresses.contains($0) }
        if let lent = try await receiver.hostNamespace(clientAddresses: clientAddresses) {
            parts.namespace = lent
            parts.lentDNS = receiver.lentDNS
            done("namespace")
        } else if let warmWorlds, receiver.runsInWarmWorlds, sender.runsInWarmWorlds, proxy?.runsInWarmWorlds ?? true,
            WarmDNSWorld.canLoad(scenario.dns),
            !Self.needsValidatingServer(scenario)
        {
            let slot = try await warmWorlds.checkOut(for: Set(addresses))
            parts.slot = slot
            parts.namespace = slot.namespace
            done("namespace")
            try await slot.prepare(addresses: addresses, world: scenario.dns)
            done("addresses and world")
        } else {
            parts.namespace = try await NetworkNamespace.create(
                name: registry.makeName("case"), addresses: addresses, logger: logger)
            parts.ownsNamespace = true
            done("namespace")
        }
        // A fresh unbound starts while the resolver and the receiver are set up; neither asks it
        // anything before the sender connects.
        if parts.slot == nil && parts.lentDNS == nil {
            let world = try DNSWorld.launch(scenario.dns, in: namespace, directory: directory)
            parts.world = world
            if Self.needsValidatingServer(scenario) {
                parts.twin = try world.launchValidatingTwin()
            }
            done("unbound")
        }
        // Validating resolvers start from the world's trust anchor, which the root key decides.
        let anchor = WorldSigner.trustAnchor(for: scenario.dns)
        for validation in Set([scenario.receiver.resolver, scenario.sender.resolver]).sorted(by: {
            $0.rawValue < $1.rawValue
        }) {
            let kind = ResolverKind(timeout: settings.resolverTimeout, validation: validation, trustAnchor: anchor)
            if let slot = parts.slot {
                parts.resolvers[validation] = try await slot.takeResolver(kind, logger: logger)
            } else {
                parts.resolvers[validation] = try await DNSResolver(
                    configuration: kind.configuration(
                        server: resolverAddress, namespace: namespace, directory: directory), logger: logger)
            }
        }
        done("resolver")
        try await receiver.start(in: self)
        done("receiver")
        if let world = parts.world {
            try await world.waitUntilServing()
            try await parts.twin?.waitUntilServing()
            done("unbound ready")
        }
        if let proxy {
            parts.proxyStarted = true
            try await proxy.start(in: self)
            done("proxy")
        }
    }

    /// Where `setUp`'s time went (`CaseTimings.setupSteps`); read once `setUp` returned or threw.
    private(set) var steps: [String: Duration] = [:]

    /// What the environment held when it was taken down.
    struct Remains {
        /// unbound's query log for the case.
        var queryLog = ""
        var namespaceName: String?
        var directory: String?
    }

    /// Takes down everything `setUp` built, in reverse order. `beforeRemoval` runs once every
    /// process has stopped and before the work folder goes (artifacts are copied from it then).
    func tearDown(clean: Bool, beforeRemoval: (_ directory: String, _ queryLog: String) -> Void) async -> Remains {
        var remains = Remains(namespaceName: parts.namespace?.name, directory: parts.directory)
        await sender.stop()
        if parts.proxyStarted { await proxy?.stop() }
        // A lent unbound serves the next case once the receiver is given back: its log first.
        let lentLog = parts.lentDNS?.queryLog
        let lentConfiguration = parts.lentDNS?.renderedConfiguration
        await receiver.stop(clean: clean)
        for resolver in parts.resolvers.values {
            if let slot = parts.slot { slot.giveBack(resolver) } else { resolver.shutdown() }
        }
        if let twin = parts.twin {
            await twin.stop()
        }
        if let world = parts.world {
            // A signed world's zone files are in memory, removed with the world: kept for the
            // artifacts first.
            if settings.artifactsDirectory != nil, let zones = world.zoneDirectory, let directory = parts.directory {
                try? FileManager.default.copyItem(atPath: zones, toPath: directory + "/zones")
            }
            await world.stop()
            // The twin's queries (a real MTA's, when its resolver validates) after the plain one's.
            remains.queryLog = world.queryLog + (parts.twin?.queryLog ?? "")
        }
        if let lentLog { remains.queryLog = lentLog }
        if let slot = parts.slot { remains.queryLog = slot.dns.queryLog }
        if let warm = parts.slot.map({ $0.dns.renderedConfiguration }) ?? lentConfiguration {
            // What a fresh world leaves in the work folder, for the artifacts.
            if settings.artifactsDirectory != nil, let directory = parts.directory {
                try? warm.write(toFile: directory + "/unbound.conf", atomically: false, encoding: .utf8)
                try? remains.queryLog.write(toFile: directory + "/unbound.log", atomically: false, encoding: .utf8)
                if let zones = (parts.slot?.dns ?? parts.lentDNS)?.zoneDirectory,
                    (parts.slot?.dns ?? parts.lentDNS)?.isSigned == true
                {
                    try? FileManager.default.copyItem(atPath: zones, toPath: directory + "/zones")
                }
            }
        }
        if let directory = parts.directory { beforeRemoval(directory, remains.queryLog) }
        if let slot = parts.slot, let warmWorlds { await warmWorlds.checkIn(slot, reusable: clean) }
        if parts.ownsNamespace, let namespace = parts.namespace { await namespace.destroy() }
        if let directory = parts.directory { ResourceRegistry.shared.removeDirectory(directory) }
        parts = BuiltParts()
        return remains
    }
}
