import DNSCore
import DNSWorld
import Foundation
import Logging
import PostfixTarget
import Runner
import Sandbox
import Scenario

/// `mxharness bench swaks N`: N generated cases (an IPv6-only sender at a receiver with `fcrdns`,
/// every other sender without a PTR) as a plain shell loop would test them, swaks against one
/// long-running Postfix and one unbound with no isolation at all, side by side with `mxharness run`
/// of the same cases on the built-in MX and on Postfix. Prints cases per second for each side
/// (median and spread over the rounds) and the ratios; asserts nothing.
extension Benchmarks {
    public struct SwaksOptions: Sendable {
        public var count: Int
        public var rounds: Int
        public var jobs: Int
        public var swaksLoop: Bool
        public var targets: [ReceiverTarget]

        public init(count: Int, rounds: Int, jobs: Int, swaksLoop: Bool, targets: [ReceiverTarget]) {
            self.count = count
            self.rounds = rounds
            self.jobs = jobs
            self.swaksLoop = swaksLoop
            self.targets = targets
        }
    }

    static let receiver = IPAddress("2001:db8::10")!

    static func sender(_ index: Int) -> IPAddress { IPAddress("2001:db8:5::\(String(index + 1, radix: 16))")! }

    /// Case `index` of the generated set: a sender with PTR and matching AAAA when `index` is even.
    static func generatedCase(_ index: Int) throws -> ScenarioCase {
        let confirmed = index.isMultiple(of: 2)
        let address = sender(index)
        let records = ["example.test. MX 10 mx.example.test.", "mx.example.test. AAAA \(receiver)"]
            + (confirmed ? ["\(address) PTR mail\(index).sender.test.", "mail\(index).sender.test. AAAA \(address)"] : [])
        let yaml = """
            name: generated-\(index)
            dns: {records: [\(records.map { "\"\($0)\"" }.joined(separator: ", "))]}
            receiver: {addresses: ["\(receiver)"], policy: fcrdns}
            sender: {addresses: {ipv6: "\(address)"}, helo: mail\(index).sender.test, mail_from: a@sender.test, rcpt_to: [b@example.test]}
            expect: {outcome: \(confirmed ? "delivered" : "deferred")}
            """
        return try ScenarioLoader().load(yaml: yaml, file: "generated-\(index).yaml")[0]
    }

    public static func swaks(_ options: SwaksOptions, logger: Logger) async throws(HarnessError) {
        let out = Output()
        try Preflight.ready(needs: .root(because: "bench swaks (it runs Postfix)"), logger: logger)
        let cases: [ScenarioCase]
        do { cases = try (0..<options.count).map(generatedCase) } catch {
            throw .failed("could not generate the cases: \(error)")
        }
        var sides: [(name: String, rates: [Double])] = []
        if options.swaksLoop {
            guard FileManager.default.isExecutableFile(atPath: "/usr/bin/swaks") else {
                throw .usage("swaks is not installed: apt-get install swaks libio-socket-inet6-perl (scripts/bench-vs-swaks does)")
            }
            do {
                sides.append(("swaks loop, one Postfix and one unbound, no isolation", try await swaksLoop(cases, rounds: options.rounds, out: out, logger: logger)))
            } catch {
                throw .failed("swaks loop failed: \(error)")
            }
        }
        for target in options.targets {
            var configuration = RunConfiguration(target: target)
            configuration.resolverTimeout = .milliseconds(1500)
            let run = ScenarioRun(runner: CaseRunner(configuration: configuration, logger: logger), jobs: options.jobs)
            var rates: [Double] = []
            for round in 1...options.rounds {
                let start = ContinuousClock.now
                let results = await run.run(cases)
                let seconds = Self.seconds(ContinuousClock.now - start)
                let passed = results.filter { $0.status == .passed }.count
                rates.append(Double(cases.count) / seconds)
                out.line(String(format: "mxharness run --target %@, round %d: %d cases in %.2f s, %d passed", target.rawValue, round, cases.count, seconds, passed))
            }
            sides.append(("mxharness run --target \(target) --jobs \(options.jobs)", rates))
        }
        var selfUsage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &selfUsage)
        out.line("")
        out.line("\(options.count) generated cases, \(options.rounds) rounds; cases per second, median (min-max):")
        let reference = sides.first.map { median($0.rates) }
        for side in sides {
            let value = median(side.rates)
            var line = String(format: "  %-58@ %7.1f (%.1f-%.1f)", side.name, value, side.rates.min() ?? 0, side.rates.max() ?? 0)
            if options.swaksLoop, let reference, side.name != sides.first?.name { line += String(format: "   %.1fx the swaks loop", value / reference) }
            out.line(line)
        }
        out.line("  peak memory of mxharness: \(selfUsage.ru_maxrss / 1024) MiB")
    }

    /// One namespace holding every sender's address, one unbound serving every case's records, one
    /// Postfix with the cases' policy; swaks once per case, one after the other, as a shell loop.
    static func swaksLoop(_ cases: [ScenarioCase], rounds: Int, out: Output, logger: Logger) async throws -> [Double] {
        let registry = ResourceRegistry.shared
        let directory = try registry.makeTemporaryDirectory("swaks")
        defer { registry.removeDirectory(directory) }
        let addresses = [receiver] + cases.indices.map(sender)
        let namespace = try await NetworkNamespace.create(name: registry.makeName("swaks"), addresses: addresses, logger: logger)
        var world: DNSWorld?
        var postfix: PostfixInstance?
        do {
            let records = cases.flatMap(\.dns.records)
            var seen = Set<String>()
            let spec = WorldSpec(records: records.filter { seen.insert($0.description).inserted })
            world = try await DNSWorld.start(spec, in: namespace, directory: directory, logger: logger)
            let configuration = PostfixReceivers.configuration(for: cases[0], settings: RunConfiguration())
            postfix = try await PostfixInstance.start(configuration, in: namespace, caseDirectory: directory, logger: logger)
            var rates: [Double] = []
            for round in 1...rounds {
                let start = ContinuousClock.now
                var asExpected = 0
                for (index, scenario) in cases.enumerated() {
                    let accepted = (try? await Command.run("/usr/sbin/ip", [
                        "netns", "exec", namespace.name, "/usr/bin/swaks", "--server", receiver.description, "--port", "25",
                        "--local-interface", sender(index).description, "--helo", scenario.sender.helo,
                        "--from", scenario.sender.mailFrom, "--to", scenario.sender.rcptTo[0], "--silent", "2", "--timeout", "15",
                    ])) != nil
                    if accepted == (scenario.expect.outcome == .delivered) { asExpected += 1 }
                }
                let seconds = Self.seconds(ContinuousClock.now - start)
                rates.append(Double(cases.count) / seconds)
                out.line(String(format: "swaks loop, round %d: %d cases in %.2f s, %d as expected", round, cases.count, seconds, asExpected))
            }
            await postfix?.stop()
            await world?.stop()
            await namespace.destroy()
            return rates
        } catch {
            await postfix?.stop()
            await world?.stop()
            await namespace.destroy()
            throw error
        }
    }

    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        return values.sorted()[values.count / 2]
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
