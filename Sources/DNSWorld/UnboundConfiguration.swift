import DNSCore
import DNSSEC
import Foundation

/// Renders unbound.conf for one world: every record as `local-data` under a `static` root zone,
/// so a name that is not in the world is NXDOMAIN and a name with other types is NODATA, with
/// unbound's built-in answers for special and private zones switched off.
///
/// Faults are produced by unbound itself, on the wire:
/// - `nxdomain`: `local-zone: NAME always_nxdomain`;
/// - `refused`: `local-zone: NAME refuse` (RCODE REFUSED);
/// - `timeout`: `local-zone: NAME deny` (the query is dropped; no answer at all);
/// - `servfail`: NAME is made `transparent` and stubbed to this same unbound, which it queries
///   from 127.0.0.2 (`outgoing-interface`); that address is refused by `access-control`, and an
///   iterator whose only server refuses answers SERVFAIL (RFC 1035 4.1.1 RCODE 2).
/// Records at or below a faulty name are left out: the fault replaces them.
///
/// A signed world (`signed`) is served from zone files instead, one `auth-zone` per zone with
/// `for-downstream: no` and `for-upstream: yes`: unbound answers from them as if from the zones'
/// servers, through its iterator, and a `validating` unbound validates those answers from the
/// world's trust anchor first (unbound.conf(5), for-downstream). There is no static root zone
/// (local zones come before auth zones and would answer instead), and `nxdomain` faults are the
/// signer's (`ZoneLayout`): the names are absent, so the NXDOMAIN is authenticated. The other
/// faults stay local zones and stubs, which come before the auth zones too.
public struct UnboundConfiguration: Sendable {
    public var world: WorldSpec
    public var directory: String
    public var logFile: String
    public var listenAddresses: [String]
    public var port: UInt16
    /// When set, a `timeout` fault still answers the records written at and below its name and
    /// drops only the other queries (unbound's `deny` answers local data that matches). The scenario
    /// format never sets this (its faults replace data); the RFC 7208 suite's `TIMEOUT` needs it.
    public var timeoutFaultsKeepRecords = false
    /// A Unix socket for unbound's remote control (plain, no certificates), through which a warm
    /// world swaps its data; nil: no remote control.
    public var controlSocket: String?

    /// The signed zones of a signed world, served from `zoneFile(for:)`; nil for an unsigned one.
    public var signed: SignedWorld?
    /// True for the validating twin of a signed world's unbound: the validator runs, from the
    /// world's trust anchor, and replies carry extended DNS errors (RFC 8914).
    public var validating = false

    /// The address unbound queries itself from for `servfail` names.
    public static let selfQueryAddress = "127.0.0.2"

    /// Where a signed world's zone files are (`zoneFile(for:)`).
    public var zoneDirectory: String

    public init(
        world: WorldSpec, directory: String, logFile: String, listenAddresses: [String] = ["127.0.0.1", "::1"],
        port: UInt16 = 53,
        signed: SignedWorld? = nil, validating: Bool = false, zoneDirectory: String? = nil
    ) {
        self.world = world
        self.directory = directory
        self.zoneDirectory = zoneDirectory ?? directory + "/zones"
        self.logFile = logFile
        self.listenAddresses = listenAddresses
        self.port = port
        self.signed = signed
        self.validating = validating
    }

    /// Where the zone file of a signed world's `zone` is written.
    public func zoneFile(for zone: String) -> String {
        let normal = DNSName.normalize(zone)
        let name = normal == "." ? "root" : normal.replacingOccurrences(of: "/", with: "_")
        return zoneDirectory + "/" + name + ".zone"
    }

    /// Writes the zone files of a signed world (nothing for an unsigned one).
    public func writeZoneFiles() throws {
        guard let signed else { return }
        try FileManager.default.createDirectory(atPath: zoneDirectory, withIntermediateDirectories: true)
        for zone in signed.zones {
            try Self.writeAnew(zone.zoneFile, to: zoneFile(for: zone.name))
        }
    }

    /// Writes `text` to a new file at `path`, removing the one there first. A file read once by
    /// the unbound about to (re)load needs no atomic write, and rewriting an ext4 file in place
    /// (truncate, or rename over it) makes the kernel write it out at close (`auto_da_alloc`),
    /// tens of milliseconds on a busy disk; a new file does not.
    public static func writeAnew(_ text: String, to path: String) throws {
        if unlink(path) != 0 && errno != ENOENT {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    /// The records unbound serves: the world's effective records minus those a fault covers
    /// (none as local data in a signed world: they are in its zone files).
    public var servedRecords: [ResourceRecord] {
        guard signed == nil else { return [] }
        return world.effectiveRecords.filter { record in
            !world.faults.contains { fault in
                DNSName.isSubdomain(record.owner, of: fault.name)
                    && !(timeoutFaultsKeepRecords && fault.kind == .timeout)
            }
        }
    }

    public func render() -> String {
        var lines: [String] = ["# mxharness world: generated, do not edit", "server:"]
        func set(_ key: String, _ value: String) { lines.append("  \(key): \(value)") }
        for address in listenAddresses { set("interface", address) }
        set("port", "\(port)")
        set("do-daemonize", "no")
        set("username", "\"\"")
        set("chroot", "\"\"")
        set("pidfile", "\"\"")
        set("directory", quoted(directory))
        set("use-syslog", "no")
        set("logfile", quoted(logFile))
        set("log-time-ascii", "yes")
        set("verbosity", "1")
        set("log-queries", "yes")
        set("log-replies", "yes")
        set("log-local-actions", "yes")
        set("log-servfail", "yes")
        set("num-threads", "1")
        // unbound 1.17 defaults to SO_REUSEPORT, which would let a second daemon share port 53
        // silently; a world must fail loudly instead.
        set("so-reuseport", "no")
        set("outgoing-range", "64")
        // unbound shuffles its list of permitted outgoing ports at start, one getrandom(2) per port:
        // with all 64k ports that is most of its start-up time. A world only
        // queries itself (servfail faults), so 256 ports are plenty.
        set("outgoing-port-avoid", "\"0-65535\"")
        set("outgoing-port-permit", "\"61000-61255\"")
        set("msg-cache-size", "1m")
        set("rrset-cache-size", "1m")
        set("infra-cache-numhosts", "64")
        if validating {
            set("module-config", "\"validator iterator\"")
            set("key-cache-size", "1m")
            set("neg-cache-size", "1m")
            if let anchor = signed?.trustAnchor { set("trust-anchor", quoted(anchor)) }
            // RFC 8914 extended errors in replies, off by default in 1.17; one log line per
            // validation failure; no RFC 8145 key-tag queries or sentinel names.
            set("ede", "yes")
            set("val-log-level", "2")
            set("trust-anchor-signaling", "no")
            set("root-key-sentinel", "no")
        } else {
            set("module-config", "\"iterator\"")
        }
        set("qname-minimisation", "no")
        set("minimal-responses", "yes")
        set("do-not-query-localhost", "no")
        set("outgoing-interface", Self.selfQueryAddress)
        set("access-control", "0.0.0.0/0 allow")
        set("access-control", "::/0 allow")
        set("access-control", "\(Self.selfQueryAddress)/32 refuse")
        for zone in UnboundDefaultZones.names {
            set("local-zone", "\(quoted(zone)) nodefault")
        }
        if signed == nil { set("local-zone", "\".\" static") }
        for zone in worldZones { set("local-zone", "\(quoted(zone.name)) \(zone.type)") }
        for data in worldData { set("local-data", "'\(data)'") }
        for zone in stubZones {
            lines.append("stub-zone:")
            lines.append("  name: \(quoted(zone))")
            lines.append("  stub-addr: \(stubAddress)")
        }
        for zone in signed?.zones ?? [] {
            lines.append("auth-zone:")
            lines.append("  name: \(quoted(DNSName.absolute(zone.name)))")
            lines.append("  zonefile: \(quoted(zoneFile(for: zone.name)))")
            lines.append("  for-downstream: no")
            lines.append("  for-upstream: yes")
            lines.append("  fallback-enabled: no")
        }
        if let controlSocket {
            lines.append("remote-control:")
            lines.append("  control-enable: yes")
            lines.append("  control-interface: \(quoted(controlSocket))")
            lines.append("  control-use-cert: no")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The local zones the world's faults make, as `(name, type)`: everything but the fixed root
    /// `static` zone and the switched-off defaults, so a warm world can swap them
    /// (`WarmDNSWorld`).
    public var worldZones: [(name: String, type: String)] {
        var zones: [(name: String, type: String)] = []
        for fault in world.faults {
            let zone = DNSName.absolute(fault.name)
            switch fault.kind {
            case .nxdomain where signed != nil: break
            case .nxdomain: zones.append((zone, "always_nxdomain"))
            case .refused: zones.append((zone, "refuse"))
            case .timeout: zones.append((zone, "deny"))
            case .servfail: zones.append((zone, "transparent"))
            }
        }
        if timeoutFaultsKeepRecords {
            // Names below a timeout that own records answer normally (NODATA for other types).
            var below: [String] = []
            for fault in world.faults where fault.kind == .timeout {
                for record in servedRecords
                where record.owner != fault.name && DNSName.isSubdomain(record.owner, of: fault.name)
                    && !below.contains(record.owner)
                {
                    below.append(record.owner)
                }
            }
            for owner in below { zones.append((DNSName.absolute(owner), "static")) }
        }
        return zones
    }

    /// The `local-data` lines: one zone-file line per served record.
    public var worldData: [String] { servedRecords.map(\.description) }

    /// The names of `servfail` faults, each stubbed to this same unbound (`stubAddress`).
    public var stubZones: [String] {
        world.faults.filter { $0.kind == .servfail }.map { DNSName.absolute($0.name) }
    }

    /// Where `servfail` names are stubbed to: this unbound itself.
    public var stubAddress: String { "\(listenAddresses.first ?? "127.0.0.1")@\(port)" }

    private func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\"", with: "") + "\""
    }
}
