import Census
import Foundation
import Matrix
import Reports

/// `mxharness merge`.
public struct MergeOptions: Sendable {
    /// The shards' files: JSON reports of `run --shard K/N --json`, or baselines of
    /// `matrix --shard K/N --save-baseline` (all of one kind).
    public var inputs: [String]
    /// Where the merged report or baseline goes (nothing written without it).
    public var outputPath: String?
    /// Matrix baselines only: compare the merged matrix with this baseline.
    public var baselinePath: String?

    public init(inputs: [String], outputPath: String? = nil, baselinePath: String? = nil) {
        self.inputs = inputs
        self.outputPath = outputPath
        self.baselinePath = baselinePath
    }
}

extension Harness {
    /// Merges the shards' files into the one a single machine would have written, and prints the
    /// summary (and, for a matrix, the comparison with `baselinePath`) as that run would have.
    /// Fails (exit 1) as that run would: a case failed, a cell's expectation failed, a cell could
    /// not run, or the matrix changed against the baseline.
    public static func merge(_ options: MergeOptions) throws(HarnessError) -> Verdict {
        var documents: [(path: String, data: Data, object: Any)] = []
        for path in options.inputs {
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
                throw .usage("cannot read \(path): \(error.localizedDescription)")
            }
            guard let object = try? JSONSerialization.jsonObject(with: data) else {
                throw .usage(
                    "\(path) is not JSON: give the JSON reports (run --shard K/N --json) or baselines (matrix --shard K/N --save-baseline) of the shards"
                )
            }
            documents.append((path, data, object))
        }
        guard let first = documents.first else { throw .usage("nothing to merge: give the shards' files") }
        if CensusReport.isCensusReport(first.object) {
            return try mergeCensus(documents.map { ($0.path, $0.data) }, output: options.outputPath)
        }
        if ReportMerge.isRunReport(first.object) {
            guard options.baselinePath == nil else {
                throw .usage("--baseline compares matrix baselines; \(first.path) is a run report")
            }
            return try mergeRuns(documents.map { ($0.path, $0.object) }, output: options.outputPath)
        }
        var baselines: [(path: String, baseline: Baseline)] = []
        for document in documents {
            guard !ReportMerge.isRunReport(document.object) else {
                throw .usage(
                    "\(document.path) is a run report and \(first.path) a matrix baseline: merge one kind at a time")
            }
            do { baselines.append((document.path, try Baseline.decode(document.data, path: document.path))) } catch {
                throw .usage("\(error)")
            }
        }
        return try mergeMatrices(baselines, output: options.outputPath, baselinePath: options.baselinePath)
    }

    static func mergeCensus(_ documents: [(path: String, data: Data)], output: String?) throws(HarnessError) -> Verdict
    {
        var shards: [(path: String, report: CensusReport)] = []
        for (path, data) in documents {
            do { shards.append((path, try CensusReport.read(data))) } catch {
                throw .usage("\(path): not a census report (census --shard K/N --json): \(error)")
            }
        }
        let merged: CensusReport
        do { merged = try CensusReport.merge(shards) } catch { throw .usage("merge: \(error)") }
        let out = Output()
        out.line(CensusText.render(merged))
        if let output {
            do { try merged.json().write(to: URL(fileURLWithPath: output), options: .atomic) } catch {
                throw .failed("cannot write the merged census \(output): \(error.localizedDescription)")
            }
            out.line("census of the \(shards.count) shards written to \(output)")
        }
        return Verdict(passed: merged.policies.allSatisfy { $0.errors == 0 })
    }

    static func mergeRuns(_ reports: [(path: String, object: Any)], output: String?) throws(HarnessError) -> Verdict {
        let out = Output()
        let merged: ReportMerge.Merged
        do { merged = try ReportMerge.merge(reports) } catch { throw .usage("merge: \(error)") }
        if let output {
            do { try merged.data.write(to: URL(fileURLWithPath: output), options: .atomic) } catch {
                throw .failed("cannot write the merged report \(output): \(error.localizedDescription)")
            }
        }
        for problem in merged.problems { out.line(problem) }
        out.line(
            "\(reports.count) shard report\(reports.count == 1 ? "" : "s"): " + merged.line
                + (output.map { "; merged report written to \($0)" } ?? ""))
        return Verdict(passed: merged.allPassed)
    }

    static func mergeMatrices(_ shards: [(path: String, baseline: Baseline)], output: String?, baselinePath: String?)
        throws(HarnessError) -> Verdict
    {
        let out = Output()
        let merged: MergedBaseline
        do { merged = try MergedBaseline.merge(shards) } catch { throw .usage("merge: \(error)") }
        var reference: Baseline?
        if let baselinePath {
            do { reference = try Baseline.read(from: baselinePath) } catch { throw .usage("merge: \(error)") }
        }
        let text = MatrixText(terminal: Terminal.detect())
        var changed = false
        if let reference, let baselinePath {
            let comparison = merged.compared(with: reference)
            changed = !comparison.isUnchanged
            out.line(
                text.renderComparison(
                    comparison, baselinePath: baselinePath, comparedCells: merged.order.count * merged.columns.count))
        }
        out.line(text.summaryLine(merged.summary))
        if let output {
            do { try merged.baseline.write(to: output) } catch { throw .failed("merge: \(error)") }
            out.line("baseline of the \(shards.count) shards written to \(output)")
        }
        let summary = merged.summary
        return Verdict(passed: !changed && summary.fails == 0 && summary.errors == 0)
    }
}
