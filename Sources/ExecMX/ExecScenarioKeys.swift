import Scenario

// The exec receiver's own key in the scenario format, `receiver.exec`, read, defaulted and
// explained here (the loader knows it from `ExecReceivers.scenarioKeys`, and that `target: exec`
// needs it from the key's `requiredBy`).

extension ReceiverTarget {
    /// The user's own MX started by the scenario's command (`ExecReceivers`).
    public static let exec = ReceiverTarget(named: "exec")
}

/// `receiver.exec`: bring your own MX. `start` is a shell command run in the case's network
/// namespace; `{config_dir}` and `{addresses}` in it are replaced before it runs.
public struct ExecReceiverSpec: PartSettings, Hashable {
    public enum Readiness: String, Sendable, Hashable, CaseIterable {
        /// Every receiver address answers a connection with 220.
        case smtpBanner = "smtp-banner"
    }

    public enum Stopping: String, Sendable, Hashable, CaseIterable {
        /// SIGTERM to the command's process group, SIGKILL after 5 seconds.
        case signal
    }

    public var start: String
    public var ready: Readiness
    public var stop: Stopping

    public init(start: String, ready: Readiness = .smtpBanner, stop: Stopping = .signal) {
        self.start = start
        self.ready = ready
        self.stop = stop
    }

    public var explained: ExplainedValue? {
        .blockMap([
            ExplainedEntry("start", .plain(start)), ExplainedEntry("ready", .plain(ready.rawValue)),
            ExplainedEntry("stop", .plain(stop.rawValue)),
        ])
    }

    static let shape = "{start: COMMAND, ready: smtp-banner, stop: signal}"

    /// The key `receiver.exec`, which `target: exec` needs.
    public static let scenarioKey = ScenarioKey(
        .receiver, "exec",
        requiredBy: ScenarioKey.Requirement(kind: "exec", message: "target exec needs receiver.exec (\(shape))")
    ) { decode($0) }

    /// `exec: {start: COMMAND, ready: smtp-banner, stop: signal}`.
    static func decode(_ value: ScenarioValue) -> ExecReceiverSpec? {
        guard let map = value.map(what: "how to run your MX (\(shape))") else { return nil }
        let start = map.required(
            "start", "the shell command that starts your MX ({config_dir} and {addresses} are replaced)"
        ).flatMap { $0.nonEmptyString(what: "a shell command") }
        let ready: Readiness?? = map.optional("ready").map { $0.choice("readiness check", Readiness.self) }
        let stop: Stopping?? = map.optional("stop").map { $0.choice("way to stop", Stopping.self) }
        map.finish()
        if case .some(.none) = ready { return nil }
        if case .some(.none) = stop { return nil }
        guard let start else { return nil }
        return ExecReceiverSpec(start: start, ready: (ready ?? nil) ?? .smtpBanner, stop: (stop ?? nil) ?? .signal)
    }
}

extension ReceiverSpec {
    /// `receiver.exec`; nil when the scenario does not set it.
    public var exec: ExecReceiverSpec? {
        get { settings("exec", as: ExecReceiverSpec.self) }
        set { settings["exec"] = newValue }
    }
}
