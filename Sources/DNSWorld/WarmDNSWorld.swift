import DNSCore
import DNSSEC
import Foundation
import Logging
import Sandbox

/// A long-running unbound whose world is replaced between cases through its remote control, so a
/// case does not pay for starting and stopping a daemon. After `load`, it answers exactly as a
/// fresh `DNSWorld` of the same spec would (the same `UnboundConfiguration`, swapped in place):
/// the previous world's local zones, data and stubs are removed, and every cache unbound keeps
/// (messages, RRsets, the infrastructure and negative caches, queries in flight) is flushed, so
/// no record, cached answer or negative answer of an earlier case can reach a later one.
///
/// unbound 1.17's remote control cannot add or remove an `auth-zone`, so a signed world (and the
/// first unsigned world after one) is loaded by rewriting the configuration and zone files and
/// sending `reload`: the daemon reads its configuration anew and starts its worker again with
/// every cache empty (daemon/remote.c `do_reload`, `reuse_cache` 0), keeping its sockets.
public final class WarmDNSWorld: @unchecked Sendable {
    public let world: DNSWorld
    let control: UnboundControl
    // Changed only by `load`, which one case at a time calls.
    private let lock = NSLock()
    private var loaded: UnboundConfiguration?
    private var logMark: UInt64 = 0
    /// For the isolation test only: the previous world is left in place (a planted leak the test
    /// must catch).
    @_spi(Testing) public var keepsPreviousWorld = false

    /// The folder in memory that signed worlds' zone files are written to, for the slot's life.
    public let zoneDirectory: String

    private init(world: DNSWorld, control: UnboundControl, zoneDirectory: String) {
        self.world = world
        self.control = control
        self.zoneDirectory = zoneDirectory
    }

    /// Starts unbound with no world in `namespace`, its remote control on a socket in `directory`.
    public static func start(
        in namespace: NetworkNamespace, directory: String, logger: Logger = Logger(label: "mxharness.dns")
    ) async throws -> WarmDNSWorld {
        let socket = directory + "/unbound.ctl"
        let zones = try ResourceRegistry.shared.makeMemoryDirectory("zones")
        do {
            let world = try DNSWorld.launch(WorldSpec(), in: namespace, directory: directory, controlSocket: socket)
            try await world.waitUntilServing()
            return WarmDNSWorld(world: world, control: UnboundControl(socketPath: socket), zoneDirectory: zones)
        } catch {
            ResourceRegistry.shared.removeDirectory(zones)
            throw error
        }
    }

    public var resolverAddress: IPAddress { world.resolverAddress }

    /// Whether `load` can give exactly what a fresh world of `spec` gives. unbound 1.17 links a
    /// zone added through the remote control to no enclosing zone (services/localzone.c
    /// `local_zones_add_zone` looks its own name up as the parent; fixed upstream in 1.21,
    /// NLnetLabs/unbound#1076); `load` repairs the links by adding the root zone last, which
    /// makes every unlinked zone its child. That is right unless one fault's name lies under
    /// another's: such a world runs fresh.
    public static func canLoad(_ spec: WorldSpec) -> Bool {
        // A signed world is loaded with a reload, which reads the zones from the configuration.
        if spec.isSigned { return true }
        let names = spec.faults.map { DNSName.absolute($0.name) }
        return !names.contains(".")
            && !names.contains { inner in
                names.contains { outer in outer != inner && DNSName.isSubdomain(inner, of: outer) }
            }
    }

    /// Replaces the world unbound serves with `spec` (which `canLoad` accepts); the query log
    /// from here on is the new world's (`queryLog`).
    public func load(_ spec: WorldSpec) throws {
        let signed = spec.isSigned ? try WorldSigner.sign(spec) : nil
        var next = UnboundConfiguration(
            world: spec, directory: world.directory, logFile: world.logPath, port: world.port, signed: signed,
            zoneDirectory: zoneDirectory)
        next.controlSocket = control.socketPath
        let previous = lock.withLock { () -> UnboundConfiguration? in
            defer { loaded = nil }
            return loaded
        }
        if signed != nil || previous?.signed != nil {
            try reload(next)
        } else {
            try swapLocalZones(from: previous, to: next)
        }
        let mark = Self.size(of: world.logPath)
        lock.withLock {
            loaded = next
            logMark = mark
        }
    }

    /// The unsigned world `next` in place of `previous` (also unsigned) through the remote
    /// control's local zone and stub commands, every cache flushed in between.
    private func swapLocalZones(from previous: UnboundConfiguration?, to next: UnboundConfiguration)
        throws(UnboundControlError)
    {
        let removesPrevious = !lock.withLock { keepsPreviousWorld }
        if removesPrevious {
            for zone in previous?.stubZones ?? [] { try control.run("stub_remove \(zone)") }
            // The root zone goes too, with every record of the previous world in it.
            try control.run("local_zones_remove", lines: (previous?.worldZones.map(\.name) ?? []) + ["."])
        }
        try flushCaches()
        // The root zone last, so that it becomes the parent of every zone added before it.
        try control.run(
            "local_zones",
            lines: next.worldZones.map { "\($0.name) \($0.type)" } + (removesPrevious ? [". static"] : []))
        if !next.worldData.isEmpty { try control.run("local_datas", lines: next.worldData) }
        for zone in next.stubZones { try control.run("stub_add \(zone) \(next.stubAddress)") }
    }

    /// `next` written as the daemon's configuration (and zone files), then read anew with `reload`.
    /// `status` is answered by the reloaded worker only (the old one stops taking commands once it
    /// answered `reload`), so when it returns the new world serves.
    private func reload(_ next: UnboundConfiguration) throws {
        // The previous world's zone files go: the configuration names only the new world's.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: zoneDirectory)) ?? [] {
            unlink(zoneDirectory + "/" + name)
        }
        try next.writeZoneFiles()
        try UnboundConfiguration.writeAnew(next.render(), to: world.configPath)
        try control.run("reload")
        try control.run("status")
    }

    /// Every cache unbound keeps, emptied. `flush_zone .` walks the message and RRset caches and
    /// expires every entry at or below the root, negative answers and SERVFAILs included
    /// (daemon/remote.c `do_flush_zone`), which is everything `flush_negative` and `flush_bogus`
    /// expire there too; what those two reach beyond it is the validator's, which this unbound
    /// does not run (`module-config: "iterator"`).
    func flushCaches() throws(UnboundControlError) {
        try control.run("flush_zone .")
        try control.run("flush_infra all")
        try control.run("flush_requestlist")
    }

    /// unbound's log since the current world was loaded: the queries of one case only.
    public var queryLog: String {
        let mark = lock.withLock { logMark }
        guard let handle = FileHandle(forReadingAtPath: world.logPath) else { return "" }
        defer { try? handle.close() }
        try? handle.seek(toOffset: mark)
        return String(decoding: (try? handle.readToEnd()) ?? Data(), as: UTF8.self)
    }

    /// The configuration a fresh world of the loaded spec would have run with (for artifacts).
    public var renderedConfiguration: String {
        lock.withLock { loaded }?.render() ?? ""
    }

    /// True when the loaded world is signed (its zone files are in `zoneDirectory`).
    public var isSigned: Bool {
        lock.withLock { loaded?.signed != nil }
    }

    public func stop() async {
        await world.stop()
        ResourceRegistry.shared.removeDirectory(zoneDirectory)
    }

    static func size(of path: String) -> UInt64 {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.uint64Value ?? 0
    }
}
