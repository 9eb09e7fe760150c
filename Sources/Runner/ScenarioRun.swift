import Foundation
import Logging
import NIOCore
import NIOPosix
import Scenario

/// Runs many cases, `jobs` at a time; results come back in the cases' order, whatever order
/// they finished in, and each is handed to `progress` as soon as it ends.
public struct ScenarioRun: Sendable {
    public var runner: CaseRunner
    public var jobs: Int

    public init(runner: CaseRunner, jobs: Int) {
        self.runner = runner
        self.jobs = max(1, jobs)
    }

    public func run(_ cases: [ScenarioCase], progress: @escaping @Sendable (CaseResult) -> Void = { _ in }) async -> [CaseResult] {
        var results = [CaseResult?](repeating: nil, count: cases.count)
        await withTaskGroup(of: (Int, CaseResult).self) { group in
            var next = 0
            func startNext() {
                guard next < cases.count else { return }
                let index = next
                let scenario = cases[index]
                next += 1
                group.addTask { (index, await runner.run(scenario)) }
            }
            for _ in 0..<min(jobs, cases.count) { startNext() }
            while let (index, result) = await group.next() {
                results[index] = result
                progress(result)
                startNext()
            }
        }
        return results.compactMap { $0 }
    }
}

/// Choosing cases by tag and name.
public struct CaseSelection: Sendable {
    public var tags: [String]
    public var filters: [String]

    public init(tags: [String] = [], filters: [String] = []) {
        self.tags = tags
        self.filters = filters
    }

    /// A case is selected when it has one of `tags` (if any are given) and its name matches one of
    /// `filters` (shell glob: `*`, `?`, `[...]`; if any are given).
    public func apply(_ cases: [ScenarioCase]) -> [ScenarioCase] {
        cases.filter { scenario in
            (tags.isEmpty || !Set(tags).isDisjoint(with: scenario.tags))
                && (filters.isEmpty || filters.contains { fnmatch($0, scenario.name, 0) == 0 })
        }
    }
}
