import Scenario

/// A scenario file without the case a command asked for, naming the cases it has.
public struct CaseLookupError: Error, CustomStringConvertible {
    public var description: String
}

/// Picks one case out of a scenario file, for commands that work on one (`send`, `explain`, `dns`).
enum CaseLookup {
    /// The case of `file` named `variant` (`SCENARIO/VARIANT`, or the variant's own name), or the
    /// file's only case when no variant is given.
    static func one(file: String, variant: String?, kinds: ScenarioKinds) throws -> ScenarioCase {
        let cases = try ScenarioLoader(kinds: kinds).load(paths: [file])
        if let variant {
            if let match = cases.first(where: { $0.name == variant || $0.name.hasSuffix("/" + variant) }) {
                return match
            }
            throw CaseLookupError(
                description: "\(file): no variant \"\(variant)\"; cases: \(cases.map(\.name).joined(separator: ", "))")
        }
        guard cases.count == 1, let only = cases.first else {
            if cases.isEmpty { throw CaseLookupError(description: "\(file): no case in this file") }
            throw CaseLookupError(
                description:
                    "\(file) has \(cases.count) cases; choose one with --variant: \(cases.map(\.name).joined(separator: ", "))"
            )
        }
        return only
    }
}
