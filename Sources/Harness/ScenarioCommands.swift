import Foundation
import Scenario

extension Harness {
    /// `mxharness validate PATHS`: loads every file, runs nothing; a load error carries every problem.
    public static func validate(paths: [String], kinds: ScenarioKinds) throws(HarnessError) {
        let cases = try Preflight.load(paths, kinds: kinds)
        Output().line("\(cases.count) case(s) valid in \(paths.joined(separator: " "))")
    }

    /// `mxharness list PATHS`: every case with its tags and description.
    public static func list(paths: [String], kinds: ScenarioKinds) throws(HarnessError) {
        Output().line(listing(try Preflight.load(paths, kinds: kinds)))
    }

    /// `mxharness explain FILE [--variant NAME]`: the merged case as the runner sees it.
    public static func explain(file: String, variant: String?, kinds: ScenarioKinds) throws(HarnessError) {
        do { Output().line(Scenario.explain(try CaseLookup.one(file: file, variant: variant, kinds: kinds))) } catch {
            throw .usage("\(error)")
        }
    }
}
