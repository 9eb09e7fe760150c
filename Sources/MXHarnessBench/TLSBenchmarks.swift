import Foundation
import Harness
import Logging
import Runner
import Scenario
import SMTPProtocol

extension Benchmarks {
    /// What `bench tls` compares: the cases on one receiver with one sender, each case once as
    /// written without TLS and once with the receiver offering STARTTLS (a valid certificate from
    /// the run's authority) and the sender at `level`.
    public struct TLSOptions: Sendable {
        public var paths: [String]
        public var rounds: Int
        public var jobs: Int
        public var level: TLSSecurityLevel
        public var target: ReceiverTarget
        public var sender: SenderMTA

        /// The receivers and senders the cases may run on.
        public var parts: PartCatalog

        public init(
            paths: [String], rounds: Int, jobs: Int, level: TLSSecurityLevel = .may, target: ReceiverTarget = .builtin,
            sender: SenderMTA = .builtin, parts: PartCatalog
        ) {
            self.parts = parts
            self.paths = paths
            self.rounds = rounds
            self.jobs = jobs
            self.level = level
            self.target = target
            self.sender = sender
        }
    }

    /// Runs the cases that use no TLS of their own `rounds` times with TLS off and on, alternating
    /// (so a change in the machine's load falls on both), and prints the median per-case time,
    /// set-up and exchange of each, the median of the per-case differences (what TLS adds to a
    /// case), and how many cases ended differently with TLS on.
    public static func tls(_ options: TLSOptions, logger: Logger) async throws(HarnessError) {
        let out = Output()
        let all = try Preflight.cases(options.paths, kinds: options.parts.scenarioKinds, logger: logger)
        if options.target != .builtin || options.sender != .builtin {
            try Preflight.ready(
                needs: .root(because: "bench tls with a real MTA (real MTAs need root)"), logger: logger)
        }
        let plain = all.filter { $0.receiver.tls == .off && $0.sender.tls == .none }
        let encrypted = plain.map { scenario in
            var scenario = scenario
            scenario.receiver.tls = ReceiverTLSSpec(starttls: true, certificate: .valid)
            scenario.sender.tls = options.level
            return scenario
        }
        var configuration = RunConfiguration()
        configuration.target = options.target
        configuration.sender = options.sender
        let run = ScenarioRun(
            runner: CaseRunner(configuration: configuration, parts: options.parts, logger: logger), jobs: options.jobs)

        struct Sample {
            var total: [String: [Duration]] = [:]
            var setup: [Duration] = []
            var exchange: [Duration] = []
            var outcomes: [String: String] = [:]
            var skipped = 0
            var overTLS = 0
        }
        var off = Sample(), on = Sample()
        func record(_ results: [CaseResult], into sample: inout Sample) {
            for result in results {
                if case .skipped = result.status {
                    sample.skipped += 1
                    continue
                }
                sample.total[result.name, default: []].append(result.timings.total)
                sample.setup.append(result.timings.setup)
                sample.exchange.append(result.timings.exchange)
                if let observed = result.observed {
                    sample.outcomes[result.name] =
                        "\(observed.outcome) \(observed.family.map { "\($0)" } ?? "-") "
                        + "\(observed.stage.map { "\($0)" } ?? "-") \(observed.reply.map { String($0.code) } ?? "-")"
                    if observed.tls == true { sample.overTLS += 1 }
                }
            }
        }
        for round in 1...max(1, options.rounds) {
            let clock = ContinuousClock()
            let start = clock.now
            record(await run.run(plain), into: &off)
            let middle = clock.now
            record(await run.run(encrypted), into: &on)
            out.line("round \(round): TLS off \(milliseconds(middle - start)), on \(milliseconds(clock.now - middle))")
        }
        let rounds = max(1, options.rounds)
        out.line("")
        out.line(
            "\(plain.count) cases without TLS of their own x \(rounds) rounds, --jobs \(options.jobs), receiver \(options.target), "
                + "sender \(options.sender); TLS on: receiver.tls.starttls with a valid certificate, sender.tls \(options.level)"
        )
        for (label, sample) in [("TLS off", off), ("TLS on ", on)] {
            let perCase = sample.total.mapValues(median)
            let skipped = sample.skipped > 0 ? ", \(sample.skipped / rounds) cases skipped" : ""
            out.line(
                "  \(label): median per-case time \(milliseconds(median(Array(perCase.values)))) "
                    + "(set-up \(milliseconds(median(sample.setup))), exchange \(milliseconds(median(sample.exchange))))\(skipped)"
            )
        }
        let offMedians = off.total.mapValues(median), onMedians = on.total.mapValues(median)
        let differences = onMedians.compactMap { name, time in offMedians[name].map { time - $0 } }
        out.line("  TLS adds per case (median of per-case differences): \(milliseconds(median(differences)))")
        out.line("  cases whose deciding session ran over TLS: \(on.overTLS / rounds) of \(onMedians.count)")
        let changed = onMedians.keys.filter { name in off.outcomes[name] != on.outcomes[name] }.sorted()
        out.line(
            "  cases that ended differently with TLS on: \(changed.count)\(changed.isEmpty ? "" : ": " + changed.prefix(10).joined(separator: ", "))"
        )
    }
}
