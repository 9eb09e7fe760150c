import Foundation
import Sandbox

/// Where the harness finds Exim: unpacked from Debian's packages by `scripts/lib.sh`'s
/// `unpack_mtas` into `$MXHARNESS_MTA_DIR/exim` (never installed with apt, where it would replace
/// Postfix), and what that build supports.
public struct EximInstallation: Sendable, Hashable {
    /// The `exim4` binary.
    public var binary: String
    /// The user Exim's binary names as its own (`exim_user`, compiled in).
    public var user: String
    /// Features from `exim4 -bV`'s "Support for:" line (`SPF`, `DKIM`, ...).
    public var features: Set<String>

    public init(binary: String, user: String = "Debian-exim", features: Set<String>) {
        self.binary = binary
        self.user = user
        self.features = features
    }

    public var hasSPF: Bool { features.contains("SPF") }

    /// The unpacked Exim, or why there is none (the reason its cases are skipped with).
    public static func find() -> Result<EximInstallation, EximUnavailable> {
        lock.withLock {
            if let cached { return cached }
            let found = probe()
            cached = found
            return found
        }
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var cached: Result<EximInstallation, EximUnavailable>?

    private static func probe() -> Result<EximInstallation, EximUnavailable> {
        let binary = UnpackedMTAs.path("exim/usr/sbin/exim4")
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            return .failure(
                EximUnavailable(
                    reason:
                        "Exim is not unpacked at \(binary): run scripts/lib.sh's unpack_mtas (or set MXHARNESS_MTA_DIR)"
                ))
        }
        guard SystemAccounts.user(named: "Debian-exim") != nil else {
            return .failure(
                EximUnavailable(
                    reason: "Exim needs the system user Debian-exim, which unpack_mtas in scripts/lib.sh creates"))
        }
        let output: String
        do {
            // An empty configuration is enough for -bV to print the build's features.
            output = try Command.runSync(binary, ["-C", "/dev/null", "-bV"])
        } catch let error as CommandError {
            // What it said decides below, whatever its exit status.
            output = error.output
        } catch {
            return .failure(EximUnavailable(reason: "\(binary) does not run: \(error)"))
        }
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("Support for:") }) else {
            return .failure(
                EximUnavailable(
                    reason: "\(binary) -bV did not describe the build (a missing library?): \(output.prefix(300))"))
        }
        let features = Set(line.dropFirst("Support for:".count).split(separator: " ").map(String.init))
        return .success(EximInstallation(binary: binary, features: features))
    }
}

/// Why Exim cannot run here; its cases are skipped with `reason`.
public struct EximUnavailable: Error, Sendable, Hashable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}
