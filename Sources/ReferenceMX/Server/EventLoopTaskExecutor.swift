import NIOCore

/// Runs a task's jobs on one event loop (SE-0417 task executor preference), so a policy question
/// that needs lookups runs on its connection's loop: the session's actor and the resolver's
/// continuations resume there instead of waking a thread of the global pool at every step.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
