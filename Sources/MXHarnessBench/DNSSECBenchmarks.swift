import DNSCore
import DNSSEC
import DNSWorld
import Foundation
import Harness
import Logging
import Resolver
import Sandbox

/// Figures printed by `scripts/bench-dnssec`; never asserted in tests.
extension Benchmarks {
    /// A world as the library's dnssec cases have it: the recipient domain with its MX, the
    /// sender's names with SPF, both PTRs, the recipient domain and the sender's IPv6 reverse zone
    /// listed as zones. Signed, it has 6 zones.
    static let typicalSignedWorld: WorldSpec = {
        let lines = [
            "example.test. MX 10 mx.example.test.", "mx.example.test. A 192.0.2.10",
            "mx.example.test. AAAA 2001:db8::10",
            "mail.sender.test. A 198.51.100.25", "mail.sender.test. AAAA 2001:db8:5::25",
            "sender.test. TXT \"v=spf1 ip4:198.51.100.25 ip6:2001:db8:5::/64 -all\"",
            "2001:db8:5::25 PTR mail.sender.test.", "198.51.100.25 PTR mail.sender.test.",
        ]
        return WorldSpec(
            records: lines.map { try! ZoneLine.parse($0) }, dnssec: .signed,
            zones: [
                ZoneDeclaration(name: "example.test"),
                ZoneDeclaration(name: "5.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", state: .wrongDS),
            ])
    }()

    /// A larger world: 20 domains with MX, addresses and SPF, each its own zone.
    static let largeSignedWorld: WorldSpec = {
        var lines: [String] = []
        var zones: [ZoneDeclaration] = []
        for index in 1...20 {
            let domain = "domain\(index).test"
            lines += [
                "\(domain). MX 10 mx.\(domain).", "mx.\(domain). A 192.0.2.\(index)",
                "mx.\(domain). AAAA 2001:db8::\(index)",
                "\(domain). TXT \"v=spf1 mx -all\"", "2001:db8::\(index) PTR mx.\(domain).",
            ]
            zones.append(ZoneDeclaration(name: domain, state: index % 5 == 0 ? .expired : .secure))
        }
        return WorldSpec(records: lines.map { try! ZoneLine.parse($0) }, dnssec: .signed, zones: zones)
    }()

    /// Signing cost (release builds are what the figures in docs/benchmarks.md are for), then,
    /// as root, a fresh unbound's start and a warm unbound's load for the typical world, signed
    /// and unsigned side by side.
    public static func dnssec(rounds: Int, logger: Logger) async throws(HarnessError) {
        let out = Output()
        let rounds = max(5, rounds)
        let clock = ContinuousClock()
        for (label, spec) in [("typical world", typicalSignedWorld), ("large world", largeSignedWorld)] {
            var times: [Duration] = []
            var cpuTimes: [Duration] = []
            var zones = 0
            var records = 0
            do {
                _ = try WorldSigner.sign(spec)  // keys made once per process, as in a run
                for _ in 0..<rounds {
                    let start = clock.now
                    let cpuStart = threadCPUTime()
                    let signed = try WorldSigner.sign(spec)
                    cpuTimes.append(threadCPUTime() - cpuStart)
                    times.append(clock.now - start)
                    zones = signed.zones.count
                    records = signed.zones.reduce(0) { $0 + $1.records.count }
                }
            } catch {
                throw .failed("signing failed: \(error)")
            }
            let sorted = times.sorted()
            out.line(
                "sign \(label) (\(spec.records.count) records -> \(zones) zones, \(records) records served), "
                    + "\(rounds) rounds:"
            )
            out.line(
                "  wall: median \(milliseconds(median(times))), "
                    + "p90 \(milliseconds(sorted[sorted.count * 9 / 10])), min \(milliseconds(sorted[0]))"
            )
            // The thread's own CPU time: what signing costs, whatever else the machine runs.
            out.line("  CPU:  median \(milliseconds(median(cpuTimes))), min \(milliseconds(cpuTimes.min() ?? .zero))")
        }
        guard geteuid() == 0 else {
            out.line("(not root: the unbound start and warm load figures need network namespaces)")
            return
        }
        var unsigned = typicalSignedWorld
        unsigned.dnssec = .unsigned
        unsigned.zones = []
        let worlds = [("unsigned", unsigned), ("signed", typicalSignedWorld)]
        let registry = ResourceRegistry.shared
        let serverRounds = max(5, rounds / 10)
        do {
            var fresh: [String: [Duration]] = [:]
            for _ in 0..<serverRounds {
                for (label, spec) in worlds {
                    let directory = try registry.makeTemporaryDirectory("bench")
                    let namespace = try await NetworkNamespace.create(name: registry.makeName("bench"))
                    let start = clock.now
                    let world = try await DNSWorld.start(spec, in: namespace, directory: directory)
                    fresh[label, default: []].append(clock.now - start)
                    await world.stop()
                    await namespace.destroy()
                    registry.removeDirectory(directory)
                }
            }
            let directory = try registry.makeTemporaryDirectory("bench")
            let namespace = try await NetworkNamespace.create(name: registry.makeName("bench"))
            let warm = try await WarmDNSWorld.start(in: namespace, directory: directory, logger: logger)
            var loads: [String: [Duration]] = [:]
            for _ in 0..<serverRounds {
                // Each kind after each: signed after unsigned and after signed (a reload either way).
                for (label, spec) in worlds + worlds.reversed() {
                    let start = clock.now
                    try warm.load(spec)
                    loads[label, default: []].append(clock.now - start)
                }
            }
            await warm.stop()
            await namespace.destroy()
            registry.removeDirectory(directory)
            out.line("unbound for the typical world, \(serverRounds) rounds (medians):")
            for (label, _) in worlds {
                out.line(
                    "  \(label.padding(toLength: 9, withPad: " ", startingAt: 0)) "
                        + "fresh start (sign, write, start, serving): \(milliseconds(median(fresh[label] ?? [])))"
                        + "   warm load: \(milliseconds(median(loads[label] ?? [])))")
            }
        } catch {
            throw .failed("unbound rounds failed: \(error)")
        }
    }
}

/// CPU time the calling thread has used (CLOCK_THREAD_CPUTIME_ID).
func threadCPUTime() -> Duration {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return .seconds(spec.tv_sec) + .nanoseconds(spec.tv_nsec)
}
