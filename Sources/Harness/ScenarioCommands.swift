import Foundation
import Scenario

extension Harness {
    /// `mxharness validate PATHS`: loads every file, runs nothing. Exit 0, or 2 with every error.
    public static func validate(paths: [String]) -> Int32 {
        let out = Output()
        do {
            let cases = try ScenarioLoader().load(paths: paths)
            out.line("\(cases.count) case(s) valid in \(paths.joined(separator: " "))")
            return HarnessExit.success
        } catch {
            out.error("\(error)")
            return HarnessExit.usage
        }
    }

    /// `mxharness list PATHS`: every case with its tags and description.
    public static func list(paths: [String]) -> Int32 {
        let out = Output()
        do {
            out.line(listing(try ScenarioLoader().load(paths: paths)))
            return HarnessExit.success
        } catch {
            out.error("\(error)")
            return HarnessExit.usage
        }
    }

    /// `mxharness explain FILE [--variant NAME]`: the merged case as the runner sees it.
    public static func explain(file: String, variant: String?) -> Int32 {
        let out = Output()
        do {
            out.line(Scenario.explain(try CaseLookup.one(file: file, variant: variant)))
            return HarnessExit.success
        } catch {
            out.error("\(error)")
            return HarnessExit.usage
        }
    }
}
