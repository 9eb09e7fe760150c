import DNSCore
import Foundation
import MXHarnessTestKit
import Policy
import Testing
import ReferenceMX

/// Not a test: the built-in MX for `scripts/bench-mx.sh` until `mxharness mx serve` exists.
/// Enabled only when `MXHARNESS_BENCH_LISTEN` (ADDR:PORT) is set; serves with policy `open` until
/// the file named by `MXHARNESS_BENCH_STOP_FILE` appears (or `MXHARNESS_BENCH_SECONDS`, default 300, pass).
@Suite("Benchmark helper")
struct BenchmarkServe {
    static let environment = ProcessInfo.processInfo.environment

    @Test(.enabled(if: environment["MXHARNESS_BENCH_LISTEN"] != nil, "set MXHARNESS_BENCH_LISTEN to serve for scripts/bench-mx.sh"))
    func serveForBenchmark() async throws {
        let text = try #require(Self.environment["MXHARNESS_BENCH_LISTEN"])
        let endpoint = try #require(ListeningEndpoint(text), "MXHARNESS_BENCH_LISTEN must be ADDR:PORT, got \(text)")
        let stopFile = Self.environment["MXHARNESS_BENCH_STOP_FILE"]
        let seconds = Double(Self.environment["MXHARNESS_BENCH_SECONDS"] ?? "") ?? 300
        let readyCalls = Counter()
        let task = Task {
            try await ReferenceMX.serve(
                configuration: MXConfiguration(hostname: "mx.example.test", policy: .open), lookup: InMemoryDNS(),
                listeningOn: [endpoint], eventLoopGroup: MXTest.group, logger: MXTest.logger,
                ready: { bound in
                    print("MXHARNESS_BENCH_READY \(bound.map(\.description).joined(separator: " "))")
                    readyCalls.increment()
                })
        }
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .seconds(seconds) {
            if let stopFile, FileManager.default.fileExists(atPath: stopFile) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        task.cancel()
        try await task.value
        #expect(readyCalls.value == 1)
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
