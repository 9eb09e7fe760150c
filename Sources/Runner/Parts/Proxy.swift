import Scenario

/// A kind of proxy between the sender and the receiver (`sender.proxy`): a real HAProxy, or
/// whatever else a `PartCatalog` lists. The runner looks it up by name and never asks which it is.
public protocol ProxyKind: Sendable {
    /// The name scenarios use for it.
    var proxy: SenderProxy { get }

    /// Why this proxy cannot carry the scenario's connections here (an identity path it does not
    /// speak, the program not installed), nil when it can. Such a case is skipped with the reason.
    func unsupportedReason(for scenario: ScenarioCase, settings: RunConfiguration) -> String?

    /// The proxy of one case, not yet started (no I/O here).
    func makeProxy(for scenario: ScenarioCase, settings: RunConfiguration) -> any CaseProxy
}

/// The proxy of one case, not yet started. `CaseEnvironment` calls `start` once the receiver
/// listens and before the sender delivers; the running proxy's `evidence` after the delivery, and
/// its `stop` exactly once on every path.
public protocol CaseProxy: Sendable {
    /// From now until the running proxy's `stop`, every connection from the sender's addresses to
    /// a receiver address on port 25 reaches the receiver through the proxy, which connects from
    /// `sender.proxy_address` and names the sender as `sender.identity` says. Whole or not at all:
    /// when it throws, nothing of it is left in the namespace.
    func start(in context: CaseContext) async throws -> any RunningProxy

    /// As `Receiver.runsInWarmWorlds`. Default false.
    var runsInWarmWorlds: Bool { get }
}

extension CaseProxy {
    public var runsInWarmWorlds: Bool { false }
}

/// A proxy as `start` left it for one case.
public protocol RunningProxy: Sendable {
    /// What the proxy logged of the case's connections, once they are over, one line each.
    func evidence() async -> [String]

    /// Takes the proxy down and leaves nothing of it in the namespace.
    func stop() async
}
