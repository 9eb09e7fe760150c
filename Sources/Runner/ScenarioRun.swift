import Foundation
import Logging
import NIOCore
import NIOPosix
import Scenario

/// Runs many cases, `jobs` at a time; results come back in the cases' order, whatever order
/// they finished in, and each is handed to `progress` as soon as it ends.
///
/// Receivers that share running instances between cases (Postfix, unless `sharePostfix` is off)
/// keep them for the run (`ReceiverKind.scopedToRun`) and stop them at its end. Cases are started
/// grouped by their placement key (`CaseRunner.placementKey`, below), in the order each key first appears,
/// so that an idle instance is at hand for the next case of the same configuration.
public struct ScenarioRun: Sendable {
    public var runner: CaseRunner
    public var jobs: Int

    public init(runner: CaseRunner, jobs: Int) {
        self.runner = runner
        self.jobs = max(1, jobs)
    }

    /// Runs `cases`, `jobs` at a time; `progress` gets each result as its case ends, with how many have
    /// ended so far (called from the one task that collects them, in that order).
    public func run(
        _ cases: [ScenarioCase], progress: @escaping @Sendable (CaseResult, Int) -> Void = { _, _ in }
    ) async
        -> [CaseResult]
    {
        var scoped = self.runner
        scoped.parts = scoped.parts.scopedToRun(jobs: jobs, cases: cases, settings: scoped.configuration)
        var ownWarmWorlds: WarmWorlds?
        if scoped.warmWorlds == nil, scoped.configuration.warmWorlds {
            ownWarmWorlds = WarmWorlds(jobs: jobs, logger: scoped.logger)
            scoped.warmWorlds = ownWarmWorlds
        }
        let runner = scoped
        let keys = cases.map(runner.placementKey(for:))
        var pending = Self.startOrder(keys)
        var running: [String: Int] = [:]
        var results = [CaseResult?](repeating: nil, count: cases.count)
        var finished = 0
        await withTaskGroup(of: (Int, CaseResult).self) { group in
            func startNext() {
                guard let position = Self.nextPosition(pending, keys: keys, running: running) else { return }
                let index = pending.remove(at: position)
                if let key = keys[index] { running[key, default: 0] += 1 }
                let scenario = cases[index]
                group.addTask { (index, await runner.run(scenario)) }
            }
            for _ in 0..<min(jobs, cases.count) { startNext() }
            while let (index, result) = await group.next() {
                if let key = keys[index] { running[key, default: 1] -= 1 }
                results[index] = result
                finished += 1
                progress(result, finished)
                startNext()
            }
        }
        await runner.parts.closeRun()
        if let ownWarmWorlds { await ownWarmWorlds.close() }
        return results.compactMap { $0 }
    }

    /// Which of `pending` (indices in start order) to start now: the first whose key no running
    /// case has, so that parallel slots work on different Postfix configurations and a
    /// configuration's cases follow each other on one instance instead of starting a second one;
    /// the first of all when every key is running. Nil when nothing is pending.
    static func nextPosition(_ pending: [Int], keys: [String?], running: [String: Int]) -> Int? {
        guard !pending.isEmpty else { return nil }
        return pending.firstIndex { index in keys[index].map { running[$0, default: 0] == 0 } ?? true } ?? 0
    }

    /// The indices of the cases in the order they start: cases with the same key together, each
    /// group where its first case was; cases without a key stay where they are. Stable.
    static func startOrder(_ keys: [String?]) -> [Int] {
        var groups: [[Int]] = []
        var groupOfKey: [String: Int] = [:]
        for (index, key) in keys.enumerated() {
            if let key, let group = groupOfKey[key] {
                groups[group].append(index)
                continue
            }
            if let key { groupOfKey[key] = groups.count }
            groups.append([index])
        }
        return groups.flatMap { $0 }
    }
}

extension CaseRunner {
    /// The key under which a case can share a running receiver with others, nil when it gets one
    /// of its own.
    public func sharingKey(for scenario: ScenarioCase) -> String? {
        parts.receivers[configuration.target(for: scenario)]?.sharingKey(for: scenario, settings: configuration)
    }

    /// Cases with the same key are best run one after another on one slot: those that share a
    /// receiver (`sharingKey`), and, in warm slots, those with the same addresses (a slot then
    /// needs no address removed between them, which is the slow part of swapping worlds).
    func placementKey(for scenario: ScenarioCase) -> String? {
        if let key = sharingKey(for: scenario) { return key }
        guard warmWorlds != nil || configuration.warmWorlds else { return nil }
        let addresses = Set(scenario.receiver.addresses + scenario.sender.addresses.values)
        return "addresses " + addresses.sorted().map(\.description).joined(separator: " ")
    }
}
