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
