import Dispatch
import Logging
import Synchronization

/// Each ended session's decision, logged off the event loop.
///
/// The loop only hands over the session's recorder (`add`); `flush` passes what gathered to a
/// serial queue, which makes the summaries and logs them as one event, so formatting and writing
/// the log never holds up a session on the loop: the way Postfix's smtpd hands its log lines to
/// syslog or postlogd, which write them elsewhere.
final class DecisionLog: Sendable {
    private let logger: Logger
    private let level: Logger.Level
    /// Each decision is followed by the session's transcript.
    private let withTranscripts: Bool
    private let pending = Mutex<[SessionRecorder]>([])
    private let queue = DispatchQueue(label: "mxharness.mx.decisions")
    /// Batches handed to `queue` and not yet written.
    private let queued = Atomic<Int>(0)
    /// Past this many unwritten batches (a log slower than the sessions, say a terminal),
    /// `flush` writes on the caller's thread: the loop slows to the log's pace instead of
    /// keeping ever more ended sessions in memory.
    let queueLimit: Int
    /// False when the logger would drop the decisions: then none are made.
    let isEnabled: Bool

    init(logger: Logger, level: Logger.Level, withTranscripts: Bool = false, queueLimit: Int = 16) {
        self.logger = logger
        self.level = level
        self.withTranscripts = withTranscripts
        self.queueLimit = queueLimit
        self.isEnabled = logger.logLevel <= level
    }

    /// A session that ended; its record is read when the batch is written.
    func add(_ recorder: SessionRecorder) {
        pending.withLock { $0.append(recorder) }
    }

    /// Hands what gathered since the last call to the writer.
    func flush() {
        let batch = pending.withLock { pending -> [SessionRecorder] in
            defer { pending.removeAll(keepingCapacity: true) }
            return pending
        }
        guard !batch.isEmpty else { return }
        let logger = self.logger, level = self.level, withTranscripts = self.withTranscripts
        let write: @Sendable () -> Void = {
            Self.write(
                batch.map { $0.update { withTranscripts ? $0.summary + "\n" + $0.transcriptText : $0.summary } },
                to: logger, at: level)
        }
        guard queued.load(ordering: .relaxed) < queueLimit else {
            // The queue's batches are older: they go first, then this one, here.
            queue.sync(execute: write)
            return
        }
        queued.add(1, ordering: .relaxed)
        queue.async { [self] in
            write()
            queued.subtract(1, ordering: .relaxed)
        }
    }

    /// Batches handed over and not yet written.
    var queuedBatches: Int { queued.load(ordering: .relaxed) }

    /// `flush()`, then returns once everything handed over is logged.
    func drain() async {
        flush()
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            queue.async { done.resume() }
        }
    }

    static func write(_ summaries: [String], to logger: Logger, at level: Logger.Level) {
        let title = summaries.count == 1 ? "MX session decision" : "MX session decisions (\(summaries.count) sessions)"
        logger.log(level: level, "\(title)\n\(summaries.joined(separator: "\n"))")
    }
}
