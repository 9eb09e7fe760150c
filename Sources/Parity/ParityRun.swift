import Logging
import Runner
import Scenario

/// Runs every case once per side of an axis, each side a full run of its own (its own worlds), and
/// pairs the results up by case.
public struct ParityRun: Sendable {
    public var axis: ParityAxis
    public var configuration: RunConfiguration
    public var parts: PartCatalog
    public var jobs: Int
    public var logger: Logger

    public init(axis: ParityAxis, configuration: RunConfiguration, parts: PartCatalog, jobs: Int, logger: Logger) {
        self.axis = axis
        self.configuration = configuration
        self.parts = parts
        self.jobs = jobs
        self.logger = logger
    }

    /// `progress` is called as each case finishes on each side.
    public func run(_ cases: [ScenarioCase], progress: @escaping @Sendable () -> Void = {}) async -> [ParityRow] {
        var sides: [[CaseResult]] = []
        for index in axis.labels.indices {
            let runner = CaseRunner(
                configuration: axis.configuration(configuration, side: index), parts: parts, logger: logger)
            sides.append(await ScenarioRun(runner: runner, jobs: jobs).run(cases) { _, _ in progress() })
        }
        let mirrored = axis.mirroredPairs(parts)
        return cases.indices.map { index in
            ParityRow(name: cases[index].name, results: sides.map { $0[index] }, axis: axis, mirrored: mirrored)
        }
    }
}
