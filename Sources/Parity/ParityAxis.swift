import Runner
import Scenario

/// What a parity run varies while the world stays the same: the receiver (`--targets`) or the
/// sender (`--sender`). Each side is one run of every case.
public enum ParityAxis: Sendable, Hashable {
    case receivers([ReceiverTarget])
    case senders([SenderMTA])

    /// The sides' names, in column order.
    public var labels: [String] {
        switch self {
        case .receivers(let targets): targets.map(\.rawValue)
        case .senders(let mtas): mtas.map(\.rawValue)
        }
    }

    /// The sides' headings, in column order: each kind's display name in `parts` ("the built-in
    /// MX", "Postfix"), as the matrix heads its tables; a kind `parts` lacks is headed with its name.
    public func headings(_ parts: PartCatalog) -> [String] {
        switch self {
        case .receivers(let targets): targets.map { parts.receivers[$0]?.displayName ?? $0.rawValue }
        case .senders(let mtas): mtas.map { parts.senders[$0]?.displayName ?? $0.rawValue }
        }
    }

    /// The run configuration of every side, in column order.
    public func configurations(_ base: RunConfiguration) -> [RunConfiguration] {
        labels.indices.map { configuration(base, side: $0) }
    }

    /// The run configuration of side `index`.
    func configuration(_ base: RunConfiguration, side index: Int) -> RunConfiguration {
        var configuration = base
        switch self {
        case .receivers(let targets): configuration.target = targets[index]
        case .senders(let mtas): configuration.sender = mtas[index]
        }
        return configuration
    }

    /// The pairs of sides (by label) held to the same exact replies, not only the same outcome
    /// class: a kind in `parts` and the kind it mirrors (`ReceiverKind.mirrors`, `SenderKind.mirrors`),
    /// both on this axis. Every other pair may word and number its replies its own way.
    public func mirroredPairs(_ parts: PartCatalog) -> Set<Set<String>> {
        var pairs: Set<Set<String>> = []
        switch self {
        case .receivers(let targets):
            for target in targets {
                if let other = parts.receivers[target]?.mirrors, targets.contains(other), other != target {
                    pairs.insert([target.rawValue, other.rawValue])
                }
            }
        case .senders(let mtas):
            for mta in mtas {
                if let other = parts.senders[mta]?.mirrors, mtas.contains(other), other != mta {
                    pairs.insert([mta.rawValue, other.rawValue])
                }
            }
        }
        return pairs
    }
}
