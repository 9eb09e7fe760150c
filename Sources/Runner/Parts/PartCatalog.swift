import Scenario

/// The receivers and senders a run can use, by the name scenarios give them. The runner looks a
/// case's parts up here and never branches on which they are, so a new receiver or sender is a new
/// type added to a catalog (`adding`), with no change to the runner, the reports or the matrix.
public struct PartCatalog: Sendable {
    public private(set) var receivers: [ReceiverTarget: any ReceiverKind]
    public private(set) var senders: [SenderMTA: any SenderKind]
    /// Real proxies between sender and receiver, by `sender.proxy` name (`model` is no part: the
    /// built-in sender writes the header itself).
    public private(set) var proxies: [SenderProxy: any ProxyKind]
    /// The receivers' and senders' names in the order the catalog lists them.
    public private(set) var receiverNames: [ReceiverTarget] = []
    public private(set) var senderNames: [SenderMTA] = []

    public init(receivers: [any ReceiverKind] = [], senders: [any SenderKind] = [], proxies: [any ProxyKind] = []) {
        self.receivers = [:]
        self.senders = [:]
        self.proxies = Dictionary(proxies.map { ($0.proxy, $0) }, uniquingKeysWith: { $1 })
        for receiver in receivers { add(receiver) }
        for sender in senders { add(sender) }
    }

    /// This catalog with `receiver` added (or replacing the one with its target).
    public func adding(_ receiver: any ReceiverKind) -> PartCatalog {
        var copy = self
        copy.add(receiver)
        return copy
    }

    /// This catalog with `sender` added (or replacing the one with its MTA).
    public func adding(_ sender: any SenderKind) -> PartCatalog {
        var copy = self
        copy.add(sender)
        return copy
    }

    private mutating func add(_ receiver: any ReceiverKind) {
        if receivers.updateValue(receiver, forKey: receiver.target) == nil { receiverNames.append(receiver.target) }
    }

    private mutating func add(_ sender: any SenderKind) {
        if senders.updateValue(sender, forKey: sender.mta) == nil { senderNames.append(sender.mta) }
    }

    /// What scenarios may name and set with this catalog: its receivers' and senders' names and
    /// their own keys (`ReceiverKind.scenarioKeys`), for `ScenarioLoader(kinds:)`.
    public var scenarioKinds: ScenarioKinds {
        ScenarioKinds(
            receivers: receiverNames, senders: senderNames,
            keys: receiverNames.flatMap { receivers[$0]?.scenarioKeys ?? [] }
                + senderNames.flatMap { senders[$0]?.scenarioKeys ?? [] })
    }

    /// This catalog with `proxy` added (or replacing the one with its name).
    public func adding(_ proxy: any ProxyKind) -> PartCatalog {
        var copy = self
        copy.proxies[proxy.proxy] = proxy
        return copy
    }

    /// Why `scenario`'s receiver or sender cannot run at all here under `settings` (not in this
    /// build, not installed or unpacked, needs root: `ReceiverKind.unavailableReason`,
    /// `SenderKind.unavailableReason`); nil when both can. Asked before any case runs (a command
    /// none of whose cases can run stops) and again as each case runs (such a case is skipped
    /// with the reason).
    public func unavailableReason(for scenario: ScenarioCase, settings: RunConfiguration) -> String? {
        let target = settings.target(for: scenario)
        guard let receiver = receivers[target] else { return "receiver \(target): not in this build of mxharness" }
        let mta = settings.senderMTA(for: scenario)
        guard let sender = senders[mta] else { return "sender \(mta): not in this build of mxharness" }
        if let reason = receiver.unavailableReason(settings: settings) { return "receiver \(target): \(reason)" }
        if let reason = sender.unavailableReason(settings: settings) { return "sender \(mta): \(reason)" }
        return nil
    }

    /// The catalog as one run uses it (`ReceiverKind.scopedToRun`).
    func scopedToRun(jobs: Int, cases: [ScenarioCase], settings: RunConfiguration) -> PartCatalog {
        var copy = self
        for (target, kind) in receivers {
            copy.receivers[target] = kind.scopedToRun(jobs: jobs, cases: cases, settings: settings)
        }
        return copy
    }

    func closeRun() async {
        for kind in receivers.values { await kind.closeRun() }
    }
}
