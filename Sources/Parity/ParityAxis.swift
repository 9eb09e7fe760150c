import Runner
import Scenario

/// What a parity run varies while the world stays the same: the receiver (`--targets`) or the
/// sender (`--sender`). Each side is one run of every case.
public enum ParityAxis: Sendable, Hashable {
    case receivers([ReceiverTarget])
    case senders([SenderMTA])

    /// The built-in MX against Postfix, as `mxharness parity` compares by default.
    public static let builtinAgainstPostfix = ParityAxis.receivers([.builtin, .postfix])

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

    /// Whether two sides are held to the same exact replies, not only the same outcome class. The
    /// built-in MX is written to answer as Postfix's smtpd does, and the built-in delivery model to
    /// deliver as Postfix's smtp client does; every other pair (Exim, OpenSMTPD, a user's own MX)
    /// may word and number its replies its own way.
    func mirrors(_ a: Int, _ b: Int) -> Bool {
        Set([labels[a], labels[b]]) == ["builtin", "postfix"]
    }
}
