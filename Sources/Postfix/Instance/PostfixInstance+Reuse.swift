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
        return other.mainCF == mine.mainCF && other.files == mine.files && other.site == mine.site
            && other.siteMaster == mine.siteMaster
            && other.smtpdOptions == mine.smtpdOptions && other.smtpdServices == mine.smtpdServices
    }

    /// Why `reconfigure` cannot switch this instance to `configuration`, or nil when it can: a
    /// reload re-reads main.cf and the tables, but the listening addresses (`inet_interfaces`,
    /// "cannot be changed with postfix reload", postconf(5)), the hostname the instance was set
    /// up with, a site's master.cf and files, the delivery folders and resolv.conf are fixed at
    /// start.
    public func reloadRefusal(_ configuration: PostfixConfiguration) -> String? {
        let current = self.configuration
        if Set(configuration.addresses) != Set(current.addresses) {
            return "a different address list (inet_interfaces needs a restart)"
        }
        if configuration.hostname != current.hostname { return "a different hostname" }
        if configuration.delivery != current.delivery { return "a different delivery (its folders are made at start)" }
        guard let next = try? configuration.render(paths: paths) else { return "the configuration cannot be rendered" }
        let mine = rendered
        if next.site != mine.site || next.siteMaster != mine.siteMaster {
            return "a different site directory or master.cf"
        }
        if next.smtpdOptions != mine.smtpdOptions { return "different master.cf options for smtpd (the identity path)" }
        if next.smtpdServices != mine.smtpdServices { return "different smtpd services (a certificate per address)" }
        if next.services != mine.services { return "different master.cf services (the policy services answering SPF)" }
        if milters != nil {
            return "milters run with this instance (OpenDKIM's resolver keeps earlier cases' DNS answers)"
        }
        if rspamd != nil || configuration.rspamd != nil {
            return "rspamd runs with this instance (its SPF and DKIM caches keep earlier cases' answers)"
        }
        return nil
    }

    /// Switches the running instance to `configuration` (which `reloadRefusal` accepts): writes
    /// main.cf and the tables, signals the master as `postfix reload` does (postfix-script sends
    /// SIGHUP to the pid in master.pid), and returns once every daemon started under the old
    /// configuration has exited, so that nothing of the previous configuration serves the next
    /// connection. After SIGHUP the master re-reads its configuration and closes the old
    /// generation's status pipes; a daemon whose pipe closes exits once it is idle ("master
    /// disconnect", the *_server_abort handlers of src/master/*_server.c). Run no session during
    /// the call. Throws when the instance cannot be brought there; it should then serve no case.
    public func reconfigure(_ configuration: PostfixConfiguration) async throws {
        if let refusal = reloadRefusal(configuration) {
            throw PostfixInstanceError(message: "reconfigure: \(refusal); that needs a new instance")
        }
        let newRendered = try configuration.render(paths: paths)
        let planted = skipsReload
        if planted || newRendered.mainCF == rendered.mainCF && newRendered.files == rendered.files {
            lock.withLock {
                _configuration = configuration
                // The planted leak claims the new configuration while the old one keeps running.
                if planted { _rendered = newRendered }
            }
            return
        }
        // Tables first: no daemon may read the new main.cf before the files it names exist.
        for (path, contents) in newRendered.files { try Self.writeTable(contents, to: path) }
        try newRendered.mainCF.write(toFile: etcDirectory + "/postfix/main.cf", atomically: true, encoding: .utf8)
        Self.backdate(etcDirectory + "/postfix/main.cf")
        for path in newRendered.files.keys { Self.backdate(path) }
        let mark = logMark()
        let before = Set(processes).subtracting([masterPID])
        guard Self.isAlive(masterPID), kill(masterPID, SIGHUP) == 0 else {
            throw PostfixInstanceError(message: "reconfigure: the Postfix master (pid \(masterPID)) is gone")
        }
        lock.withLock {
            _configuration = configuration
            _rendered = newRendered
        }
        let deadline = ContinuousClock.now + options.stopGrace
        var left = before
        while ContinuousClock.now < deadline {
            left = Set(processes).intersection(before)
            if left.isEmpty { break }
            try? await Task.sleep(for: .milliseconds(1))
        }
        guard left.isEmpty else {
            throw PostfixInstanceError(
                message:
                    "reconfigure: daemons of the previous configuration still run after \(options.stopGrace): \(left.sorted().map { "\($0) \(Self.daemonName(of: $0) ?? "?")" }.joined(separator: ", "))"
            )
        }
        guard isHealthy(since: mark) else {
            throw PostfixInstanceError(
                message: "reconfigure: Postfix reported a failure after the reload",
                output: log(since: mark).lines.joined(separator: "\n"))
        }
    }
}
