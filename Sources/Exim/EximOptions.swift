import ArgumentParser
import Foundation

/// `--exim-config`: the Exim receiver kind's own command-line option, which the executable puts
/// beside the kind's line of its catalog (`receivers()` is that line's receiver kind).
public struct EximOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Your own Exim configuration for target exim (its ACLs are the policy; the harness owns addresses, spool and logs).",
            valueName: "FILE"))
    public var eximConfig: String?

    public init() {}

    /// The Exim receivers these options ask for, the configuration file read.
    public func receivers() throws -> EximReceivers {
        guard let path = eximConfig else { return EximReceivers() }
        do { return EximReceivers(configurationText: try String(contentsOfFile: path, encoding: .utf8)) } catch {
            throw ValidationError("--exim-config \(path): cannot read it (\(error.localizedDescription))")
        }
    }
}
