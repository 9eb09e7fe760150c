import DNSCore
import DNSWorld
import Foundation
import Logging
import Resolver
import Sandbox
import Scenario

/// A case's world brought up on its own: namespace, unbound, and a resolver pointing at it.
struct StandaloneWorld {
    let namespace: NetworkNamespace
    let world: DNSWorld
    let resolver: DNSResolver
    let directory: String

    static func start(_ scenario: ScenarioCase, timeout: Duration, logger: Logger) async throws -> StandaloneWorld {
        let registry = ResourceRegistry.shared
        let directory = try registry.makeTemporaryDirectory("dns")
        let addresses = scenario.receiver.addresses + Array(scenario.sender.addresses.values)
        do {
            let namespace = try await NetworkNamespace.create(name: registry.makeName("dns"), addresses: addresses, logger: logger)
            do {
                let world = try await DNSWorld.start(scenario.dns, in: namespace, directory: directory, logger: logger)
                let resolver = try await DNSResolver(configuration: ResolverConfiguration(
                    server: world.resolverAddress, timeout: timeout, namespace: namespace, directory: directory), logger: logger)
                return StandaloneWorld(namespace: namespace, world: world, resolver: resolver, directory: directory)
            } catch {
                await namespace.destroy()
                throw error
            }
        } catch {
            registry.removeDirectory(directory)
            throw error
        }
    }

    /// `start`, its failure as the command's error.
    static func up(_ scenario: ScenarioCase, timeout: Duration, logger: Logger) async throws(HarnessError) -> StandaloneWorld {
        do { return try await start(scenario, timeout: timeout, logger: logger) } catch {
            throw .failed("cannot bring up the world of \(scenario.name): \(error)")
        }
    }

    func stop() async {
        resolver.shutdown()
        await world.stop()
        await namespace.destroy()
        ResourceRegistry.shared.removeDirectory(directory)
    }
}

extension Harness {
    /// `mxharness dns check FILE`: every name in the world with what it answers, through libunbound.
    public static func dnsCheck(file: String, variant: String?, timeout: Duration, logger: Logger) async throws(HarnessError) {
        let scenario = try Preflight.oneCase(file: file, variant: variant, configuration: nil, logger: logger)
        let standalone = try await StandaloneWorld.up(scenario, timeout: timeout, logger: logger)
        Output().line(await WorldReport.render(scenario.dns, resolver: standalone.resolver))
        await standalone.stop()
    }

    /// `mxharness dns serve FILE`: the world stays up, with instructions for dig, until Ctrl-C.
    public static func dnsServe(file: String, variant: String?, logger: Logger) async throws(HarnessError) -> Never {
        let out = Output()
        let scenario = try Preflight.oneCase(file: file, variant: variant, configuration: nil, logger: logger)
        let standalone = try await StandaloneWorld.up(scenario, timeout: .seconds(2), logger: logger)
        let ns = standalone.namespace.name
        let example = scenario.dns.records.first.map { "\($0.owner) \($0.type)" } ?? "example.test A"
        // Run as an ordinary user, the world is inside the run's own user namespace: enter it first.
        let enter = UserNamespace.enterPrefix ?? ""
        out.line("""
            The DNS world of \(scenario.name) is up: unbound on 127.0.0.1 and ::1 port 53 inside network namespace \(ns).
            Query it with:
              \(enter)ip netns exec \(ns) dig @127.0.0.1 \(example)
              \(enter)ip netns exec \(ns) dig @::1 -x \(scenario.sender.addresses.values.first?.description ?? "2001:db8::1")
            unbound configuration: \(standalone.world.configPath)
            query log:             \(standalone.world.logPath)   (tail -f it to watch queries)
            Press Ctrl-C to take the world down.
            """)
        // Runs until SIGINT/SIGTERM, whose handler removes the namespace, unbound and the folder.
        while true {
            try? await Task.sleep(for: .seconds(3600))
        }
    }
}

/// What every name of a world answers.
enum WorldReport {
    static let types: [RecordType] = [.a, .aaaa, .mx, .txt, .ptr, .cname, .ns, .soa]

    static func kind(_ error: DNSLookupError) -> String {
        switch error {
        case .nxdomain: "NXDOMAIN"
        case .nodata: "NODATA"
        case .servfail: "SERVFAIL"
        case .refused: "REFUSED"
        case .timeout: "no answer (timeout)"
        case .other(_, _, let reason): reason
        }
    }

    static func render(_ spec: WorldSpec, resolver: any DNSLookup) async -> String {
        var names: [String] = []
        for record in spec.effectiveRecords where !names.contains(record.owner) { names.append(record.owner) }
        for fault in spec.faults where !names.contains(fault.name) { names.append(fault.name) }
        var lines: [String] = []
        for name in names {
            lines.append(DNSName.absolute(name))
            var answers: [String] = []
            var errors: [RecordType: DNSLookupError] = [:]
            for type in types {
                do {
                    for record in try await resolver.query(name, type) {
                        answers.append("  \(type.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0))\(record)")
                    }
                } catch {
                    if case .nxdomain = error {
                        errors = [:]
                        answers = ["  NXDOMAIN"]
                        break
                    }
                    if case .nodata = error { continue }
                    errors[type] = error
                }
            }
            // A fault answers every type alike: say it once.
            let kinds = Set(errors.values.map(Self.kind))
            if errors.count == types.count, let kind = kinds.first, kinds.count == 1 {
                answers.append("  \(kind) (every type)")
            } else {
                for type in types {
                    if let error = errors[type] { answers.append("  \(type.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0))\(Self.kind(error))") }
                }
            }
            lines.append(contentsOf: answers.isEmpty ? ["  NODATA for every type"] : answers)
        }
        if names.isEmpty { lines.append("(the world is empty: every name is NXDOMAIN)") }
        return lines.joined(separator: "\n")
    }
}
