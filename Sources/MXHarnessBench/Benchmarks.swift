import DNSCore
import DNSWorld
import Foundation
import Harness
import Logging
import Resolver
import Runner
import Sandbox
import Scenario

/// Figures printed by `scripts/bench-*`; never asserted in tests.
public enum Benchmarks {
    public static func median(_ values: [Duration]) -> Duration {
        guard !values.isEmpty else { return .zero }
        let sorted = values.sorted()
        return sorted[sorted.count / 2]
    }

    public static func milliseconds(_ duration: Duration) -> String {
        let ms = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        return String(format: "%.1f ms", ms)
    }

    /// Brings a small world up and down `rounds` times (namespace, unbound, resolver), then measures
    /// lookups per second through the resolver against one world.
    public static func dns(rounds: Int, lookups: Int, logger: Logger) async throws(HarnessError) {
        let out = Output()
        try Preflight.ready(logger: logger)
        let spec = WorldSpec(
            records: [
                ResourceRecord(owner: "example.test", data: .mx(preference: 10, exchange: "mx.example.test")),
                ResourceRecord(owner: "mx.example.test", data: .a(IPAddress(literal: "192.0.2.10"))),
                ResourceRecord(owner: "mx.example.test", data: .aaaa(IPAddress(literal: "2001:db8::10"))),
                ResourceRecord(owner: "mail.sender.test", data: .aaaa(IPAddress(literal: "2001:db8:5::25"))),
            ], reverse: .auto)
        let addresses = [
            IPAddress(literal: "192.0.2.10"), IPAddress(literal: "2001:db8::10"), IPAddress(literal: "2001:db8:5::25"),
        ]
        let registry = ResourceRegistry.shared
        let clock = ContinuousClock()
        var ups: [Duration] = [], downs: [Duration] = [], namespaceUps: [Duration] = []
        for _ in 0..<rounds {
            do {
                let start = clock.now
                let directory = try registry.makeTemporaryDirectory("bench")
                let namespace = try await NetworkNamespace.create(
                    name: registry.makeName("bench"), addresses: addresses)
                let afterNamespace = clock.now
                let world = try await DNSWorld.start(spec, in: namespace, directory: directory)
                let resolver = try await DNSResolver(
                    configuration: ResolverConfiguration(
                        server: world.resolverAddress, namespace: namespace, directory: directory))
                _ = try await resolver.addresses(of: "mx.example.test", family: .ipv6)
                let up = clock.now
                resolver.shutdown()
                await world.stop()
                await namespace.destroy()
                registry.removeDirectory(directory)
                let down = clock.now
                namespaceUps.append(afterNamespace - start)
                ups.append(up - start)
                downs.append(down - up)
            } catch {
                throw .failed("round failed: \(error)")
            }
        }
        out.line("dns world: \(rounds) rounds")
        out.line("  median up (namespace + unbound + resolver + first answer): \(milliseconds(median(ups)))")
        out.line("    of which namespace with addresses:                     \(milliseconds(median(namespaceUps)))")
        out.line("  median down:                                             \(milliseconds(median(downs)))")
        out.line(
            "  median up + down:                                        \(milliseconds(median(zip(ups, downs).map { $0 + $1 })))"
        )

        do {
            let directory = try registry.makeTemporaryDirectory("bench")
            let namespace = try await NetworkNamespace.create(name: registry.makeName("bench"), addresses: addresses)
            let world = try await DNSWorld.start(spec, in: namespace, directory: directory)
            let resolver = try await DNSResolver(
                configuration: ResolverConfiguration(
                    server: world.resolverAddress, namespace: namespace, directory: directory))
            let names = ["mx.example.test", "mail.sender.test", "example.test", "nothere.example.test"]
            let start = clock.now
            await withTaskGroup(of: Void.self) { group in
                var issued = 0
                let window = 64
                func issue() {
                    guard issued < lookups else { return }
                    let name = names[issued % names.count]
                    issued += 1
                    group.addTask { _ = try? await resolver.query(name, .aaaa) }
                }
                for _ in 0..<window { issue() }
                while await group.next() != nil { issue() }
            }
            let elapsed = clock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            out.line(
                String(
                    format: "resolver: %d lookups in %.2f s: %.0f lookups/s (64 in flight; cached after first)",
                    lookups, seconds, Double(lookups) / seconds))
            resolver.shutdown()
            await world.stop()
            await namespace.destroy()
            registry.removeDirectory(directory)
        } catch {
            throw .failed("lookup benchmark failed: \(error)")
        }
    }
}

extension Benchmarks {
    /// Runs the cases `rounds` times on the built-in MX; prints cases per second, the median per-case
    /// overhead (namespace + world + MX up and down, without the SMTP exchange) and peak memory.
    public static func run(
        paths: [String], rounds: Int, jobs: Int, warmWorlds: Bool = true, parts: PartCatalog, logger: Logger
    ) async throws(HarnessError) {
        let out = Output()
        let cases = try Preflight.cases(paths, kinds: parts.scenarioKinds, logger: logger)
        var configuration = RunConfiguration()
        configuration.target = .builtin
        configuration.warmWorlds = warmWorlds
        let run = ScenarioRun(
            runner: CaseRunner(configuration: configuration, parts: parts, logger: logger), jobs: jobs)
        let clock = ContinuousClock()
        var overheads: [Duration] = [], setups: [Duration] = [], teardowns: [Duration] = [], walls: [Duration] = []
        var failures = 0
        for round in 1...max(1, rounds) {
            let start = clock.now
            let results = await run.run(cases)
            let wall = clock.now - start
            walls.append(wall)
            overheads += results.map(\.timings.overhead)
            setups += results.map(\.timings.setup)
            teardowns += results.map(\.timings.teardown)
            failures += results.filter { $0.status != .passed && !($0.status.label == "skipped") }.count
            let seconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
            out.line(
                String(
                    format: "round %d: %d cases in %.2f s (%.1f cases/s)", round, cases.count, seconds,
                    Double(cases.count) / seconds))
        }
        let wall = median(walls)
        let seconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
        var selfUsage = rusage(), childUsage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &selfUsage)
        getrusage(RUSAGE_CHILDREN.rawValue, &childUsage)
        out.line("")
        out.line(
            "\(cases.count) cases x \(rounds) rounds, --jobs \(jobs), \(warmWorlds ? "warm slots" : "a fresh world per case (--fresh-worlds)")"
        )
        out.line(
            String(
                format: "  median wall time per round: %.2f s (%.1f cases/s)", seconds, Double(cases.count) / seconds))
        out.line("  median per-case overhead (setup + teardown): \(milliseconds(median(overheads)))")
        out.line("    setup (namespace or slot, world, resolver, MX): \(milliseconds(median(setups)))")
        out.line("    teardown:                                  \(milliseconds(median(teardowns)))")
        out.line(
            "  peak memory: mxharness \(selfUsage.ru_maxrss / 1024) MiB, largest child (unbound, ip, postfix) \(childUsage.ru_maxrss / 1024) MiB"
        )
        if failures > 0 { out.line("  (\(failures) case runs did not pass: the figures include them)") }
    }
}
