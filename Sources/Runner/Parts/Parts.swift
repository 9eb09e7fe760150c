import DNSCore
import DNSWorld
import Delivery
import Logging
import Sandbox
import Scenario

/// A kind of receiving MTA a case can run on: the built-in MX, a real Postfix, and whatever else a
/// `PartCatalog` lists. `receiver.target` (or `--target`) names it; the runner, the reports and the
/// matrix never ask which one it is.
public protocol ReceiverKind: Sendable {
    /// The name scenarios and `--target` use for it.
    var target: ReceiverTarget { get }

    /// How headings name it ("Policy matrix: ... on Exim"). The default is the target's name.
    var displayName: String { get }

    /// Its own keys under `receiver` in scenarios (`receiver.exim`), read by the loader of a run
    /// whose catalog has this kind (`PartCatalog.scenarioKinds`). The default: none.
    var scenarioKeys: [ScenarioKey] { get }

    /// Its own configuration files as matrix columns (`--postfix-config`), nil (the default) when
    /// it reads none.
    var configurationColumns: ConfigurationColumns? { get }

    /// The receiver whose exact replies this one is written to give (the built-in MX answers as
    /// Postfix's smtpd does): parity holds the two to the same codes and attempts, not only the same
    /// outcome class. The default: nil (it words and numbers its replies its own way).
    var mirrors: ReceiverTarget? { get }

    /// True when it resolves through the case namespace's one `/etc/resolv.conf` (a real MTA
    /// started with `ip netns exec`, which binds `/etc/netns/NAME/resolv.conf` there). The
    /// default: false (it has a resolver of its own).
    var resolvesThroughNamespaceResolvConf: Bool { get }

    /// Why this receiver cannot play the scenario's receiver here (a policy it cannot express, the
    /// MTA not installed, a path that needs root), nil when it can. Such a case is skipped with the
    /// reason, never passed.
    func unsupportedReason(for scenario: ScenarioCase, settings: RunConfiguration) -> String?

    /// Why this receiver cannot run any case here at all (not installed or unpacked, or it needs
    /// root the harness does not have), nil when it can. A command whose cases use it stops with
    /// this reason before any case runs (exit 2); `unsupportedReason` is for what one case asks.
    /// The default: it always can.
    func unavailableReason(settings: RunConfiguration) -> String?

    /// Cases with the same key can share one running receiver, so a run starts them one after the
    /// other; nil (the default) when every case gets a receiver of its own.
    func sharingKey(for scenario: ScenarioCase, settings: RunConfiguration) -> String?

    /// The receiver for one case, not yet started (no I/O here).
    func makeReceiver(for scenario: ScenarioCase, settings: RunConfiguration) -> any Receiver

    /// This kind as one run of many cases uses it: where shared receivers are kept for the run. The
    /// default is the kind itself.
    func scopedToRun(jobs: Int, cases: [ScenarioCase], settings: RunConfiguration) -> any ReceiverKind

    /// Stops what `scopedToRun` kept for the run; called once when the run ends.
    func closeRun() async

    /// Checks, once before any case runs, the configurations this receiver would run `cases`
    /// with (a site's own Postfix configuration): one report per configuration, none when there is
    /// nothing to check. The default checks nothing.
    func preflight(_ cases: [ScenarioCase], settings: RunConfiguration, logger: Logger) async -> [PreflightReport]
}

/// What a receiver's preflight found in one configuration.
public struct PreflightReport: Sendable {
    /// The report as the user reads it (every finding with where it comes from).
    public var text: String
    /// False when the configuration cannot serve mail at all: the run stops before any case.
    public var canServeMail: Bool

    public init(text: String, canServeMail: Bool) {
        self.text = text
        self.canServeMail = canServeMail
    }
}

extension ReceiverKind {
    public var displayName: String { target.rawValue }
    public var scenarioKeys: [ScenarioKey] { [] }
    public var configurationColumns: ConfigurationColumns? { nil }
    public var mirrors: ReceiverTarget? { nil }
    public var resolvesThroughNamespaceResolvConf: Bool { false }
    public func unavailableReason(settings: RunConfiguration) -> String? { nil }
    public func preflight(_ cases: [ScenarioCase], settings: RunConfiguration, logger: Logger) async
        -> [PreflightReport]
    { [] }
    public func sharingKey(for scenario: ScenarioCase, settings: RunConfiguration) -> String? { nil }
    public func scopedToRun(jobs: Int, cases: [ScenarioCase], settings: RunConfiguration) -> any ReceiverKind { self }
    public func closeRun() async {}
}

/// The receiver of one case, not yet running: what its kind made of the scenario. `CaseEnvironment`
/// asks it, in this order: `lend` (once, before anything else exists), then, when nothing was
/// lent, `start` (once the namespace, the DNS world and the resolver are up). Either gives a
/// `RunningReceiver`, which the environment keeps and hands back to for the evidence and the stop:
/// the receiver itself holds nothing that starting it made.
public protocol Receiver: Sendable {
    /// A shared instance already running, lent for the case: its namespace holds `clientAddresses`
    /// and its warm unbound serves the case's world from now until the running receiver's `stop`.
    /// Nil (the default) when the case makes a namespace and a world of its own and `start`s the
    /// receiver in it. When it throws, it has given back whatever it took.
    func lend(clientAddresses: [IPAddress]) async throws -> LentReceiver?

    /// Starts listening on the scenario's receiver addresses, port 25, in `context.namespace`,
    /// resolving through `context.resolver` or the world's unbound. Whole or not at all: when it
    /// throws, what it had started is stopped; a `ReceiverStartFailure` carries what the receiver
    /// said (a daemon's output) for the report.
    func start(in context: CaseContext) async throws -> any RunningReceiver

    /// Which running instance serves the case, for a receiver of its own (`lend` tells a shared
    /// one's); nil (the default) when the kind does not number its instances.
    var instanceUse: ReceiverInstanceUse? { get }

    /// True when the receiver leaves nothing in the namespace once stopped (no files under
    /// /etc/netns, no processes), so the case may run in a warm slot (`WarmWorlds`) that served
    /// other cases before. Default false.
    var runsInWarmWorlds: Bool { get }
}

extension Receiver {
    public var runsInWarmWorlds: Bool { false }
    public func lend(clientAddresses: [IPAddress]) async throws -> LentReceiver? { nil }
    public var instanceUse: ReceiverInstanceUse? { nil }
}

/// A receiver as `start` (or `lend`) left it running for one case: what it saw, and its stop.
/// `CaseEnvironment` calls `evidence` after the delivery (or `failureEvidence` when something
/// failed) and `stop` exactly once on every path.
public protocol RunningReceiver: Sendable {
    /// What the receiver saw of `clients`, once their sessions are over: decision records, log
    /// lines, messages accepted.
    func evidence(of clients: [IPAddress]) async -> any ReceiverEvidence

    /// What the receiver said when something failed after it started (its log), for the report;
    /// nil (the default) when it has nothing to say.
    func failureEvidence() async -> (any ReceiverEvidence)?

    /// Takes the receiver down, or gives a shared one back (reused only when `clean`).
    func stop(clean: Bool) async
}

extension RunningReceiver {
    public func failureEvidence() async -> (any ReceiverEvidence)? { nil }
}

/// A shared receiver lent to one case (`Receiver.lend`), already running: the namespace it runs in,
/// its warm unbound already serving the case's world, the running receiver (whose `stop` gives
/// all of it back) and which instance it is.
public struct LentReceiver: Sendable {
    public var namespace: NetworkNamespace
    public var dns: WarmDNSWorld
    public var running: any RunningReceiver
    public var instanceUse: ReceiverInstanceUse

    public init(
        namespace: NetworkNamespace, dns: WarmDNSWorld, running: any RunningReceiver, instanceUse: ReceiverInstanceUse
    ) {
        self.namespace = namespace
        self.dns = dns
        self.running = running
        self.instanceUse = instanceUse
    }
}

/// `Receiver.start` failed, and the receiver had something to say (a daemon's output, its log):
/// the case's error is `error`'s, and `evidence` goes in the report as the receiver's.
public struct ReceiverStartFailure: Error, CustomStringConvertible {
    public var error: any Error
    public var evidence: any ReceiverEvidence

    public init(_ error: any Error, evidence: any ReceiverEvidence) {
        self.error = error
        self.evidence = evidence
    }

    public var description: String { "\(error)" }
}

/// What a receiver leaves behind for the report: the evidence of why it decided. Each kind of
/// receiver says it in its own terms (the built-in MX's decision records, a real MTA's log); the
/// runner and the reports read only what this protocol asks.
public protocol ReceiverEvidence: Sendable {
    /// Messages the receiver accepted in the case, when it can tell (`expect.messages_accepted`).
    var messagesAccepted: Int? { get }
    /// The receiver's own log lines for the case; empty when it keeps none.
    var log: String { get }
    /// Why the receiver decided, one text per session, for a failure's report ("why the MX
    /// decided"); empty when the receiver says it only in its log.
    var decisions: [String] { get }
    /// The same as data, for the JSON report (`sessions`) and the artifacts (`mx-sessions.json`).
    var records: [any EvidenceRecord] { get }
    /// What each policy engine beside the receiver (`receiver.engines`) made of each message it
    /// judged, in order; empty when none ran or none reports.
    var engines: [EngineVerdict] { get }
}

/// One message as a policy engine beside the receiver judged it (`receiver.engines`): its action,
/// its score against its threshold and the rules behind the score, and whether its action is what
/// the sender was answered.
public struct EngineVerdict: Sendable, Hashable, Codable, CustomStringConvertible {
    /// One rule that matched, with what it added to the score.
    public struct Symbol: Sendable, Hashable, Codable {
        public var name: String
        public var score: Double

        public init(name: String, score: Double) {
            self.name = name
            self.score = score
        }
    }

    /// The engine's name, as `receiver.engines` writes it.
    public var engine: String
    /// The engine's own name for what it did with the message (`no action`, `add header`,
    /// `soft reject`, `reject`, ...).
    public var action: String
    public var score: Double?
    /// The score at which the engine refuses the message; nil when it has none.
    public var rejectScore: Double?
    public var symbols: [Symbol]
    /// True when the engine refused or deferred the message, so that its reply is the receiver's.
    public var answered: Bool
    /// The receiver's id for the message (a queue id), when the engine was told it.
    public var messageID: String?
    /// The engine's own words for the message, when it has no score: the header field it had
    /// added, or the reply it gave (policyd-spf's `Received-SPF:` field or its refusal).
    public var text: String?

    public init(
        engine: String, action: String, score: Double? = nil, rejectScore: Double? = nil, symbols: [Symbol] = [],
        answered: Bool, messageID: String? = nil, text: String? = nil
    ) {
        self.engine = engine
        self.action = action
        self.score = score
        self.rejectScore = rejectScore
        self.symbols = symbols
        self.answered = answered
        self.messageID = messageID
        self.text = text
    }

    /// `rspamd 7.20/15.00 add header`: the engine, its score and threshold, its action.
    public var summary: String {
        var text = engine
        if let score {
            text += " " + String(format: "%.2f", score) + (rejectScore.map { "/" + String(format: "%.2f", $0) } ?? "")
        }
        return text + " " + action + (answered ? " (answered)" : "")
    }

    /// The summary, then the engine's words and every symbol with its score.
    public var description: String {
        let list = symbols.map { "\($0.name) " + String(format: "%.2f", $0.score) }.joined(separator: ", ")
        let details = (text.map { [$0] } ?? []) + (list.isEmpty ? [] : [list])
        return summary + (details.isEmpty ? "" : ": " + details.joined(separator: "; "))
    }
}

/// One session's record in a receiver's evidence, as the JSON report writes it.
public protocol EvidenceRecord: Encodable, Sendable {}

extension ReceiverEvidence {
    public var decisions: [String] { [] }
    public var records: [any EvidenceRecord] { [] }
    public var engines: [EngineVerdict] { [] }
}

/// A receiver's log and the messages it accepted: the evidence of a real MTA, or of a receiver
/// that keeps nothing else.
public struct LogEvidence: ReceiverEvidence {
    public var log: String
    public var messagesAccepted: Int?
    public var engines: [EngineVerdict]

    public init(log: String = "", messagesAccepted: Int? = nil, engines: [EngineVerdict] = []) {
        self.log = log
        self.messagesAccepted = messagesAccepted
        self.engines = engines
    }
}

/// Which running instance of a shared receiver served a case.
public struct ReceiverInstanceUse: Sendable, Hashable, Codable {
    /// The instance's number in this process (1, 2, ...): cases with the same number were served
    /// by the same running receiver.
    public var instance: Int
    /// True when the instance had served an earlier case.
    public var reused: Bool
    /// Why the case got an instance of its own instead of a shared one; nil for a shared one.
    public var privateReason: String?
    /// True when the instance was switched to the case's configuration with a reload first
    /// (`PostfixPool`); nil when it was not.
    public var reloaded: Bool?

    public init(instance: Int, reused: Bool, privateReason: String?, reloaded: Bool? = nil) {
        self.instance = instance
        self.reused = reused
        self.privateReason = privateReason
        self.reloaded = reloaded
    }

    public var isShared: Bool { privateReason == nil }
}

/// A kind of sending MTA: the built-in delivery model, or a real MTA. `sender.mta` (or
/// `--sender`) names it.
public protocol SenderKind: Sendable {
    var mta: SenderMTA { get }

    /// How headings name it (parity columns), as `ReceiverKind.displayName`. The default is the
    /// MTA's name.
    var displayName: String { get }

    /// Its own keys under `sender` in scenarios (`sender.exim`), as `ReceiverKind.scenarioKeys`.
    var scenarioKeys: [ScenarioKey] { get }

    /// As `ReceiverKind.resolvesThroughNamespaceResolvConf`.
    var resolvesThroughNamespaceResolvConf: Bool { get }

    /// As `ReceiverKind.mirrors`: the sender whose deliveries this one is written to make exactly
    /// (the built-in delivery model delivers as Postfix's smtp client does). The default: nil.
    var mirrors: SenderMTA? { get }

    /// Why this sender cannot send the scenario's mail here, nil when it can.
    func unsupportedReason(for scenario: ScenarioCase, settings: RunConfiguration) -> String?

    /// As `ReceiverKind.unavailableReason`: why this sender cannot send any case's mail here.
    func unavailableReason(settings: RunConfiguration) -> String?

    /// The sender for one case, not yet started.
    func makeSender(for scenario: ScenarioCase, settings: RunConfiguration) -> any Sender

    /// True when the sender itself writes what `sender.identity` says a proxy writes (the PROXY
    /// header, XCLIENT) with `sender.proxy: model`; false (the default) for a real MTA, which then
    /// gets the catalog's `model` proxy in front of it.
    var writesProxyHeaders: Bool { get }
}

extension SenderKind {
    public var displayName: String { mta.rawValue }
    public var writesProxyHeaders: Bool { false }
    public var scenarioKeys: [ScenarioKey] { [] }
    public var resolvesThroughNamespaceResolvConf: Bool { false }
    public var mirrors: SenderMTA? { nil }
}

extension SenderKind {
    public func unavailableReason(settings: RunConfiguration) -> String? { nil }
}

/// The sender of one case, not yet started. `CaseEnvironment` calls `start` once the receiver
/// (and a proxy) is up, then the running sender's `deliver`, and its `stop` exactly once on every
/// path.
public protocol Sender: Sendable {
    /// Readies the sender in the case (`context`), nothing sent yet. Whole or not at all: when it
    /// throws, nothing of it is left running.
    func start(in context: CaseContext) async throws -> any RunningSender

    /// As `Receiver.runsInWarmWorlds`. Default false.
    var runsInWarmWorlds: Bool { get }

    /// Files of the sender worth keeping with a case's artifacts (`--artifacts`): their paths in
    /// the case's folder, and the names they get there. Default none.
    var artifactFiles: [String: String] { get }
}

extension Sender {
    public var runsInWarmWorlds: Bool { false }
    public var artifactFiles: [String: String] { [:] }
}

/// A sender as `start` left it for one case.
public protocol RunningSender: Sendable {
    /// Delivers the scenario's message and reports every attempt.
    func deliver() async throws -> DeliveryReport

    /// Takes down whatever the sender started (a real MTA's processes).
    func stop() async
}

extension RunningSender {
    public func stop() async {}
}
