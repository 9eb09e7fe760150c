/// `receiver.exim`: a site's own Exim settings, added to the configuration the harness writes
/// for `target: exim` the way `receiver.postfix` adds main.cf settings.
public struct EximSiteSettings: Sendable, Hashable {
    /// Main-section options (`name = value`), after the harness defaults and before what the
    /// harness owns (listening addresses, spool, log).
    public var main: [String: String]
    /// ACL statements by ACL (`connect`, `helo`, `mail`, `rcpt`, `data`), placed before the
    /// statements of the policy in that ACL.
    public var acls: [EximACLName: String]

    public init(main: [String: String] = [:], acls: [EximACLName: String] = [:]) {
        self.main = main
        self.acls = acls
    }

    public var isEmpty: Bool { main.isEmpty && acls.isEmpty }
}

/// The ACLs `receiver.exim` can add statements to (Exim's `acl_smtp_*` options).
public enum EximACLName: String, Sendable, Hashable, CaseIterable, Comparable {
    case connect, helo, mail, rcpt, data

    public static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// The format's key: `acl_rcpt`.
    public var key: String { "acl_" + rawValue }
}

/// `receiver.exec`: bring your own MX. `start` is a shell command run in the case's network
/// namespace; `{config_dir}` and `{addresses}` in it are replaced before it runs.
public struct ExecReceiverSpec: Sendable, Hashable {
    public enum Readiness: String, Sendable, Hashable, CaseIterable {
        /// Every receiver address answers a connection with 220.
        case smtpBanner = "smtp-banner"
    }

    public enum Stopping: String, Sendable, Hashable, CaseIterable {
        /// SIGTERM to the command's process group, SIGKILL after 5 seconds.
        case signal
    }

    public var start: String
    public var ready: Readiness
    public var stop: Stopping

    public init(start: String, ready: Readiness = .smtpBanner, stop: Stopping = .signal) {
        self.start = start
        self.ready = ready
        self.stop = stop
    }
}
