#if canImport(Glibc)
import Glibc
#endif
import DNSCore
import DNSWorld
import Foundation
import Resolver
import Sandbox
import Testing

/// What integration tests need from the machine, and why they skip without it.
public enum IntegrationEnvironment {
    public static var isRoot: Bool { geteuid() == 0 }
    public static var hasUnbound: Bool { FileManager.default.isExecutableFile(atPath: DNSWorld.unboundPath) }
    public static var hasPostfix: Bool { FileManager.default.isExecutableFile(atPath: "/usr/sbin/postfix") }

    /// True when namespaces and unbound are available. In CI (`CI=true`) they must be: a missing
    /// prerequisite there is reported by `IntegrationEnvironmentTests` as a failure, not a skip.
    public static var canRunWorlds: Bool { isRoot && hasUnbound }

    public static let worldSkipReason: Comment =
        "needs root (network namespaces) and unbound (apt-get install unbound); run as root"
}

/// A namespace, an unbound world and a libunbound resolver pointed at it, torn down together.
public struct WorldFixture: Sendable {
    public let namespace: NetworkNamespace
    public let world: DNSWorld
    public let resolver: DNSResolver
    public let directory: String

    public static func withWorld<T: Sendable>(
        _ spec: WorldSpec, addresses: [IPAddress] = [], timeout: Duration = .milliseconds(800),
        timeoutFaultsKeepRecords: Bool = false,
        _ body: (WorldFixture) async throws -> T
    ) async throws -> T {
        let registry = ResourceRegistry.shared
        let directory = try registry.makeTemporaryDirectory("test")
        let namespace: NetworkNamespace
        do {
            namespace = try await NetworkNamespace.create(name: registry.makeName("test"), addresses: addresses)
        } catch {
            registry.removeDirectory(directory)
            throw error
        }
        var world: DNSWorld?
        var resolver: DNSResolver?
        do {
            world = try await DNSWorld.start(
                spec, in: namespace, directory: directory, timeoutFaultsKeepRecords: timeoutFaultsKeepRecords)
            resolver = try await DNSResolver(
                configuration: ResolverConfiguration(
                    server: world!.resolverAddress, timeout: timeout, namespace: namespace, directory: directory))
            let fixture = WorldFixture(namespace: namespace, world: world!, resolver: resolver!, directory: directory)
            let result = try await body(fixture)
            resolver?.shutdown()
            await world?.stop()
            await namespace.destroy()
            registry.removeDirectory(directory)
            return result
        } catch {
            resolver?.shutdown()
            await world?.stop()
            await namespace.destroy()
            registry.removeDirectory(directory)
            throw error
        }
    }

    /// Records from zone lines; a bad line fails the test at its call site.
    public static func records(_ lines: [String]) throws -> [ResourceRecord] {
        try lines.map { line in try ZoneLine.parse(line) }
    }
}
