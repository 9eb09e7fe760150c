/// What a receiver or sender kind reads from its own scenario key (`receiver.NAME`,
/// `sender.NAME`). The kind's module defines the type and how it is read (`ScenarioKey`); the
/// model keeps it by key, opaque, so the format's core names no kind.
public protocol PartSettings: Sendable {
    /// How `explain` writes the key's value; nil leaves the key out (nothing set).
    var explained: ExplainedValue? { get }

    /// True when the value states the receiver's policy in the kind's own words (`receiver.postfix`):
    /// a matrix policy column, which replaces the case's policy, drops it. The default: false.
    var statesPolicy: Bool { get }
}

extension PartSettings {
    public var statesPolicy: Bool { false }
}

/// A kind's key whose value is a map of setting names to one-line values, kept as written
/// (`ScenarioValue.settingsMap`): an MTA's own settings, which kinds may read by the key's name.
public struct SettingsMap: PartSettings, Hashable {
    public var values: [String: String]

    public init(_ values: [String: String] = [:]) {
        self.values = values
    }

    /// Every setting in the order of its name; nothing when there is none.
    public var explained: ExplainedValue? {
        guard !values.isEmpty else { return nil }
        return .blockMap(values.keys.sorted().map { ExplainedEntry($0, .plain(values[$0] ?? "")) })
    }
}

/// A value as `explain` writes it in YAML.
public indirect enum ExplainedValue: Sendable {
    /// A string (quoted only where plain YAML cannot hold it).
    case plain(String)
    case flowList([ExplainedValue])
    case flowMap([ExplainedEntry])
    case blockMap([ExplainedEntry])
}

/// One key and its value in an `ExplainedValue` map.
public struct ExplainedEntry: Sendable {
    public var key: String
    public var value: ExplainedValue

    public init(_ key: String, _ value: ExplainedValue) {
        self.key = key
        self.value = value
    }
}

/// A part kind's own key in the scenario format: its name under `receiver` or `sender`, and how
/// its value is read. The loader knows the keys of the kinds it is given (`ScenarioKinds`); any
/// other key stays an unknown key.
public struct ScenarioKey: Sendable {
    public enum Part: Sendable, Hashable {
        case receiver, sender
    }

    public var part: Part
    /// `exim` for `receiver.exim`.
    public var name: String
    /// Reads the value (present and not null); nil after reporting what is wrong with it.
    public var decode: @Sendable (ScenarioValue) -> (any PartSettings)?
    /// The kind that cannot play the part without this key (`target: exec` needs `receiver.exec`):
    /// naming that kind without the key is a missing-key error at the kind's name.
    public var requiredBy: Requirement?

    /// A kind that needs the key, and the message when it is missing.
    public struct Requirement: Sendable {
        public var kind: String
        public var message: String

        public init(kind: String, message: String) {
            self.kind = kind
            self.message = message
        }
    }

    public init(
        _ part: Part, _ name: String, requiredBy: Requirement? = nil,
        decode: @escaping @Sendable (ScenarioValue) -> (any PartSettings)?
    ) {
        self.part = part
        self.name = name
        self.requiredBy = requiredBy
        self.decode = decode
    }
}

/// The receiver and sender names scenarios may use (`receiver.target`, `sender.mta`) and the
/// kinds' own keys: what the loader knows beyond the format's core. The executable makes it from
/// its part catalog; `core` is the format without any kind's own keys.
public struct ScenarioKinds: Sendable {
    /// In the order error messages list them.
    public var receivers: [ReceiverTarget]
    public var senders: [SenderMTA]
    public var keys: [ScenarioKey]

    public init(receivers: [ReceiverTarget], senders: [SenderMTA], keys: [ScenarioKey] = []) {
        self.receivers = receivers
        self.senders = senders
        self.keys = keys
    }

    /// The built-in parts and Postfix, with no kind's own key.
    public static let core = ScenarioKinds(receivers: [.builtin, .postfix], senders: [.builtin, .postfix])

    func keys(of part: ScenarioKey.Part) -> [ScenarioKey] { keys.filter { $0.part == part } }
}

extension ReceiverSpec {
    /// The value of the kind's key `key` (`receiver.KEY`), nil when the scenario does not set it.
    public func settings<T: PartSettings>(_ key: String, as type: T.Type = T.self) -> T? {
        settings[key] as? T
    }
}

extension SenderSpec {
    /// The value of the kind's key `key` (`sender.KEY`), nil when the scenario does not set it.
    public func settings<T: PartSettings>(_ key: String, as type: T.Type = T.self) -> T? {
        settings[key] as? T
    }
}
