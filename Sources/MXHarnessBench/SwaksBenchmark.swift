import DNSCore
import DNSWorld
import Foundation
import Harness
import Logging
import Postfix
import Runner
import Sandbox
import Scenario

/// `mxharness-bench swaks N`: N generated cases (an IPv6-only sender at a receiver with `fcrdns`,
/// every other sender without a PTR) as a plain shell loop would test them, swaks against one
/// long-running Postfix and one unbound with no isolation at all, side by side with `mxharness run`
/// of the same cases on the built-in MX and on Postfix, taking turns within each round. Prints
/// cases per second for each side (median and spread over the rounds), the ratios, the machine's
/// load with each figure and each target's per-case phases; asserts nothing.
extension Benchmarks {
    public struct SwaksOptions: Sendable {
        public var count: Int
        public var rounds: Int
        public var jobs: Int
        public var swaksLoop: Bool
        public var targets: [ReceiverTarget]
        public var parts: PartCatalog

        public init(count: Int, rounds: Int, jobs: Int, swaksLoop: Bool, targets: [ReceiverTarget], parts: PartCatalog)
        {
            self.parts = parts
            self.count = count
            self.rounds = rounds
            self.jobs = jobs
            self.swaksLoop = swaksLoop
            self.targets = targets
        }
    }

    static let receiver = IPAddress(literal: "2001:db8::10")

    static func sender(_ index: Int) -> IPAddress { IPAddress("2001:db8:5::\(String(index + 1, radix: 16))")! }

    /// Case `index` of the generated set: a sender with PTR and matching AAAA when `index` is even.
    static func generatedCase(_ index: Int) throws -> ScenarioCase {
        let confirmed = index.isMultiple(of: 2)
        let address = sender(index)
        let records =
            ["example.test. MX 10 mx.example.test.", "mx.example.test. AAAA \(receiver)"]
            + (confirmed
                ? ["\(address) PTR mail\(index).sender.test.", "mail\(index).sender.test. AAAA \(address)"] : [])
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
        if options.swaksLoop, !FileManager.default.isExecutableFile(atPath: "/usr/bin/swaks") {
            throw .usage(
                "swaks is not installed: apt-get install swaks libio-socket-inet6-perl (scripts/bench-vs-swaks does)")
        }
        let loop: SwaksLoop?
        do { loop = options.swaksLoop ? try await SwaksLoop.start(cases, logger: logger) : nil } catch {
            throw .failed("could not set up the swaks loop: \(error)")
        }
        // The sides take turns within each round, so that a change in the machine's load (it is
        // shared) falls on all of them alike.
        let loopName = "swaks loop, one Postfix and one unbound, no isolation"
        var sides: [(name: String, rates: [Double])] =
            (loop == nil ? [] : [(loopName, [])])
            + options.targets.map { ("mxharness run --target \($0) --jobs \(options.jobs)", []) }
        var phases: [ReceiverTarget: [CaseTimings]] = [:]
        for round in 1...options.rounds {
            var side = 0
            if let loop {
                let (seconds, asExpected) = await loop.round()
                sides[side].rates.append(Double(cases.count) / seconds)
                side += 1
                out.line(
                    String(
                        format: "round %d, swaks loop: %d cases in %.2f s, %d as expected; load %@", round, cases.count,
                        seconds, asExpected, Self.load()))
            }
            for target in options.targets {
                let run = ScenarioRun(
                    runner: CaseRunner(
                        configuration: RunConfiguration(target: target), parts: options.parts, logger: logger),
                    jobs: options.jobs)
                let start = ContinuousClock.now
                let results = await run.run(cases)
                let seconds = Self.seconds(ContinuousClock.now - start)
                let passed = results.filter { $0.status == .passed }.count
                sides[side].rates.append(Double(cases.count) / seconds)
                side += 1
                phases[target, default: []] += results.map(\.timings)
                out.line(
                    String(
                        format: "round %d, --target %@: %d cases in %.2f s, %d passed; load %@", round, target.rawValue,
                        cases.count, seconds, passed, Self.load()))
            }
        }
        await loop?.stop()
        var selfUsage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &selfUsage)
        out.line("")
        out.line("\(options.count) generated cases, \(options.rounds) rounds; cases per second, median (min-max):")
        let reference = loop == nil ? nil : sides.first.map { median($0.rates) }
        for (index, side) in sides.enumerated() {
            let value = median(side.rates)
            var line = String(
                format: "  %-58@ %7.1f (%.1f-%.1f)", side.name, value, side.rates.min() ?? 0, side.rates.max() ?? 0)
            if let reference, index > 0 { line += String(format: "   %.1fx the swaks loop", value / reference) }
            out.line(line)
        }
        out.line("per case, median over every round:")
        for target in options.targets {
            let timings = phases[target] ?? []
            out.line(
                "  --target \(target.rawValue): overhead (set-up + teardown) \(milliseconds(median(timings.map(\.overhead)))); set-up \(milliseconds(median(timings.map(\.setup)))), exchange \(milliseconds(median(timings.map(\.exchange)))), teardown \(milliseconds(median(timings.map(\.teardown)))) (of which the receiver's evidence \(milliseconds(median(timings.map(\.evidence)))))"
            )
            let steps = Set(timings.flatMap(\.setupSteps.keys)).sorted()
            out.line(
                "    set-up steps: "
                    + steps.map { step in "\(step) \(milliseconds(median(timings.compactMap { $0.setupSteps[step] })))"
                    }.joined(separator: ", "))
        }
        out.line("  peak memory of mxharness: \(selfUsage.ru_maxrss / 1024) MiB")
    }

    /// The machine's load averages (1, 5 and 15 minutes), as uptime(1) prints them.
    static func load() -> String {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }

    /// One namespace holding every sender's address, one unbound serving every case's records, one
    /// Postfix with the cases' policy; swaks once per case, one after the other, as a shell loop.
    final class SwaksLoop: @unchecked Sendable {
        let cases: [ScenarioCase]
        let directory: String
        let namespace: NetworkNamespace
        let world: DNSWorld
        let postfix: PostfixInstance

        private init(
            cases: [ScenarioCase], directory: String, namespace: NetworkNamespace, world: DNSWorld,
            postfix: PostfixInstance
        ) {
            self.cases = cases
            self.directory = directory
            self.namespace = namespace
            self.world = world
            self.postfix = postfix
        }

        static func start(_ cases: [ScenarioCase], logger: Logger) async throws -> SwaksLoop {
            let registry = ResourceRegistry.shared
            let directory = try registry.makeTemporaryDirectory("swaks")
            let addresses = [Benchmarks.receiver] + cases.indices.map(Benchmarks.sender)
            let namespace: NetworkNamespace
            do {
                namespace = try await NetworkNamespace.create(
                    name: registry.makeName("swaks"), addresses: addresses, logger: logger)
            } catch {
                registry.removeDirectory(directory)
                throw error
            }
            var world: DNSWorld?
            do {
                let records = cases.flatMap(\.dns.records)
                var seen = Set<String>()
                let spec = WorldSpec(records: records.filter { seen.insert($0.description).inserted })
                world = try await DNSWorld.start(spec, in: namespace, directory: directory, logger: logger)
                let configuration = PostfixReceivers().configuration(for: cases[0])
                let postfix = try await PostfixInstance.start(
                    configuration, in: namespace, caseDirectory: directory, logger: logger)
                return SwaksLoop(
                    cases: cases, directory: directory, namespace: namespace, world: world!, postfix: postfix)
            } catch {
                await world?.stop()
                await namespace.destroy()
                registry.removeDirectory(directory)
                throw error
            }
        }

        /// Every case once; the seconds it took and how many ended as expected.
        func round() async -> (seconds: Double, asExpected: Int) {
            let start = ContinuousClock.now
            var asExpected = 0
            for (index, scenario) in cases.enumerated() {
                let accepted =
                    (try? await Command.run(
                        "/usr/sbin/ip",
                        [
                            "netns", "exec", namespace.name, "/usr/bin/swaks", "--server",
                            Benchmarks.receiver.description, "--port", "25",
                            "--local-interface", Benchmarks.sender(index).description, "--helo", scenario.sender.helo,
                            "--from", scenario.sender.mailFrom, "--to", scenario.sender.rcptTo[0], "--silent", "2",
                            "--timeout", "15",
                        ])) != nil
                if accepted == (scenario.expect.outcome == .delivered) { asExpected += 1 }
            }
            return (Benchmarks.seconds(ContinuousClock.now - start), asExpected)
        }

        func stop() async {
            await postfix.stop()
            await world.stop()
            await namespace.destroy()
            ResourceRegistry.shared.removeDirectory(directory)
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
