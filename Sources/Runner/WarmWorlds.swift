import DNSCore
import DNSWorld
import Foundation
import Logging
import Sandbox
import Scenario

/// A namespace with a long-running unbound (`WarmDNSWorld`) that serves one case after another:
/// between cases its addresses are swapped in one batch and its world is replaced through
/// unbound's remote control. What a case could carry over is removed before the next one starts:
/// the previous addresses, local zones, data and stubs, and every unbound cache; the receiver,
/// the resolver and the sender are the case's own and are stopped with it, so no open connection
/// or cached answer of theirs survives either.
final class WarmSlot: @unchecked Sendable {
    let namespace: NetworkNamespace
    let dns: WarmDNSWorld
    let directory: String
    // Changed only by the case holding the slot (one at a time).
    private var addresses: Set<IPAddress> = []

    private init(namespace: NetworkNamespace, dns: WarmDNSWorld, directory: String) {
        self.namespace = namespace
        self.dns = dns
        self.directory = directory
    }

    static func start(logger: Logger, plantedLeak: Bool = false) async throws -> WarmSlot {
        let registry = ResourceRegistry.shared
        let directory = try registry.makeTemporaryDirectory("slot")
        var namespace: NetworkNamespace?
        do {
            namespace = try await NetworkNamespace.create(name: registry.makeName("slot"), logger: logger)
            let dns = try await WarmDNSWorld.start(in: namespace!, directory: directory, logger: logger)
            dns.keepsPreviousWorld = plantedLeak
            return WarmSlot(namespace: namespace!, dns: dns, directory: directory)
        } catch {
            if let namespace { await namespace.destroy() }
            registry.removeDirectory(directory)
            throw error
        }
    }

    /// How many addresses the slot holds that a case with `wanted` must not find.
    func removals(for wanted: Set<IPAddress>) -> Int { addresses.subtracting(wanted).count }

    /// Makes the slot hold exactly `wanted` addresses and serve `world`.
    func prepare(addresses wanted: [IPAddress], world: WorldSpec) async throws {
        let target = Set(wanted)
        try await namespace.changeAddresses(removing: Array(addresses.subtracting(target)), adding: Array(target.subtracting(addresses)))
        addresses = target
        try dns.load(world)
    }

    func stop() async {
        await dns.stop()
        await namespace.destroy()
        ResourceRegistry.shared.removeDirectory(directory)
    }
}

/// The warm slots of one run: at most one per parallel case. A slot comes back after a case that
/// ran cleanly and is stopped otherwise; `close()` stops them all when the run ends.
public actor WarmWorlds {
    private var idle: [WarmSlot] = []
    private var lent: [ObjectIdentifier: WarmSlot] = [:]
    private var closed = false
    private let logger: Logger
    /// Slots started, for the tests and `-v`.
    public private(set) var started = 0

    /// For the isolation test only: slots that leave the previous world in place.
    private let plantedLeak: Bool

    public init(logger: Logger = Logger(label: "mxharness.warm-worlds")) {
        self.logger = logger
        self.plantedLeak = false
    }

    package init(plantedLeak: Bool) {
        self.logger = Logger(label: "mxharness.warm-worlds")
        self.plantedLeak = plantedLeak
    }

    /// An idle slot, the one that needs the fewest address removals to hold `addresses` (the
    /// kernel takes far longer to remove an address than to add one), or a new one.
    func checkOut(for addresses: Set<IPAddress>) async throws -> WarmSlot {
        guard !closed else { throw CaseSkipped(reason: "the run ended before the case started") }
        if let best = idle.indices.min(by: { idle[$0].removals(for: addresses) < idle[$1].removals(for: addresses) }) {
            let slot = idle.remove(at: best)
            lent[ObjectIdentifier(slot)] = slot
            return slot
        }
        let slot = try await WarmSlot.start(logger: logger, plantedLeak: plantedLeak)
        guard !closed else {
            await slot.stop()
            throw CaseSkipped(reason: "the run ended before the case started")
        }
        started += 1
        lent[ObjectIdentifier(slot)] = slot
        return slot
    }

    func checkIn(_ slot: WarmSlot, reusable: Bool) async {
        lent[ObjectIdentifier(slot)] = nil
        if reusable && !closed {
            idle.append(slot)
        } else {
            await slot.stop()
        }
    }

    /// Stops every slot; none can be checked out afterwards. Safe to call twice.
    public func close() async {
        closed = true
        let slots = idle + Array(lent.values)
        idle = []
        lent = [:]
        for slot in slots { await slot.stop() }
    }
}
