/// `mxharness --version`: the version, and the commit the binary was built from, which the
/// executable knows from BuildInfo (written by scripts/build-info before each build).
/// scripts/package-deb reads both from this line for the package's version.
public enum Version {
    /// Raised when a release is tagged `v<number>`; a build of any other commit is a snapshot
    /// after it, which the commit identifies.
    public static let number = "0.1.0"

    /// `mxharness 0.1.0 (commit <40 hex>, 2026-12-02)`; `… with uncommitted changes, …` when
    /// tracked files differed from the commit; `(commit unknown: built outside a git clone)`.
    public static func line(commit: String?, date: String?, modified: Bool) -> String {
        guard let commit else { return "mxharness \(number) (commit unknown: built outside a git clone)" }
        let changes = modified ? " with uncommitted changes" : ""
        return "mxharness \(number) (commit \(commit)\(changes)\(date.map { ", \($0)" } ?? ""))"
    }
}
