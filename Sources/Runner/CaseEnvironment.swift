import DNSCore
import DNSSEC
import DNSWorld
import Delivery
import Foundation
import Logging
import NIOCore
import Resolver
import Sandbox
import Scenario

/// What a case's parts are given when they start (`Receiver.start`, `CaseProxy.start`,
/// `Sender.start`): the scenario, the case's folder and namespace, where its DNS is served and the
/// resolvers for it. `CaseEnvironment` makes it once the world is up, so every value is there.
public struct CaseContext: Sendable {
    public let scenario: ScenarioCase
    public let settings: RunConfiguration
    public let eventLoopGroup: any EventLoopGroup
    public let logger: Logger
    /// The case's work folder (unbound's configuration and log, a real MTA's files).
    public let directory: String
    /// The namespace every process of the case runs in.
    public let namespace: NetworkNamespace
    /// Where the scenario's DNS is served in the namespace (unbound on port 53).
    public let resolverAddress: IPAddress
    /// The name server a real receiver's resolv.conf names: the world's validating twin when
    /// `receiver.resolver: validating` in a signed world, else the world's unbound (an unsigned
    /// world's answers are the same from both: nothing is authenticated, nothing is bogus).
    public let receiverNameserver: IPAddress
    /// The receiver's resolv.conf: its nameserver, with the run's resolver timeout.
    public var receiverResolvConf: ResolvConf {
        ResolvConf(nameserver: receiverNameserver, timeout: settings.resolverTimeout)
    }
    /// The name server a real sender's resolv.conf names (`sender.resolver`).
    public let senderNameserver: IPAddress
    /// The receiver's resolver (`receiver.resolver`): libunbound asking only the world's
    /// unbound, as a real MTA's lookups go, and validating from the world's trust anchor when the
    /// scenario says so.
    public let receiverResolver: DNSResolver
    /// The sender's resolver (`sender.resolver`).
    public let senderResolver: DNSResolver

    /// The receiver's resolver, for parts that take one resolver.
    public var resolver: DNSResolver { receiverResolver }

    /// The addresses the sender connects from, and its proxy's (`sender.proxy_address`) when a
    /// proxy, modelled or real, connects for it.
    public var clientAddresses: [IPAddress] { CaseEnvironment.clientAddresses(of: scenario) }

    /// Whether a case's world needs its validating twin: a signed world and a validating
    /// resolver on either side. Such a case runs in a fresh world (no warm slot, no lent
    /// namespace), whose twin `CaseEnvironment.setUp` starts.
    public static func needsValidatingServer(_ scenario: ScenarioCase) -> Bool {
        scenario.dns.isSigned && (scenario.receiver.resolver == .validating || scenario.sender.resolver == .validating)
    }
}

/// Where a case's world runs: a namespace holding the receiver's and the clients' addresses and an
/// unbound serving the scenario's DNS. Each kind comes up whole or not at all (`setUp` undoes its
/// own steps when one throws) and has its own tear-down.
enum CaseWorld {
    /// A namespace and an unbound of the case's own.
    case fresh(FreshWorld)
    /// A warm slot of the run (`WarmWorlds`): its addresses swapped and its unbound loaded with
    /// the case's world; checked in again at tear-down.
    case warm(WarmSlot, WarmWorlds)
    /// A shared receiver's namespace with its warm unbound already serving the case's world
    /// (`Receiver.lend`); the running receiver's `stop` gives both back.
    case lent(NetworkNamespace, WarmDNSWorld)

    /// A fresh world: its namespace, its unbound and, when the case needs one, its validating
    /// twin.
    struct FreshWorld {
        let namespace: NetworkNamespace
        let dns: DNSWorld
        let twin: DNSWorld?

        /// Starts the world's unbound (and twin) in `namespace`; when that throws, what it started
        /// is stopped and the namespace destroyed.
        static func setUp(_ scenario: ScenarioCase, in namespace: NetworkNamespace, directory: String) async throws
            -> FreshWorld
        {
            var dns: DNSWorld?
            do {
                let world = try DNSWorld.launch(scenario.dns, in: namespace, directory: directory)
                dns = world
                let twin = CaseContext.needsValidatingServer(scenario) ? try world.launchValidatingTwin() : nil
                return FreshWorld(namespace: namespace, dns: world, twin: twin)
            } catch {
                await dns?.stop()
                await namespace.destroy()
                throw error
            }
        }
    }

    var namespace: NetworkNamespace {
        switch self {
        case .fresh(let world): world.namespace
        case .warm(let slot, _): slot.namespace
        case .lent(let namespace, _): namespace
        }
    }

    var resolverAddress: IPAddress {
        switch self {
        case .fresh(let world): world.dns.resolverAddress
        case .warm(let slot, _): slot.dns.resolverAddress
        case .lent(_, let dns): dns.resolverAddress
        }
    }

    /// The name server for parts whose resolver is `validation`.
    func nameserver(_ validation: ResolverValidation) -> IPAddress {
        if validation == .validating, case .fresh(let world) = self, let twin = world.twin {
            return twin.resolverAddress
        }
        return resolverAddress
    }

    /// A resolver of `kind` asking this world's unbound.
    func makeResolver(_ kind: ResolverKind, directory: String, logger: Logger) async throws -> DNSResolver {
        if case .warm(let slot, _) = self { return try await slot.takeResolver(kind, logger: logger) }
        return try await DNSResolver(
            configuration: kind.configuration(server: resolverAddress, namespace: namespace, directory: directory),
            logger: logger)
    }

    /// Ends a resolver `makeResolver` made.
    func release(_ resolver: DNSResolver) {
        if case .warm(let slot, _) = self { slot.giveBack(resolver) } else { resolver.shutdown() }
    }

    /// What a lent unbound logged and runs, read before the receiver gives it back.
    var lentSnapshot: (queryLog: String, configuration: String)? {
        guard case .lent(_, let dns) = self else { return nil }
        return (dns.queryLog, dns.renderedConfiguration)
    }

    /// Stops the world's own unbound (a fresh world's) and returns the case's query log; for a
    /// warm or lent unbound, writes into `directory` what a fresh world leaves there (its
    /// configuration, log and signed zones) when artifacts are kept.
    func stopDNS(lent: (queryLog: String, configuration: String)?, directory: String, keepsArtifacts: Bool) async
        -> String
    {
        switch self {
        case .fresh(let world):
            if let twin = world.twin { await twin.stop() }
            // A signed world's zone files are in memory, removed with the world: kept for the
            // artifacts first.
            if keepsArtifacts, let zones = world.dns.zoneDirectory {
                try? FileManager.default.copyItem(atPath: zones, toPath: directory + "/zones")
            }
            await world.dns.stop()
            // The twin's queries (a real MTA's, when its resolver validates) after the plain one's.
            return world.dns.queryLog + (world.twin?.queryLog ?? "")
        case .warm(let slot, _):
            let log = slot.dns.queryLog
            if keepsArtifacts {
                Self.writeWarmArtifacts(
                    slot.dns, configuration: slot.dns.renderedConfiguration,
                    log: log, into: directory)
            }
            return log
        case .lent(_, let dns):
            let log = lent?.queryLog ?? dns.queryLog
            if keepsArtifacts {
                Self.writeWarmArtifacts(
                    dns, configuration: lent?.configuration ?? dns.renderedConfiguration,
                    log: log, into: directory)
            }
            return log
        }
    }

    private static func writeWarmArtifacts(
        _ dns: WarmDNSWorld, configuration: String, log: String, into directory: String
    ) {
        try? configuration.write(toFile: directory + "/unbound.conf", atomically: false, encoding: .utf8)
        try? log.write(toFile: directory + "/unbound.log", atomically: false, encoding: .utf8)
        if dns.isSigned {
            try? FileManager.default.copyItem(atPath: dns.zoneDirectory, toPath: directory + "/zones")
        }
    }

    /// Gives the namespace back: a warm slot to the run's slots (reused only when `clean`), a
    /// namespace of the case's own destroyed; a lent one is the receiver's to give back.
    func release(clean: Bool) async {
        switch self {
        case .fresh(let world): await world.namespace.destroy()
        case .warm(let slot, let slots): await slots.checkIn(slot, reusable: clean)
        case .lent: break
        }
    }
}

/// One case's world and the parts that play in it: a work folder, the world (`CaseWorld`: a
/// namespace holding the receiver's and the sender's addresses and the scenario's DNS served by
/// unbound), a resolver for it, the receiver, a real proxy when the scenario puts one in front of
/// it, and the sender.
///
/// `setUp` builds them in that order (the sender starts with `deliver`); `tearDown` takes down
/// whatever was built, in reverse order, on every path: after a delivery, after any step threw,
/// and after the task was cancelled. It is the one place a case's resources are released. The
/// parts see the case through a `CaseContext`, made once the world and the resolvers are up; each
/// part's `start` returns it running, and the environment keeps that for the evidence and the stop.
final class CaseEnvironment: @unchecked Sendable {
    let scenario: ScenarioCase
    let settings: RunConfiguration
    let eventLoopGroup: any EventLoopGroup
    let logger: Logger
    let receiver: any Receiver
    let sender: any Sender
    /// A real proxy between them (`sender.proxy`), nil when there is none.
    let proxy: (any CaseProxy)?
    let warmWorlds: WarmWorlds?

    // What `setUp` built so far, one step at a time, from the one task that runs the case; read by
    // `tearDown` from that same task.
    private var directory: String?
    private var world: CaseWorld?
    /// The case's namespace, for the report, from when it exists (also when its world then failed).
    private var namespaceName: String?
    /// One libunbound resolver per kind the case's parts use (`receiver.resolver`,
    /// `sender.resolver`).
    private var resolvers: [ResolverValidation: DNSResolver] = [:]
    /// What the parts were given; set once the world and the resolvers are up.
    private(set) var context: CaseContext?
    /// The parts as their `start` (or the receiver's `lend`) returned them.
    private var runningReceiver: (any RunningReceiver)?
    private var runningProxy: (any RunningProxy)?
    private var runningSender: (any RunningSender)?
    /// What the receiver said when its `start` failed (`ReceiverStartFailure`).
    private var startFailureEvidence: (any ReceiverEvidence)?
    /// Which instance serves the case: a lent receiver's, else the receiver's own.
    private(set) var instanceUse: ReceiverInstanceUse?

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
        self.instanceUse = receiver.instanceUse
        self.sender = sender
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    /// The addresses the sender connects from, and its proxy's (`sender.proxy_address`) when a
    /// proxy, modelled or real, connects for it.
    static func clientAddresses(of scenario: ScenarioCase) -> [IPAddress] {
        let proxies = scenario.sender.connectsFromProxy ? Array(scenario.sender.proxyAddresses.values) : []
        return Array(Set(scenario.sender.addresses.values).union(proxies)).sorted()
    }

    var clientAddresses: [IPAddress] { Self.clientAddresses(of: scenario) }

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
        self.directory = directory
        done("folder")
        let addresses =
            scenario.receiver.addresses + clientAddresses.filter { !scenario.receiver.addresses.contains($0) }
        let lent = try await receiver.lend(clientAddresses: clientAddresses)
        if let lent {
            runningReceiver = lent.running
            instanceUse = lent.instanceUse
            world = .lent(lent.namespace, lent.dns)
            namespaceName = lent.namespace.name
            done("namespace")
        } else if let warmWorlds, receiver.runsInWarmWorlds, sender.runsInWarmWorlds,
            proxy?.runsInWarmWorlds ?? true, WarmDNSWorld.canLoad(scenario.dns),
            !CaseContext.needsValidatingServer(scenario)
        {
            let slot = try await warmWorlds.checkOut(for: Set(addresses))
            world = .warm(slot, warmWorlds)
            namespaceName = slot.namespace.name
            done("namespace")
            try await slot.prepare(addresses: addresses, world: scenario.dns)
            done("addresses and world")
        } else {
            let namespace = try await NetworkNamespace.create(
                name: registry.makeName("case"), addresses: addresses, logger: logger)
            namespaceName = namespace.name
            done("namespace")
            // A fresh unbound starts while the resolver and the receiver are set up; neither asks
            // it anything before the sender connects.
            world = .fresh(try await CaseWorld.FreshWorld.setUp(scenario, in: namespace, directory: directory))
            done("unbound")
        }
        guard let world else { throw CaseEnvironmentError.notSetUp }
        // Validating resolvers start from the world's trust anchor, which the root key decides.
        let anchor = WorldSigner.trustAnchor(for: scenario.dns)
        for validation in Set([scenario.receiver.resolver, scenario.sender.resolver]).sorted(by: {
            $0.rawValue < $1.rawValue
        }) {
            let kind = ResolverKind(timeout: settings.resolverTimeout, validation: validation, trustAnchor: anchor)
            resolvers[validation] = try await world.makeResolver(kind, directory: directory, logger: logger)
        }
        done("resolver")
        guard let receiverResolver = resolvers[scenario.receiver.resolver],
            let senderResolver = resolvers[scenario.sender.resolver]
        else { throw CaseEnvironmentError.notSetUp }
        let context = CaseContext(
            scenario: scenario, settings: settings, eventLoopGroup: eventLoopGroup, logger: logger,
            directory: directory, namespace: world.namespace, resolverAddress: world.resolverAddress,
            receiverNameserver: world.nameserver(scenario.receiver.resolver),
            senderNameserver: world.nameserver(scenario.sender.resolver), receiverResolver: receiverResolver,
            senderResolver: senderResolver)
        self.context = context
        if runningReceiver == nil {
            do {
                runningReceiver = try await receiver.start(in: context)
            } catch let failure as ReceiverStartFailure {
                startFailureEvidence = failure.evidence
                throw failure.error
            }
        }
        done("receiver")
        if case .fresh(let fresh) = world {
            try await fresh.dns.waitUntilServing()
            try await fresh.twin?.waitUntilServing()
            done("unbound ready")
        }
        if let proxy {
            runningProxy = try await proxy.start(in: context)
            done("proxy")
        }
    }

    /// The sender starts and delivers the scenario's message; once `setUp` returned.
    func deliver() async throws -> DeliveryReport {
        guard let context else { throw CaseEnvironmentError.notSetUp }
        let sender = try await sender.start(in: context)
        runningSender = sender
        return try await sender.deliver()
    }

    /// What the receiver saw of the case's clients, and the proxy's lines when there is one; once
    /// `deliver` returned.
    func evidence() async throws -> (receiver: any ReceiverEvidence, proxyLines: [String]) {
        guard let runningReceiver else { throw CaseEnvironmentError.notSetUp }
        let evidence = await runningReceiver.evidence(of: clientAddresses)
        return (evidence, await runningProxy?.evidence() ?? [])
    }

    /// What the receiver said when the case failed: its log once it ran, or what it said when its
    /// start failed.
    func failureEvidence() async -> (any ReceiverEvidence)? {
        if let runningReceiver { return await runningReceiver.failureEvidence() }
        return startFailureEvidence
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
        var remains = Remains(namespaceName: namespaceName, directory: directory)
        await runningSender?.stop()
        await runningProxy?.stop()
        // A lent unbound serves the next case once the receiver is given back: its log first.
        let lent = world?.lentSnapshot
        await runningReceiver?.stop(clean: clean)
        for resolver in resolvers.values { world?.release(resolver) }
        if let world, let directory {
            remains.queryLog = await world.stopDNS(
                lent: lent, directory: directory, keepsArtifacts: settings.artifactsDirectory != nil)
        }
        if let directory { beforeRemoval(directory, remains.queryLog) }
        await world?.release(clean: clean)
        if let directory { ResourceRegistry.shared.removeDirectory(directory) }
        self.directory = nil
        world = nil
        resolvers = [:]
        context = nil
        namespaceName = nil
        runningSender = nil
        runningProxy = nil
        runningReceiver = nil
        startFailureEvidence = nil
        return remains
    }
}

/// A step of `CaseEnvironment` found what an earlier one makes missing (a defect of the runner,
/// reported as the case's error rather than a crash).
enum CaseEnvironmentError: Error, CustomStringConvertible {
    case notSetUp

    var description: String { "the case's world or resolvers were not set up before they were used" }
}
