import ArgumentParser
import Foundation

/// `--opensmtpd-config`: the OpenSMTPD receiver kind's own command-line option, which the
/// executable puts beside the kind's line of its catalog (`receivers()` is that line's kind).
public struct OpenSMTPDOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Your own smtpd.conf for target opensmtpd, run as it is (it must listen on the receiver's addresses).",
            valueName: "FILE"))
    public var opensmtpdConfig: String?

    public init() {}

    /// The OpenSMTPD receivers these options ask for, the smtpd.conf read.
    public func receivers() throws -> OpenSMTPDReceivers {
        guard let path = opensmtpdConfig else { return OpenSMTPDReceivers() }
        do { return OpenSMTPDReceivers(configurationText: try String(contentsOfFile: path, encoding: .utf8)) } catch {
            throw ValidationError("--opensmtpd-config \(path): cannot read it (\(error.localizedDescription))")
        }
    }
}
