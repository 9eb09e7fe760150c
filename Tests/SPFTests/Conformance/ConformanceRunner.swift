import DNSCore
import SPF

/// A test the evaluator got wrong.
public struct ConformanceFailure: Sendable, Hashable, CustomStringConvertible {
    public var test: ConformanceCase
    public var expected: String
    public var got: String
    public var reason: String

    public var description: String { "\(test.section)/\(test.name): expected \(expected), got \(got) (\(reason))" }
}

/// The tally of a run.
public struct ConformanceOutcome: Sendable, Hashable {
    public var passed = 0
    public var failures: [ConformanceFailure] = []
    public var total: Int { passed + failures.count }

    public static func + (lhs: ConformanceOutcome, rhs: ConformanceOutcome) -> ConformanceOutcome {
        ConformanceOutcome(passed: lhs.passed + rhs.passed, failures: lhs.failures + rhs.failures)
    }

    /// The line CI greps for.
    public var summary: String { "rfc7208: \(passed) passed, \(failures.count) failed" }
}

/// Runs suite tests against an `SPFEvaluator` over whatever `DNSLookup` serves the scenario's zone.
public enum ConformanceRunner {
    /// A fixed `%{t}`: no test depends on the time.
    static let clock: @Sendable () -> Int = { 1_400_000_000 }

    /// Evaluates every test of one scenario with `lookup` serving its zone.
    public static func run(_ scenario: ConformanceScenario, lookup: any DNSLookup) async -> ConformanceOutcome {
        let evaluator = SPFEvaluator(lookup: lookup, receiver: "receiver.example.test", clock: clock)
        var outcome = ConformanceOutcome()
        for test in scenario.cases {
            if let failure = await check(test, with: evaluator) {
                outcome.failures.append(failure)
            } else {
                outcome.passed += 1
            }
        }
        return outcome
    }

    /// Runs every scenario, each over the lookup `backend` makes for it.
    public static func run(
        _ scenarios: [ConformanceScenario], backend: (ConformanceScenario) async throws -> any DNSLookup
    ) async -> ConformanceOutcome {
        var total = ConformanceOutcome()
        for scenario in scenarios {
            do {
                total = total + (await run(scenario, lookup: try await backend(scenario)))
            } catch {
                let failures = scenario.cases.map {
                    ConformanceFailure(test: $0, expected: expectation($0), got: "no DNS backend", reason: "\(error)")
                }
                total = total + ConformanceOutcome(passed: 0, failures: failures)
            }
        }
        return total
    }

    /// Nil when the test passes. The explanation, when the suite gives one, must match too;
    /// letter case is ignored because pyspf renders `%{i}` nibbles of IPv6 in upper case where
    /// RFC 7208 7.4's example uses lower case (suite test v-macro-ip6).
    static func check(_ test: ConformanceCase, with evaluator: SPFEvaluator) async -> ConformanceFailure? {
        guard let client = IPAddress(test.host) else {
            return ConformanceFailure(
                test: test, expected: expectation(test), got: "nothing",
                reason: "host \(test.host) is not an IP address")
        }
        let verdict = await evaluator.evaluate(ip: client, mailFrom: test.mailFrom, helo: test.helo)
        guard test.results.contains(verdict.result) else {
            return ConformanceFailure(
                test: test, expected: expectation(test), got: verdict.result.rawValue, reason: verdict.reason)
        }
        if verdict.result == .fail, let expected = test.explanation {
            let got = verdict.explanation ?? "DEFAULT"
            if got.lowercased() != expected.lowercased() {
                return ConformanceFailure(
                    test: test, expected: "fail with explanation \"\(expected)\"",
                    got: "fail with explanation \"\(got)\"", reason: verdict.reason)
            }
        }
        return nil
    }

    static func expectation(_ test: ConformanceCase) -> String {
        test.results.count == 1 ? test.results[0].rawValue : test.results.map(\.rawValue).joined(separator: " or ")
    }
}
