import DNSCore
import DNSWorld
import Foundation
import Logging
@_spi(Testing) import Runner
import Sandbox

/// A running Postfix in a warm slot (`WarmSlot`: a namespace and a long-running unbound), lent to
/// one case at a time by `PostfixPool`.
///
/// The namespace holds the receiver's addresses for good and, while a case runs, that case's
/// sender addresses (the previous case's are removed in the same netlink batch that adds them).
/// The slot's unbound, on 127.0.0.1:53 there, which the instance's resolv.conf names, serves each
/// case's world in turn, loaded through its remote control with every cache flushed
/// (`WarmDNSWorld.load`).
public final class PostfixHost: @unchecked Sendable {
    /// The instance's number (`PostfixHostUse.instance`).
    public let number: Int
    let slot: WarmSlot
    public let instance: PostfixInstance
    let receiverAddresses: [IPAddress]

    public var namespace: NetworkNamespace { slot.namespace }
    /// The slot's folder: unbound's files, and Postfix's queue, data and log (`instance.directory`).
    public var directory: String { slot.directory }
    var dns: WarmDNSWorld { slot.dns }

    // Changed only by the case holding the host (one at a time) and by the pool between cases.
    private let lock = NSLock()
    private var _key: String
    private var _lastUsed = ContinuousClock.now

    init(number: Int, key: String, slot: WarmSlot, instance: PostfixInstance) {
        self.number = number
        self._key = key
        self.slot = slot
        self.instance = instance
        self.receiverAddresses = instance.configuration.addresses
    }

    /// `PostfixConfiguration.sharingKey` of the configuration it runs now.
    var key: String {
        get { lock.withLock { _key } }
        set { lock.withLock { _key = newValue } }
    }

    var lastUsed: ContinuousClock.Instant {
        get { lock.withLock { _lastUsed } }
        set { lock.withLock { _lastUsed = newValue } }
    }

    /// Makes the namespace hold exactly the receiver's addresses and `clients` (what the previous
    /// case's sender had goes), and the slot's unbound serve `world`.
    func prepare(clients: [IPAddress], world: WorldSpec) async throws {
        try await slot.prepare(
            addresses: receiverAddresses + clients.filter { !receiverAddresses.contains($0) }, world: world)
    }

    /// Postfix stopped, then the slot (unbound, the namespace with `/etc/netns/NAME`, the folder).
    func stop() async {
        await instance.stop()
        await slot.stop()
    }

    /// Starts Postfix for `configuration` in a new warm slot holding the receiver's addresses.
    static func start(
        _ configuration: PostfixConfiguration, key: String, options: PostfixInstance.Options,
        plantedLeak: PostfixPool.PlantedLeak?,
        logger: Logger
    ) async throws -> PostfixHost {
        let slot = try await WarmSlot.start(
            kind: "pfhost", logger: logger, plantedLeak: plantedLeak == .previousWorld ? .previousWorld : nil)
        do {
            try await slot.prepare(addresses: configuration.addresses, world: nil)
            let instance = try await PostfixInstance.start(
                configuration, in: slot.namespace, caseDirectory: slot.directory, options: options, logger: logger)
            instance.skipsReload = plantedLeak == .previousConfiguration
            return PostfixHost(number: PostfixInstanceNumbers.next(), key: key, slot: slot, instance: instance)
        } catch {
            await slot.stop()
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

/// Running Postfix instances that cases share: a case checks out an idle host whose instance runs
/// its configuration; failing that, an idle host whose instance a reload can switch to it (the
/// same addresses and hostname, only main.cf and its tables differ: the restriction lists,
/// `PostfixInstance.reloadRefusal`), reloaded; failing that, a new one is started. After the case
/// the host comes back when it is clean (`PostfixInstance.settle`, `isHealthy`) and is stopped
/// otherwise. Only configurations `PostfixSharing` accepts are pooled.
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
        /// Cases served by an instance switched to their configuration with a reload.
        public var reloads = 0
        /// Reloads that failed (the host was stopped and a new one started).
        public var failedReloads = 0
    }

    /// For the isolation tests only: a leak the pool plants in every host, which the tests must
    /// catch. `previousWorld`: the slot's unbound keeps the previous case's world
    /// (`WarmDNSWorld.keepsPreviousWorld`); `previousConfiguration`: a reload claims the new
    /// configuration but leaves the old one running (`PostfixInstance.skipsReload`).
    @_spi(Testing) public enum PlantedLeak: Sendable {
        case previousWorld
        case previousConfiguration
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

    private let plantedLeak: PlantedLeak?

    public init(capacity: Int, logger: Logger = Logger(label: "mxharness.postfix-pool")) {
        self.capacity = max(1, capacity)
        self.logger = logger
        self.plantedLeak = nil
    }

    @_spi(Testing) public init(capacity: Int, plantedLeak: PlantedLeak) {
        self.capacity = max(1, capacity)
        self.logger = Logger(label: "mxharness.postfix-pool")
        self.plantedLeak = plantedLeak
    }

    /// A host running `configuration` (whose `sharingKey` is `key`) with `options`: idle, idle
    /// and reloaded, or new; whether it served a case before, and whether it was reloaded.
    func checkOut(
        _ configuration: PostfixConfiguration, key: String, options: PostfixInstance.Options = PostfixInstance.Options()
    ) async throws -> (host: PostfixHost, reused: Bool, reloaded: Bool) {
        guard !closed else { throw PostfixPoolError() }
        func fits(_ host: PostfixHost) -> Bool { host.instance.options.dnsTimeoutSeconds == options.dnsTimeoutSeconds }
        // The most recently used first: the least recently used are the ones to evict.
        if let index = idle.lastIndex(where: { $0.key == key && fits($0) && $0.instance.canServe(configuration) }) {
            let host = idle.remove(at: index)
            lent[ObjectIdentifier(host)] = host
            statistics.reuses += 1
            return (host, true, false)
        }
        // The least recently used: the one least likely to be wanted again as it is.
        if let index = idle.indices.filter({ fits(idle[$0]) && idle[$0].instance.reloadRefusal(configuration) == nil })
            .min(by: { idle[$0].lastUsed < idle[$1].lastUsed })
        {
            let host = idle.remove(at: index)
            lent[ObjectIdentifier(host)] = host
            do {
                try await host.instance.reconfigure(configuration)
                guard !closed else { throw PostfixPoolError() }
                host.key = key
                statistics.reloads += 1
                statistics.reuses += 1
                return (host, true, true)
            } catch {
                // `close()` stopped the host meanwhile.
                guard !closed else { throw PostfixPoolError() }
                logger.debug(
                    "postfix reload failed; starting a new instance",
                    metadata: ["instance": "\(host.number)", "error": "\(error)"])
                statistics.failedReloads += 1
                lent[ObjectIdentifier(host)] = nil
                stopInBackground(host)
            }
        }
        let host = try await PostfixHost.start(
            configuration, key: key, options: options, plantedLeak: plantedLeak, logger: logger)
        guard !closed else {
            await host.stop()
            throw PostfixPoolError()
        }
        statistics.instancesStarted += 1
        started.append(HostRecord(namespace: host.namespace.name, directory: host.directory))
        lent[ObjectIdentifier(host)] = host
        logger.debug("postfix host up", metadata: ["netns": "\(host.namespace.name)", "instance": "\(host.number)"])
        return (host, false, false)
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
            logger.debug(
                "postfix pool closing",
                metadata: [
                    "started": "\(statistics.instancesStarted)", "reuses": "\(statistics.reuses)",
                    "private": "\(statistics.privateInstances)",
                    "evicted": "\(statistics.evicted)", "retired": "\(statistics.retired)",
                    "reloads": "\(statistics.reloads)",
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
