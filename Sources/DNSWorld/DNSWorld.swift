import DNSCore
import DNSSEC
import Foundation
import Logging
import Sandbox

/// A world that could not be brought up, with what unbound said.
public struct DNSWorldError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var log: String

    public var description: String {
        let said = log.trimmingCharacters(in: .whitespacesAndNewlines)
        return message + (said.isEmpty ? "" : "\nunbound said:\n" + said)
    }
}

/// One scenario's DNS: a real unbound daemon inside the case's namespace, listening on
/// 127.0.0.1 and ::1 port 53 there, serving exactly the world's records and faults.
///
/// A signed world can have a second daemon, its validating twin (`Role.validating`) on
/// 127.0.0.3: the same zones, validated from the world's trust anchor, for the parts whose
/// resolver validates (`receiver.resolver`, `sender.resolver`). Whether a server validates is a
/// setting of the whole daemon (`module-config`), and a stub resolver never sets CD, so one
/// process cannot be both.
public final class DNSWorld: Sendable {
    /// Which of a world's daemons this is.
    public enum Role: Sendable, Hashable {
        /// Does not validate: answers every zone's data, bogus or not. On 127.0.0.1 and ::1.
        case plain
        /// Validates and answers SERVFAIL for bogus data, with an extended DNS error. On 127.0.0.3.
        case validating

        var fileStem: String { self == .plain ? "unbound" : "unbound-validating" }
        var listenAddresses: [String] {
            self == .plain ? ["127.0.0.1", "::1"] : [DNSWorld.validatingAddress.description]
        }
    }

    /// Where a world's validating twin listens.
    public static let validatingAddress = IPAddress(literal: "127.0.0.3")

    public let spec: WorldSpec
    /// The signed zones of a signed world.
    public let signed: SignedWorld?
    public let role: Role
    public let namespace: NetworkNamespace
    public let directory: String
    public let configPath: String
    /// unbound's log: one line per query and per reply (the evidence behind a rejection).
    public let logPath: String
    public let port: UInt16
    /// Where a signed world's zone files are: a folder in memory (`makeMemoryDirectory`) the plain
    /// daemon made and removes when it stops, shared with its validating twin.
    public let zoneDirectory: String?
    private let ownsZoneDirectory: Bool
    private let process: ManagedProcess

    /// Where clients inside the namespace send queries.
    public var resolverAddress: IPAddress { role == .plain ? IPAddress(literal: "127.0.0.1") : Self.validatingAddress }

    private init(
        spec: WorldSpec, signed: SignedWorld?, role: Role, namespace: NetworkNamespace, directory: String,
        configPath: String,
        logPath: String, port: UInt16, zoneDirectory: String?, ownsZoneDirectory: Bool, process: ManagedProcess
    ) {
        self.zoneDirectory = zoneDirectory
        self.ownsZoneDirectory = ownsZoneDirectory
        self.spec = spec
        self.signed = signed
        self.role = role
        self.namespace = namespace
        self.directory = directory
        self.configPath = configPath
        self.logPath = logPath
        self.port = port
        self.process = process
    }

    public static let unboundPath = "/usr/sbin/unbound"

    /// Writes the configuration into `directory`, starts unbound in `namespace` and returns once it
    /// serves.
    public static func start(
        _ spec: WorldSpec, in namespace: NetworkNamespace, directory: String, port: UInt16 = 53,
        timeoutFaultsKeepRecords: Bool = false, signed: SignedWorld? = nil, role: Role = .plain,
        startTimeout: Duration = .seconds(5), logger: Logger = Logger(label: "mxharness.dns")
    ) async throws -> DNSWorld {
        let world = try launch(
            spec, in: namespace, directory: directory, port: port, timeoutFaultsKeepRecords: timeoutFaultsKeepRecords,
            signed: signed, role: role)
        try await world.waitUntilServing(timeout: startTimeout)
        logger.debug("dns world up", metadata: ["netns": "\(namespace.name)", "records": "\(spec.records.count)"])
        return world
    }

    /// Writes the configuration and starts unbound without waiting for it, so that a caller can set
    /// up other parts meanwhile; `waitUntilServing` then waits for it.
    ///
    /// A signed world is signed here unless `signed` is given, and its zone files are written
    /// by the plain daemon's launch: a validating twin is launched after it with the same
    /// `signed` world (`validatingTwin`).
    public static func launch(
        _ spec: WorldSpec, in namespace: NetworkNamespace, directory: String, port: UInt16 = 53,
        timeoutFaultsKeepRecords: Bool = false, controlSocket: String? = nil, signed: SignedWorld? = nil,
        role: Role = .plain,
        zoneDirectory: String? = nil
    ) throws -> DNSWorld {
        guard FileManager.default.isExecutableFile(atPath: unboundPath) else {
            throw DNSWorldError(message: "unbound is not installed at \(unboundPath): apt-get install unbound", log: "")
        }
        let signed = try signed ?? (spec.isSigned ? WorldSigner.sign(spec) : nil)
        var zones = zoneDirectory
        var ownsZones = false
        if signed != nil, zones == nil {
            zones = try ResourceRegistry.shared.makeMemoryDirectory("zones")
            ownsZones = true
        }
        do {
            let configPath = directory + "/\(role.fileStem).conf"
            let logPath = directory + "/\(role.fileStem).log"
            var config = UnboundConfiguration(
                world: spec, directory: directory, logFile: logPath, listenAddresses: role.listenAddresses, port: port,
                signed: signed, validating: role == .validating, zoneDirectory: zones)
            config.timeoutFaultsKeepRecords = timeoutFaultsKeepRecords
            config.controlSocket = controlSocket
            if ownsZones { try config.writeZoneFiles() }
            // Read once, by the unbound about to start: a plain write (an atomic one also syncs the disk).
            try config.render().write(toFile: configPath, atomically: false, encoding: .utf8)
            let process = try ManagedProcess.launch(
                unboundPath, ["-d", "-c", configPath], in: namespace, outputPath: directory + "/\(role.fileStem).out")
            return DNSWorld(
                spec: spec, signed: signed, role: role, namespace: namespace, directory: directory,
                configPath: configPath,
                logPath: logPath, port: port, zoneDirectory: zones, ownsZoneDirectory: ownsZones, process: process)
        } catch {
            if ownsZones, let zones { ResourceRegistry.shared.removeDirectory(zones) }
            throw error
        }
    }

    /// Launches the validating twin of this (plain) world: the same zones, files and faults.
    public func launchValidatingTwin() throws -> DNSWorld {
        try Self.launch(
            spec, in: namespace, directory: directory, port: port, signed: signed, role: .validating,
            zoneDirectory: zoneDirectory)
    }

    /// The trust anchor of the world's validating resolvers (nil: unsigned, or the root insecure).
    public var trustAnchor: String? { signed?.trustAnchor }

    /// Returns once this daemon (not another one on the port) logs that it serves, which it does after
    /// binding its sockets; throws with unbound's words when it exits or does not get there in time.
    public func waitUntilServing(timeout: Duration = .seconds(5)) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            let log = queryLog
            if log.contains("start of service") && process.isRunning { return }
            if !process.isRunning {
                let said = (try? String(contentsOfFile: directory + "/\(role.fileStem).out", encoding: .utf8)) ?? ""
                await stop()
                throw DNSWorldError(message: "unbound exited at start (config \(configPath))", log: said + log)
            }
            if ContinuousClock.now > deadline {
                await stop()
                throw DNSWorldError(message: "unbound did not start within \(timeout)", log: log)
            }
            try? await Task.sleep(for: .milliseconds(1))
        }
    }

    public func stop() async {
        await process.terminate()
        if ownsZoneDirectory, let zoneDirectory { ResourceRegistry.shared.removeDirectory(zoneDirectory) }
    }

    /// The query log so far.
    public var queryLog: String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }
}
