import Foundation

/// libfaketime (Debian's package), which a signer preloads to sign with its clock set back
/// (`sender.dkim.break: expired` on a real sender).
public enum Faketime {
    /// `/usr/lib/MULTIARCH/faketime/libfaketime.so.1`, or nil when it is not installed.
    public static func library() -> String? {
        let fm = FileManager.default
        let roots =
            ["/usr/lib"] + ((try? fm.contentsOfDirectory(atPath: "/usr/lib")) ?? []).sorted().map { "/usr/lib/" + $0 }
        return roots.map { $0 + "/faketime/libfaketime.so.1" }.first { fm.fileExists(atPath: $0) }
    }
}
