import Foundation
import Sandbox

/// Where rspamd is on this machine, and the cache it keeps.
public struct RspamdSetup: Sendable, Hashable {
    public var executable: String
    public var user: String
    public var group: String
    /// The compiled hyperscan cache, harness-owned, kept between runs: `$MXHARNESS_RSPAMD_CACHE`,
    /// else `/var/cache/mxharness/rspamd`.
    public var cacheDirectory: String

    public init(
        executable: String = "/usr/bin/rspamd", user: String = "_rspamd", group: String = "_rspamd",
        cacheDirectory: String
    ) {
        self.executable = executable
        self.user = user
        self.group = group
        self.cacheDirectory = cacheDirectory
    }

    /// This machine's.
    public static func detect(environment: [String: String] = ProcessInfo.processInfo.environment) -> RspamdSetup {
        let cache =
            environment["MXHARNESS_RSPAMD_CACHE"].flatMap { $0.isEmpty ? nil : $0 } ?? "/var/cache/mxharness/rspamd"
        return RspamdSetup(cacheDirectory: cache)
    }

    /// Why rspamd cannot run here, or nil.
    public var missingReason: String? {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            return
                "receiver.engines: rspamd needs rspamd (\(executable) is not installed; apt-get install rspamd, as scripts/lib.sh does)"
        }
        guard SystemAccounts.user(named: user) != nil else {
            return
                "rspamd's workers run as user \(user), which does not exist (the rspamd package creates it: reinstall it)"
        }
        // rspamd's main process hands its folders to that user and its workers switch to it, which
        // an ordinary user's run cannot do: its user namespace maps no user but its own.
        guard geteuid() == 0, !UserNamespace.isInside else {
            return
                "receiver.engines: rspamd needs root (rspamd's workers run as user \(user), which a run as an ordinary user cannot switch to): run mxharness as root (sudo)"
        }
        return nil
    }
}
