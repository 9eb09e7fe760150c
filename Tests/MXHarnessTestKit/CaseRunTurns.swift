/// Test suites in different targets run in parallel in one process. Tests that run whole cases
/// (namespaces and folders named `mxh-PID-N-case`) and tests that check that no such thing of this
/// process is left behind take turns through this lock, so the check does not see another suite's case.
public actor CaseRunTurns {
    public static let shared = CaseRunTurns()

    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    public func run<T: Sendable>(_ body: @Sendable () async throws -> T) async rethrows -> T {
        await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async {
        guard busy else {
            busy = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    private func release() {
        if waiting.isEmpty {
            busy = false
        } else {
            waiting.removeFirst().resume()
        }
    }
}
