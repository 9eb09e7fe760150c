import Foundation

/// Where the real MTAs the harness never installs with apt (Exim, OpenSMTPD) are unpacked, by
/// `scripts/lib.sh`'s `unpack_mtas`: `$MXHARNESS_MTA_DIR`, or /var/cache/mxharness/mta when it is
/// unset or empty. Every part that looks for an unpacked MTA asks here.
public enum UnpackedMTAs {
    public static let defaultDirectory = "/var/cache/mxharness/mta"

    /// The folder holding one folder per unpacked MTA (`exim/`, `opensmtpd/`).
    public static var directory: String {
        directory(environment: ProcessInfo.processInfo.environment)
    }

    /// `directory` as `environment` sets it.
    public static func directory(environment: [String: String]) -> String {
        environment["MXHARNESS_MTA_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? defaultDirectory
    }

    /// The path of `relative` (`exim/usr/sbin/exim4`) in the unpacked MTAs' folder.
    public static func path(_ relative: String) -> String {
        (directory as NSString).appendingPathComponent(relative)
    }
}
