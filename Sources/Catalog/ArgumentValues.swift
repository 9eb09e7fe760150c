import ArgumentParser
import Runner
import SMTPProtocol
import Scenario

// Option values both executables (`mxharness`, `mxharness-bench`) parse with argument-parser:
// the receiver and sender names are those of this build's catalog.

extension ReceiverTarget: ExpressibleByArgument {
    /// The name of a receiver kind of this build's catalog.
    public init?(argument: String) {
        guard PartCatalog.standard().receiverNames.contains(ReceiverTarget(named: argument)) else { return nil }
        self.init(named: argument)
    }

    public static var allValueStrings: [String] { PartCatalog.standard().receiverNames.map(\.rawValue) }
}

extension SenderMTA: ExpressibleByArgument {
    /// The name of a sender kind of this build's catalog.
    public init?(argument: String) {
        guard PartCatalog.standard().senderNames.contains(SenderMTA(named: argument)) else { return nil }
        self.init(named: argument)
    }

    public static var allValueStrings: [String] { PartCatalog.standard().senderNames.map(\.rawValue) }
}

extension TLSSecurityLevel: ExpressibleByArgument {}
