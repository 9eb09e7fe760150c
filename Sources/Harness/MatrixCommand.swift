import Foundation
import Logging
import Matrix
import Reports
import Runner
import Scenario

/// `mxharness matrix`.
public struct MatrixOptions: Sendable {
    public var paths: [String]
    /// Preset names and policy files, one column each.
    public var policies: [String]
    /// Postfix main.cf files, one column each (`--target postfix` only).
    public var postfixConfigurations: [String]
    public var jobs: Int
    public var selection: CaseSelection
    /// Run only this shard of the selection (`--shard K/N`).
    public var shard: CaseShard?
    /// The target and timeouts every cell runs with (`target` nil means builtin).
    public var configuration: RunConfiguration
    public var saveBaselinePath: String?
    public var baselinePath: String?
    public var htmlPath: String?
    /// Identity paths as the columns instead of policies (`--identities socket,proxy-v2,xclient`).
    public var identities: [String] = []
    /// The sender's TLS levels as the columns (`--tls may,verify,secure`).
    public var tlsLevels: [String] = []
    /// The receivers and senders the cells may run on.
    public var parts: PartCatalog

    public init(
        paths: [String], policies: [String], postfixConfigurations: [String] = [], jobs: Int,
        selection: CaseSelection = CaseSelection(),
        shard: CaseShard? = nil, configuration: RunConfiguration, saveBaselinePath: String? = nil,
        baselinePath: String? = nil,
        htmlPath: String? = nil, parts: PartCatalog
    ) {
        self.parts = parts
        self.paths = paths
        self.policies = policies
        self.postfixConfigurations = postfixConfigurations
        self.jobs = jobs
        self.selection = selection
        self.shard = shard
        self.configuration = configuration
        self.saveBaselinePath = saveBaselinePath
        self.baselinePath = baselinePath
        self.htmlPath = htmlPath
    }
}

extension Harness {
    /// Runs every selected case against every column, prints the matrix (or, with a baseline, only
    /// what changed), writes the baseline and the HTML page when asked. Exit 1 when an expectation
    /// fails in a case's own-policy column, a cell could not run, or anything changed against the
    /// baseline; 2 for usage and load errors and a receiver or sender that cannot run here; 3 when
    /// every cell was skipped.
    public static func matrix(_ options: MatrixOptions, logger: Logger) async throws(HarnessError) -> Verdict {
        let out = Output()
        var configuration = options.configuration
        let target = configuration.target ?? .builtin
        configuration.target = target
        let columns: [PolicyColumn]
        do {
            if !options.tlsLevels.isEmpty {
                guard options.policies.isEmpty, options.postfixConfigurations.isEmpty, options.identities.isEmpty else {
                    throw MatrixError(
                        "--tls compares the sender's TLS levels with each case's own receiver: give it without --policies, --postfix-config and --identities"
                    )
                }
                columns = try TLSAxis.columns(options.tlsLevels)
            } else if !options.identities.isEmpty {
                guard options.policies.isEmpty, options.postfixConfigurations.isEmpty else {
                    throw MatrixError(
                        "--identities compares identity paths with each case's own policy: give it without --policies and --postfix-config"
                    )
                }
                columns = try IdentityAxis.columns(options.identities)
            } else {
                columns = try PolicyColumn.columns(
                    policies: options.policies, configurations: options.postfixConfigurations, target: target,
                    parts: options.parts)
            }
        } catch {
            throw .usage("matrix: \(error)")
        }
        var baseline: Baseline?
        if let path = options.baselinePath {
            do { baseline = try Baseline.read(from: path) } catch { throw .usage("matrix: \(error)") }
        }
        let chosen = try await Preflight.prepare(
            options.paths, options.selection, shard: options.shard, configurations: [configuration],
            parts: options.parts, logger: logger)
        let selected = chosen.cases
        if let note = chosen.shardNote { out.line(note) }

        let runner = MatrixRunner(
            runner: CaseRunner(configuration: configuration, parts: options.parts, logger: logger), jobs: options.jobs)
        let progress = ProgressDisplay.standardOutput(total: selected.count * columns.count)
        progress.start()
        let matrix = await runner.run(selected, columns: columns) { _, _ in progress.advanced() }
        progress.stop()

        let text = MatrixText(terminal: Terminal.detect())
        var changed = false
        if let baseline, let path = options.baselinePath {
            let selectedByOption =
                !options.selection.tags.isEmpty || !options.selection.filters.isEmpty || options.shard != nil
            let comparison = BaselineComparison.compare(baseline, with: matrix, includeRemoved: !selectedByOption)
            changed = !comparison.isUnchanged
            out.line(
                text.renderComparison(
                    comparison, baselinePath: path, comparedCells: matrix.rows.count * matrix.columns.count))
            let failures = text.expectationFailures(matrix)
            if !failures.isEmpty {
                out.line("")
                out.line(failures)
            }
            out.line(text.summaryLine(matrix.summary))
        } else {
            out.line(text.render(matrix))
        }
        var unwritten: [String] = []
        if let path = options.saveBaselinePath {
            do {
                let written =
                    chosen.placement.map { Baseline(matrix, shard: $0.placement, positions: $0.positions) }
                    ?? Baseline(matrix)
                try written.write(to: path)
                out.line(
                    "\(chosen.placement == nil ? "baseline" : "shard baseline (merge the shards' with mxharness merge)") written to \(path)"
                )
            } catch {
                unwritten.append("matrix: \(error)")
            }
        }
        if let path = options.htmlPath {
            let title =
                (matrix.isIdentityMatrix
                    ? "mxharness identity paths: "
                    : matrix.isTLSMatrix ? "mxharness TLS levels: " : "mxharness policy matrix: ")
                + options.paths.joined(separator: " ")
            do {
                try MatrixHTML.render(matrix, title: title).write(toFile: path, atomically: true, encoding: .utf8)
                out.line("HTML matrix written to \(path)")
            } catch {
                unwritten.append("matrix: cannot write the HTML page \(path): \(error.localizedDescription)")
            }
        }
        guard unwritten.isEmpty else { throw .failed(unwritten.joined(separator: "\n")) }
        let summary = matrix.summary
        if summary.cases > 0, summary.skipped == summary.cases * summary.columns {
            throw .nothingRan("no cell ran: all \(summary.skipped) were skipped (the matrix says why)")
        }
        return Verdict(passed: !changed && summary.fails == 0 && summary.errors == 0)
    }
}
