#if canImport(Glibc)
import Glibc
#endif
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
    /// The target and timeouts every cell runs with (`target` nil means builtin).
    public var configuration: RunConfiguration
    public var saveBaselinePath: String?
    public var baselinePath: String?
    public var htmlPath: String?

    public init(
        paths: [String], policies: [String], postfixConfigurations: [String] = [], jobs: Int, selection: CaseSelection = CaseSelection(),
        configuration: RunConfiguration, saveBaselinePath: String? = nil, baselinePath: String? = nil, htmlPath: String? = nil
    ) {
        self.paths = paths
        self.policies = policies
        self.postfixConfigurations = postfixConfigurations
        self.jobs = jobs
        self.selection = selection
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
    /// baseline; 2 for usage and load errors.
    public static func matrix(_ options: MatrixOptions, logger: Logger) async -> Int32 {
        let out = Output()
        var configuration = options.configuration
        let target = configuration.target ?? .builtin
        configuration.target = target
        let columns: [PolicyColumn]
        do {
            columns = try PolicyColumn.columns(policies: options.policies, postfixConfigurations: options.postfixConfigurations, target: target)
        } catch {
            out.error("mxharness matrix: \(error)")
            return HarnessExit.usage
        }
        let cases: [ScenarioCase]
        do { cases = try ScenarioLoader().load(paths: options.paths) } catch {
            out.error("\(error)")
            return HarnessExit.usage
        }
        let selected = options.selection.apply(cases)
        guard !selected.isEmpty else {
            out.error("mxharness matrix: no case matches (\(cases.count) loaded from \(options.paths.joined(separator: " ")))")
            return HarnessExit.usage
        }
        var baseline: Baseline?
        if let path = options.baselinePath {
            do { baseline = try Baseline.read(from: path) } catch {
                out.error("mxharness matrix: \(error)")
                return HarnessExit.usage
            }
        }
        guard Preflight.ready(logger: logger) else { return HarnessExit.usage }

        let showProgress = isatty(2) == 1
        let runner = MatrixRunner(runner: CaseRunner(configuration: configuration, logger: logger), jobs: options.jobs)
        let matrix = await runner.run(selected, columns: columns) { done, total in
            if showProgress { FileHandle.standardError.write(Data("\rmatrix: \(done)/\(total) cells".utf8)) }
        }
        if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }

        let text = MatrixText(terminal: Terminal.detect())
        var changed = false
        if let baseline, let path = options.baselinePath {
            let selectedByOption = !options.selection.tags.isEmpty || !options.selection.filters.isEmpty
            let comparison = BaselineComparison.compare(baseline, with: matrix, includeRemoved: !selectedByOption)
            changed = !comparison.isUnchanged
            out.line(text.renderComparison(comparison, baselinePath: path, comparedCells: matrix.rows.count * matrix.columns.count))
            let failures = text.expectationFailures(matrix)
            if !failures.isEmpty {
                out.line("")
                out.line(failures)
            }
            out.line(text.summaryLine(matrix.summary))
        } else {
            out.line(text.render(matrix))
        }
        var writeFailed = false
        if let path = options.saveBaselinePath {
            do {
                try Baseline(matrix).write(to: path)
                out.line("baseline written to \(path)")
            } catch {
                out.error("mxharness matrix: \(error)")
                writeFailed = true
            }
        }
        if let path = options.htmlPath {
            let title = "mxharness policy matrix: " + options.paths.joined(separator: " ")
            do {
                try MatrixHTML.render(matrix, title: title).write(toFile: path, atomically: true, encoding: .utf8)
                out.line("HTML matrix written to \(path)")
            } catch {
                out.error("mxharness matrix: cannot write the HTML page \(path): \(error.localizedDescription)")
                writeFailed = true
            }
        }
        let summary = matrix.summary
        return changed || summary.fails > 0 || summary.errors > 0 || writeFailed ? HarnessExit.failures : HarnessExit.success
    }
}
