import CertificateAuthority
import Logging
import NIOCore
import NIOPosix
import Scenario

/// Settings every case of a run shares.
public struct RunConfiguration: Sendable {
    /// Overrides each scenario's `receiver.target`.
    public var target: ReceiverTarget?
    /// Overrides each scenario's `sender.mta`.
    public var sender: SenderMTA?
    /// How long one DNS query may take before it counts as a timeout: the built-in MX's and
    /// sender's resolver wait this long, a Postfix receiver's resolv.conf `timeout:` is this
    /// rounded up to whole seconds (`ResolvConf.timeoutSeconds(for:)`).
    public var resolverTimeout: Duration
    /// `resolverTimeout` unless a run asks for another. The world's unbound answers from local
    /// data on the namespace's loopback, in well under a millisecond; the only query that gets no
    /// answer is one a `timeout` fault drops, and that one never gets one. So the wait decides
    /// nothing but how long a `timeout` case takes, and half a second leaves room for a machine
    /// busy enough to delay an answer a hundred times over.
    public static let defaultResolverTimeout: Duration = .milliseconds(500)
    public var connectTimeout: Duration
    public var replyTimeout: Duration
    /// Where per-case artifacts go (transcripts, unbound config and log, MX log); nil: none kept.
    public var artifactsDirectory: String?
    /// Cases whose parts allow it run in warm slots (`WarmWorlds`) when `ScenarioRun` runs them:
    /// a namespace and an unbound kept for the run, the world swapped between cases; false
    /// (`--fresh-worlds`) builds and removes a world for every case.
    public var warmWorlds: Bool = true
    /// The run's certificate authority: receivers' certificates come from it, senders trust it.
    public var authority = RunAuthority()

    public init(
        target: ReceiverTarget? = nil, sender: SenderMTA? = nil,
        resolverTimeout: Duration = RunConfiguration.defaultResolverTimeout,
        connectTimeout: Duration = .seconds(3), replyTimeout: Duration = .seconds(15), artifactsDirectory: String? = nil
    ) {
        self.target = target
        self.sender = sender
        self.resolverTimeout = resolverTimeout
        self.connectTimeout = connectTimeout
        self.replyTimeout = replyTimeout
        self.artifactsDirectory = artifactsDirectory
    }
}

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

    /// The receiver a case runs on.
    public func target(for scenario: ScenarioCase) -> ReceiverTarget {
        configuration.target ?? scenario.receiver.target ?? .builtin
    }

    /// The MTA that sends a case's mail.
    public func senderMTA(for scenario: ScenarioCase) -> SenderMTA {
        configuration.sender ?? scenario.sender.mta ?? .builtin
    }

    /// The key under which a case can share a running receiver with others, nil when it gets one
    /// of its own.
    public func sharingKey(for scenario: ScenarioCase) -> String? {
        parts.receivers[target(for: scenario)]?.sharingKey(for: scenario, settings: configuration)
    }

    /// What the receivers of `cases` find in their configurations before any case runs
    /// (`ReceiverKind.preflight`).
    public func preflight(_ cases: [ScenarioCase]) async -> [PreflightReport] {
        var reports: [PreflightReport] = []
        let targets = Set(cases.map(target(for:)))
        for target in targets.sorted(by: { $0.rawValue < $1.rawValue }) {
            guard let kind = parts.receivers[target] else { continue }
            reports += await kind.preflight(
                cases.filter { self.target(for: $0) == target }, settings: configuration, logger: logger)
        }
        return reports
    }

    /// Why `scenario`'s receiver or sender cannot run at all here (not in this build, not
    /// installed or unpacked, needs root: `ReceiverKind.unavailableReason`,
    /// `SenderKind.unavailableReason`); nil when both can. Such a case is skipped with the reason.
    public func unavailableReason(for scenario: ScenarioCase) -> String? {
        let target = target(for: scenario)
        guard let receiver = parts.receivers[target] else {
            return "receiver \(target): not in this build of mxharness"
        }
        let mta = senderMTA(for: scenario)
        guard let sender = parts.senders[mta] else { return "sender \(mta): not in this build of mxharness" }
        return unavailableReason(receiver: receiver, target: target, sender: sender, mta: mta)
    }

    /// Why `receiver` or `sender`, already looked up, cannot run here; nil when both can.
    private func unavailableReason(
        receiver: any ReceiverKind, target: ReceiverTarget, sender: any SenderKind, mta: SenderMTA
    ) -> String? {
        if let reason = receiver.unavailableReason(settings: configuration) { return "receiver \(target): \(reason)" }
        if let reason = sender.unavailableReason(settings: configuration) { return "sender \(mta): \(reason)" }
        return nil
    }

    /// Why none of `cases` can run here, one line per receiver or sender that cannot; empty when
    /// at least one case can (or there are none). A part the command chose (`--target`,
    /// `--sender`) that cannot run leaves no case to run; a part only some cases name themselves
    /// (`receiver.target`, `sender.mta`) skips just those cases, so a library with a case for an
    /// MTA this machine lacks still runs the rest.
    public func unavailable(_ cases: [ScenarioCase]) -> [String] {
        var reasons: [String] = []
        for scenario in cases {
            guard let reason = unavailableReason(for: scenario) else { return [] }
            if !reasons.contains(reason) { reasons.append(reason) }
        }
        return reasons.sorted()
    }

    /// Cases with the same key are best run one after another on one slot: those that share a
    /// receiver (`sharingKey`), and, in warm slots, those with the same addresses (a slot then
    /// needs no address removed between them, which is the slow part of swapping worlds).
    func placementKey(for scenario: ScenarioCase) -> String? {
        if let key = sharingKey(for: scenario) { return key }
        guard warmWorlds != nil || configuration.warmWorlds else { return nil }
        let addresses = Set(scenario.receiver.addresses + scenario.sender.addresses.values)
        return "addresses " + addresses.sorted().map(\.description).joined(separator: " ")
    }

    public func run(_ scenario: ScenarioCase) async -> CaseResult {
        let target = target(for: scenario)
        let mta = senderMTA(for: scenario)
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
        if let reason = unavailableReason(receiver: receiverKind, target: target, sender: senderKind, mta: mta)
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
            var evidence = await environment.receiver.evidence(of: environment.clientAddresses)
            if let proxyLines = await environment.proxy?.evidence(), !proxyLines.isEmpty {
                evidence = ProxiedEvidence(receiver: evidence, proxyLines: proxyLines)
            }
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
        if !clean, let evidence = await environment.receiver.failureEvidence() { result.evidence = evidence }
        result.receiverInstance = environment.receiver.instanceUse
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
