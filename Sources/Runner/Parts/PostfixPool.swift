import DNSCore
import Foundation
import Logging
import PostfixTarget
import Sandbox

/// A running Postfix in a namespace of its own, lent to one case at a time by `PostfixPool`.
///
/// The namespace holds the receiver's addresses for good and, while a case runs, that case's
/// sender addresses. Each case brings its own unbound to 127.0.0.1:53 there, which the instance's
/// resolv.conf names.
public final class PostfixHost: @unchecked Sendable {
    /// The instance's number (`PostfixHostUse.instance`).
    public let number: Int
    /// `PostfixConfiguration.sharingKey` of the configuration it runs.
    public let key: String
    public let namespace: NetworkNamespace
    public let instance: PostfixInstance
    /// Postfix's queue, data and log (`instance.directory` lies inside).
    public let directory: String
    let receiverAddresses: Set<IPAddress>

    // Changed only by the case holding the host (one at a time) and by the pool between cases.
    private let lock = NSLock()
    private var _senderAddresses: Set<IPAddress> = []
    private var _lastUsed = ContinuousClock.now

    init(number: Int, key: String, namespace: NetworkNamespace, instance: PostfixInstance, directory: String) {
        self.number = number
        self.key = key
        self.namespace = namespace
        self.instance = instance
        self.directory = directory
        self.receiverAddresses = Set(instance.configuration.addresses)
    }

    var lastUsed: ContinuousClock.Instant {
        get { lock.withLock { _lastUsed } }
        set { lock.withLock { _lastUsed = newValue } }
    }

    /// Makes the namespace hold exactly the receiver's addresses and `senders`: adds what is
    /// missing, removes what the previous case's sender had.
    func assignSenderAddresses(_ senders: [IPAddress]) async throws {
        let wanted = Set(senders).subtracting(receiverAddresses)
        let current = lock.withLock { _senderAddresses }
        let stale = current.subtracting(wanted)
        let missing = wanted.subtracting(current)
        if !stale.isEmpty {
            try await namespace.removeAddresses(Array(stale))
            lock.withLock { _senderAddresses.subtract(stale) }
        }
        if !missing.isEmpty {
            try await namespace.addAddresses(Array(missing))
            lock.withLock { _senderAddresses.formUnion(missing) }
        }
    }

    /// Postfix stopped, the namespace (with `/etc/netns/NAME`) destroyed, the folder removed.
    func stop() async {
        await instance.stop()
        await namespace.destroy()
        ResourceRegistry.shared.removeDirectory(directory)
    }

    /// Starts Postfix for `configuration` in a new namespace holding the receiver's addresses.
    static func start(_ configuration: PostfixConfiguration, key: String, logger: Logger) async throws -> PostfixHost {
        let registry = ResourceRegistry.shared
        let directory = try registry.makeTemporaryDirectory("pfhost")
        let namespace: NetworkNamespace
        do {
            namespace = try await NetworkNamespace.create(name: registry.makeName("pfhost"), addresses: configuration.addresses, logger: logger)
        } catch {
            registry.removeDirectory(directory)
            throw error
        }
        do {
            let instance = try await PostfixInstance.start(configuration, in: namespace, caseDirectory: directory, logger: logger)
            return PostfixHost(number: PostfixInstanceNumbers.next(), key: key, namespace: namespace, instance: instance, directory: directory)
        } catch {
            await namespace.destroy()
            registry.removeDirectory(directory)
            throw error
        }
    }
}

/// Numbers the Postfix instances a process starts, shared or not.
enum PostfixInstanceNumbers {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var last = 0

    static func next() -> Int {
        lock.withLock {
            last += 1
            return last
        }
    }
}

public struct PostfixPoolError: Error, Sendable, CustomStringConvertible {
    public var description: String { "the run's Postfix pool is closed: no case can start once the run ends" }
}

/// Running Postfix instances that cases with the same configuration share: a case
/// checks out an idle host whose instance runs its configuration, or a new one is started; after
/// the case the host comes back when it is clean (`PostfixInstance.settle`, `isHealthy`) and is
/// stopped otherwise. Only configurations `PostfixSharing` accepts are pooled.
///
/// At most `capacity` idle hosts are kept; over that the least recently used one is stopped.
/// `close()` stops every host; until then each namespace and folder is in `ResourceRegistry`
/// (removed on SIGINT and SIGTERM) and named `mxh-PID-…` (removed by `ResourceJanitor` after a
/// SIGKILL, with every Postfix process inside).
public actor PostfixPool {
    public struct Statistics: Sendable, Hashable {
        /// Shared instances started.
        public var instancesStarted = 0
        /// Cases served by an instance that had served an earlier case.
        public var reuses = 0
        /// Cases whose configuration is not shareable, run on an instance of their own.
        public var privateInstances = 0
        /// Idle hosts stopped to stay within `capacity`.
        public var evicted = 0
        /// Hosts stopped after a case that left them unclean (an error, a running smtpd, a failed daemon).
        public var retired = 0
    }

    /// A host the pool started: its namespace and folder, for checking that nothing of it is left.
    public struct HostRecord: Sendable, Hashable {
        public var namespace: String
        public var directory: String
    }

    public nonisolated let capacity: Int
    private let logger: Logger
    /// Every host started, running or not.
    public private(set) var started: [HostRecord] = []
    private var idle: [PostfixHost] = []
    private var lent: [ObjectIdentifier: PostfixHost] = [:]
    private var stopping: [Task<Void, Never>] = []
    private var closed = false
    public private(set) var statistics = Statistics()

    public init(capacity: Int, logger: Logger = Logger(label: "mxharness.postfix-pool")) {
        self.capacity = max(1, capacity)
        self.logger = logger
    }

    /// A host running `configuration` (whose `sharingKey` is `key`), idle or new, and whether it
    /// served a case before.
    func checkOut(_ configuration: PostfixConfiguration, key: String) async throws -> (host: PostfixHost, reused: Bool) {
        guard !closed else { throw PostfixPoolError() }
        // The most recently used first: the least recently used are the ones to evict.
        if let index = idle.lastIndex(where: { $0.key == key && $0.instance.canServe(configuration) }) {
            let host = idle.remove(at: index)
            lent[ObjectIdentifier(host)] = host
            statistics.reuses += 1
            return (host, true)
        }
        let host = try await PostfixHost.start(configuration, key: key, logger: logger)
        guard !closed else {
            await host.stop()
            throw PostfixPoolError()
        }
        statistics.instancesStarted += 1
        started.append(HostRecord(namespace: host.namespace.name, directory: host.directory))
        lent[ObjectIdentifier(host)] = host
        logger.debug("postfix host up", metadata: ["netns": "\(host.namespace.name)", "instance": "\(host.number)"])
        return (host, false)
    }

    /// Takes a host back; `reusable` false stops it. After `close()`, which stopped it, nothing is left to do.
    func checkIn(_ host: PostfixHost, reusable: Bool) {
        guard !closed else { return }
        lent[ObjectIdentifier(host)] = nil
        guard reusable else {
            statistics.retired += 1
            stopInBackground(host)
            return
        }
        host.lastUsed = .now
        idle.append(host)
        while idle.count > capacity, let oldest = idle.indices.min(by: { idle[$0].lastUsed < idle[$1].lastUsed }) {
            statistics.evicted += 1
            stopInBackground(idle.remove(at: oldest))
        }
    }

    func countPrivateInstance() {
        statistics.privateInstances += 1
    }

    /// Hosts running now, idle or lent.
    public var runningHosts: Int { idle.count + lent.count }

    /// Stops every host, idle or lent, and waits for the ones being stopped. No case can check
    /// a host out afterwards. Safe to call twice.
    public func close() async {
        if !closed {
            logger.debug("postfix pool closing", metadata: [
                "started": "\(statistics.instancesStarted)", "reuses": "\(statistics.reuses)", "private": "\(statistics.privateInstances)",
                "evicted": "\(statistics.evicted)", "retired": "\(statistics.retired)",
            ])
        }
        closed = true
        let hosts = idle + Array(lent.values)
        idle = []
        lent = [:]
        let pending = stopping
        stopping = []
        await withTaskGroup(of: Void.self) { group in
            for host in hosts { group.addTask { await host.stop() } }
            for task in pending { group.addTask { await task.value } }
        }
    }

    /// Stopped off the case's path (a case should not pay for another configuration's host);
    /// `close()` waits for it.
    private func stopInBackground(_ host: PostfixHost) {
        stopping.append(Task { await host.stop() })
    }
}
