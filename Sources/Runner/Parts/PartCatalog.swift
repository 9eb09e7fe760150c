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

    public init(receivers: [any ReceiverKind] = [], senders: [any SenderKind] = [], proxies: [any ProxyKind] = []) {
        self.receivers = Dictionary(receivers.map { ($0.target, $0) }, uniquingKeysWith: { $1 })
        self.senders = Dictionary(senders.map { ($0.mta, $0) }, uniquingKeysWith: { $1 })
        self.proxies = Dictionary(proxies.map { ($0.proxy, $0) }, uniquingKeysWith: { $1 })
    }

    /// This catalog with `receiver` added (or replacing the one with its target).
    public func adding(_ receiver: any ReceiverKind) -> PartCatalog {
        var copy = self
        copy.receivers[receiver.target] = receiver
        return copy
    }

    /// This catalog with `sender` added (or replacing the one with its MTA).
    public func adding(_ sender: any SenderKind) -> PartCatalog {
        var copy = self
        copy.senders[sender.mta] = sender
        return copy
    }

    /// This catalog with `proxy` added (or replacing the one with its name).
    public func adding(_ proxy: any ProxyKind) -> PartCatalog {
        var copy = self
        copy.proxies[proxy.proxy] = proxy
        return copy
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
