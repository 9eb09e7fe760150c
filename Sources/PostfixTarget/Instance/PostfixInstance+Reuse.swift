#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import DNSCore
import Foundation
import Logging
import Sandbox

extension PostfixInstance {
    /// After a case, before the instance serves another: waits until no smtpd of the instance runs
    /// (each exits after its one connection, `MasterCF.smtpdOverrides`), every session logged since
    /// `mark` has its `disconnect from` line (postlogd(8) writes what smtpd sent it a moment later)
    /// and the incoming and active queues are empty, so that the next case's log starts after this
    /// one's. Returns false when that did not happen within `timeout`: an smtpd may then still
    /// hold a connection or state of this case, and the instance should serve no other case.
    public func settle(since mark: PostfixLogMark, timeout: Duration = .seconds(5)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        var smtpdGone = false
        while ContinuousClock.now < deadline {
            smtpdGone = smtpdGone || !processes.contains { Self.daemonName(of: $0) == "smtpd" }
            if smtpdGone, log(since: mark).sessions.allSatisfy(\.isComplete), queuesAreEmpty { return true }
            try? await Task.sleep(for: .milliseconds(2))
        }
        // The queue is only about whose log lines come where; a running smtpd is about results.
        return smtpdGone && log(since: mark).sessions.allSatisfy(\.isComplete)
    }

    /// True when the master runs and nothing since `mark` says a daemon failed: a fatal error,
    /// a panic, or a daemon that exited abnormally, after which master(8) may throttle the service
    /// ("bad command startup -- throttling") and a following case would meet a slow or silent port 25.
    public func isHealthy(since mark: PostfixLogMark) -> Bool {
        guard Self.isAlive(masterPID) else { return false }
        let signs = [": fatal: ", ": panic: ", "-- throttling", " killed by signal ", ": warning: process "]
        return !log(since: mark).lines.contains { line in signs.contains { line.contains($0) } }
    }

    /// Nothing in `incoming` or `active`: every message this instance accepted has been handled.
    var queuesAreEmpty: Bool {
        for folder in ["incoming", "active"] {
            let path = paths.queueDirectory + "/" + folder
            guard let enumerator = FileManager.default.enumerator(atPath: path) else { continue }
            for case let entry as String in enumerator {
                var info = stat()
                if stat(path + "/" + entry, &info) == 0, info.st_mode & S_IFMT == S_IFREG { return false }
            }
        }
        return true
    }

    /// True when this running instance behaves exactly as one started for `configuration` would:
    /// the same main.cf and tables once rendered with this instance's paths.
    public func canServe(_ configuration: PostfixConfiguration) -> Bool {
        guard let other = try? configuration.render(paths: paths) else { return false }
        let mine = rendered
        return other.mainCF == mine.mainCF && other.files == mine.files && other.site == mine.site && other.siteMaster == mine.siteMaster
            && other.smtpdOptions == mine.smtpdOptions
    }

    /// Switches the running instance to `configuration` with `postfix reload`, when it differs only
    /// in settings a reload applies (not in addresses or hostname, which need a restart), and
    /// returns once every smtpd started under the old configuration has exited, so the next
    /// connection is served by the new one. Run no session during the call.
    public func reconfigure(_ configuration: PostfixConfiguration) async throws {
        let current = self.configuration
        guard Set(configuration.addresses) == Set(current.addresses), configuration.hostname == current.hostname else {
            throw PostfixInstanceError(message: "reconfigure: a different hostname or address list needs a new instance (inet_interfaces changes need postfix stop and start)")
        }
        let newRendered = try configuration.render(paths: paths)
        guard newRendered.smtpdOptions == rendered.smtpdOptions, newRendered.siteMaster == rendered.siteMaster else {
            throw PostfixInstanceError(message: "reconfigure: a different master.cf (the identity path's options) needs a new instance")
        }
        if newRendered.mainCF == rendered.mainCF && newRendered.files == rendered.files {
            lock.withLock { _configuration = configuration }
            return
        }
        for (path, contents) in newRendered.files { try contents.write(toFile: path, atomically: true, encoding: .utf8) }
        try newRendered.mainCF.write(toFile: etcDirectory + "/postfix/main.cf", atomically: true, encoding: .utf8)
        Self.backdate(etcDirectory + "/postfix/main.cf")
        for path in newRendered.files.keys { Self.backdate(path) }
        let before = Set(processes.filter { Self.daemonName(of: $0) == "smtpd" })
        let outputPath = directory + "/postfix.out"
        let status = await Self.run(options.ipPath, ["netns", "exec", namespace.name, options.postfixPath, "reload"], outputPath: outputPath, timeout: options.startTimeout)
        guard status == 0 else {
            throw PostfixInstanceError(message: "`postfix reload` failed (status \(status))", output: (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "")
        }
        // After SIGHUP the master closes the old generation's status pipes and idle children
        // exit (master(8)); until they do, one of them could still accept a connection.
        let deadline = ContinuousClock.now + options.stopGrace
        while ContinuousClock.now < deadline {
            if Set(processes).isDisjoint(with: before) { break }
            try? await Task.sleep(for: .milliseconds(5))
        }
        for pid in Set(processes).intersection(before) { kill(pid, SIGKILL) }
        lock.withLock {
            _configuration = configuration
            _rendered = newRendered
        }
    }
}
