import CertificateAuthority
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

    /// The receiver a case runs on: `--target`, else the scenario's `receiver.target`, else the
    /// built-in MX.
    public func target(for scenario: ScenarioCase) -> ReceiverTarget {
        self.target ?? scenario.receiver.target ?? .builtin
    }

    /// The MTA that sends a case's mail: `--sender`, else the scenario's `sender.mta`, else the
    /// built-in sender.
    public func senderMTA(for scenario: ScenarioCase) -> SenderMTA {
        self.sender ?? scenario.sender.mta ?? .builtin
    }
}
