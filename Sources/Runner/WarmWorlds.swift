import DNSCore
@_spi(Testing) import DNSWorld
import Foundation
import Logging
import Resolver
import Sandbox
import Scenario

/// A namespace with a long-running unbound (`WarmDNSWorld`) that serves one case after another:
/// between cases its addresses are swapped in one batch and its world is replaced through
/// unbound's remote control. What a case could carry over is removed before the next one starts:
/// the previous addresses, local zones, data and stubs, and every unbound cache; the receiver,
/// the resolver and the sender are the case's own and are stopped with it, so no open connection
/// or cached answer of theirs survives either.
package final class WarmSlot: @unchecked Sendable {
    package let namespace: NetworkNamespace
    package let dns: WarmDNSWorld
    package let directory: String
    private let addressEditor: AddressEditor
    // Changed only by the case holding the slot (one at a time), and by `stop`.
    private var addresses: Set<IPAddress> = []
    private var spares: [ResolverKind: Task<DNSResolver, any Error>] = [:]
    private var lastUses: [ResolverKind: Logger] = [:]
    /// For the isolation test only: every case gets the first case's resolver, with what it has
    /// kept (a planted leak the test must catch).
    var keepsResolver = false
    private var keptResolvers: [ResolverKind: DNSResolver] = [:]

    private init(namespace: NetworkNamespace, dns: WarmDNSWorld, directory: String, addressEditor: AddressEditor) {
        self.namespace = namespace
        self.dns = dns
        self.directory = directory
        self.addressEditor = addressEditor
    }

    /// `kind` ends the names of its namespace and folder (`mxh-PID-N-KIND`).
    package static func start(kind: String = "slot", logger: Logger, plantedLeak: WarmWorlds.PlantedLeak? = nil)
        async throws -> WarmSlot
    {
        let registry = ResourceRegistry.shared
        let directory = try registry.makeTemporaryDirectory(kind)
        let namespace: NetworkNamespace
        do {
            namespace = try await NetworkNamespace.create(name: registry.makeName(kind), logger: logger)
        } catch {
            registry.removeDirectory(directory)
            throw error
        }
        do {
            let dns = try await WarmDNSWorld.start(in: namespace, directory: directory, logger: logger)
            dns.keepsPreviousWorld = plantedLeak == .previousWorld
            let slot = WarmSlot(
                namespace: namespace, dns: dns, directory: directory, addressEditor: try await namespace.addressEditor()
            )
            slot.keepsResolver = plantedLeak == .resolverKept
            return slot
        } catch {
            await namespace.destroy()
            registry.removeDirectory(directory)
            throw error
        }
    }

    /// How many addresses the slot holds that a case with `wanted` must not find.
    func removals(for wanted: Set<IPAddress>) -> Int { addresses.subtracting(wanted).count }

    /// Makes the slot hold exactly `wanted` addresses and serve `world` (nil: the world stays as
    /// it is until the next case loads its own).
    package func prepare(addresses wanted: [IPAddress], world: WorldSpec?) async throws {
        let added = try swapAddresses(to: Set(wanted))
        try await namespace.waitUntilUsable(added)
        if let world { try dns.load(world) }
    }

    /// Changes the slot's addresses to `target` in one batch and records what it holds; returns
    /// the addresses added, which the caller waits for. Synchronous on purpose: the slot's record
    /// is settled before `prepare` suspends, so no mutation of it happens on the error path of an
    /// `await` (the Swift 6.3 compiler crashed splitting `prepare` into coroutines when it did).
    private func swapAddresses(to target: Set<IPAddress>) throws -> [IPAddress] {
        let added = Array(target.subtracting(addresses))
        do {
            try addressEditor.change(removing: Array(addresses.subtracting(target)), adding: added)
        } catch {
            // What the slot holds is unknown now: the slot is not used again (`checkIn`).
            addresses.formUnion(target)
            throw error
        }
        addresses = target
        return added
    }

    /// A resolver for the case holding the slot: the one made when the slot was given back after
    /// the previous case (`prepareNextResolvers`), or a new one. Each is a libunbound context of
    /// its own that nothing has asked before, so making it ahead of time carries nothing over
    /// (libunbound cannot empty a context's cache, which is why a context never serves a second
    /// case); what it saves the case is the context's start (its configuration read, its thread
    /// started in the namespace).
    func takeResolver(_ kind: ResolverKind, logger: Logger) async throws -> DNSResolver {
        lastUses[kind] = logger
        if keepsResolver {
            if let kept = keptResolvers[kind] { return kept }
            let resolver = try await makeResolver(kind, logger: logger).value
            keptResolvers[kind] = resolver
            return resolver
        }
        if let ready = spares.removeValue(forKey: kind) {
            if let resolver = try? await ready.value { return resolver }
        }
        return try await makeResolver(kind, logger: logger).value
    }

    /// Ends a resolver `takeResolver` gave the case (the planted leak keeps it).
    func giveBack(_ resolver: DNSResolver) {
        if !keepsResolver { resolver.shutdown() }
    }

    /// Starts making the next case's resolvers in the background, as the last case's were made;
    /// spares of other kinds are ended.
    func prepareNextResolvers() {
        guard !keepsResolver else { return }
        for (kind, task) in spares where lastUses[kind] == nil {
            spares[kind] = nil
            Task { (try? await task.value)?.shutdown() }
        }
        for (kind, logger) in lastUses where spares[kind] == nil {
            spares[kind] = makeResolver(kind, logger: logger)
        }
        lastUses = [:]
    }

    private func makeResolver(_ kind: ResolverKind, logger: Logger) -> Task<DNSResolver, any Error> {
        let configuration = kind.configuration(server: dns.resolverAddress, namespace: namespace, directory: directory)
        return Task { try await DNSResolver(configuration: configuration, logger: logger) }
    }

    package func stop() async {
        for task in spares.values { (try? await task.value)?.shutdown() }
        spares = [:]
        for resolver in keptResolvers.values { resolver.shutdown() }
        await dns.stop()
        await namespace.destroy()
        ResourceRegistry.shared.removeDirectory(directory)
    }
}

/// The warm slots of one run. A slot comes back after a case that ran cleanly and is stopped
/// otherwise; `close()` stops them all when the run ends.
///
/// Removing an address takes the kernel far longer than adding one (an RCU grace period), so a
/// case takes, in this order: an idle slot that already holds no address it must not have (the
/// cases of one address group follow each other, `CaseRunner.placementKey`), an idle slot with no
/// case addresses at all, a new slot while there are fewer than `capacity`, a slot being cleared
/// once it is done, and only then a slot whose addresses it must remove itself. Idle slots that
/// the case did not want are cleared in the background meanwhile.
public actor WarmWorlds {
    private var idle: [WarmSlot] = []
    private var lent: [ObjectIdentifier: WarmSlot] = [:]
    private var clearing: [ObjectIdentifier: Task<Void, Never>] = [:]
    private var closed = false
    private let logger: Logger
    /// Slots at most: one per parallel case and one more, so a cleared slot is ready while
    /// another is being cleared.
    private let capacity: Int
    /// Slots started, for the tests and `-v`.
    public private(set) var started = 0

    /// What the isolation tests plant in a slot to show that they catch it.
    @_spi(Testing) public enum PlantedLeak: Sendable {
        /// The previous world is left in unbound.
        case previousWorld
        /// Every case gets the first case's resolver, with its cached answers.
        case resolverKept
    }

    private let plantedLeak: PlantedLeak?

    public init(jobs: Int = 1, logger: Logger = Logger(label: "mxharness.warm-worlds")) {
        self.logger = logger
        self.capacity = max(1, jobs) + 1
        self.plantedLeak = nil
    }

    /// One slot only, with `plantedLeak` planted in it (nil: none): for the isolation tests.
    @_spi(Testing) public init(plantedLeak: PlantedLeak?) {
        self.logger = Logger(label: "mxharness.warm-worlds")
        self.capacity = 1
        self.plantedLeak = plantedLeak
    }

    private var total: Int { idle.count + lent.count + clearing.count }

    func checkOut(for addresses: Set<IPAddress>) async throws -> WarmSlot {
        while true {
            guard !closed else { throw CaseSkipped(reason: "the run ended before the case started") }
            let pick =
                idle.firstIndex { $0.removals(for: addresses) == 0 }
                ?? (total >= capacity && clearing.isEmpty
                    ? idle.indices.min { idle[$0].removals(for: addresses) < idle[$1].removals(for: addresses) } : nil)
            if let pick {
                let slot = idle.remove(at: pick)
                lent[ObjectIdentifier(slot)] = slot
                clearIdle()
                return slot
            }
            if total < capacity { return try await startSlot() }
            // Every slot is lent or being cleared: wait for one to be cleared.
            if let task = clearing.values.first { await task.value }
        }
    }

    private func startSlot() async throws -> WarmSlot {
        started += 1
        let slot: WarmSlot
        do {
            slot = try await WarmSlot.start(logger: logger, plantedLeak: plantedLeak)
        } catch {
            started -= 1
            throw error
        }
        guard !closed else {
            await slot.stop()
            throw CaseSkipped(reason: "the run ended before the case started")
        }
        lent[ObjectIdentifier(slot)] = slot
        clearIdle()
        return slot
    }

    /// Clears the case addresses of every idle slot that holds some, in the background.
    private func clearIdle() {
        for slot in idle where slot.removals(for: []) > 0 {
            idle.removeAll { $0 === slot }
            let id = ObjectIdentifier(slot)
            clearing[id] = Task {
                let cleared = (try? await slot.prepare(addresses: [], world: nil)) != nil
                await self.cleared(slot, ok: cleared)
            }
        }
    }

    private func cleared(_ slot: WarmSlot, ok: Bool) async {
        clearing[ObjectIdentifier(slot)] = nil
        if ok && !closed {
            idle.append(slot)
        } else {
            await slot.stop()
        }
    }

    func checkIn(_ slot: WarmSlot, reusable: Bool) async {
        lent[ObjectIdentifier(slot)] = nil
        if reusable && !closed {
            slot.prepareNextResolvers()
            idle.append(slot)
        } else {
            await slot.stop()
        }
    }

    /// Stops every slot, waiting for those being cleared; none can be checked out afterwards.
    /// Safe to call twice.
    public func close() async {
        closed = true
        for task in Array(clearing.values) { await task.value }
        let slots = idle + Array(lent.values)
        idle = []
        lent = [:]
        // Side by side: each waits mostly for its unbound to exit and for `ip netns delete`.
        await withTaskGroup(of: Void.self) { group in
            for slot in slots { group.addTask { await slot.stop() } }
        }
    }
}

/// What a case's libunbound resolver is made with: the same kind can be made ahead of time.
struct ResolverKind: Hashable, Sendable {
    var timeout: Duration
    var validation: ResolverValidation
    var trustAnchor: String?

    func configuration(server: IPAddress, namespace: NetworkNamespace, directory: String) -> ResolverConfiguration {
        ResolverConfiguration(
            server: server, timeout: timeout, namespace: namespace, directory: directory, validation: validation,
            trustAnchor: validation == .validating ? trustAnchor : nil)
    }
}
