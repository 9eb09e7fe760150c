import Foundation

/// A mistake in the shards given to `mxharness merge`.
public struct CensusMergeError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

extension CensusReport {
    /// Whether a JSON object is a census report (`census --json`).
    public static func isCensusReport(_ object: Any) -> Bool {
        guard let dictionary = object as? [String: Any] else { return false }
        return dictionary["groups"] != nil && dictionary["worlds"] != nil && dictionary["policies"] != nil
    }

    /// The shards' reports (`census --shard K/N --json`) as the report one machine would have
    /// written: every shard of the same N once, with the same columns and worlds.
    public static func merge(_ shards: [(path: String, report: CensusReport)]) throws(CensusMergeError) -> CensusReport
    {
        guard let first = shards.first else { throw CensusMergeError("nothing to merge") }
        let columns = first.report.policies.map(\.name)
        var seen: [Int: String] = [:]
        var groups: [CensusGroup] = []
        for (path, report) in shards {
            guard let shard = report.shard else {
                throw CensusMergeError("\(path) is a whole census, not a shard's (census --shard K/N --json)")
            }
            guard shard.count == first.report.shard?.count else {
                throw CensusMergeError(
                    "\(path) is shard \(shard.index)/\(shard.count), \(first.path) of \(first.report.shard?.count ?? 0) shards"
                )
            }
            if let other = seen[shard.index] {
                throw CensusMergeError("\(path) and \(other) are both shard \(shard.index)/\(shard.count)")
            }
            seen[shard.index] = path
            guard report.policies.map(\.name) == columns else {
                throw CensusMergeError(
                    "\(path) has the columns \(report.policies.map(\.name).joined(separator: ",")), \(first.path) \(columns.joined(separator: ","))"
                )
            }
            guard report.worlds == first.report.worlds, report.target == first.report.target else {
                throw CensusMergeError(
                    "\(path) ran worlds from \(report.worlds) on \(report.target), \(first.path) from \(first.report.worlds) on \(first.report.target)"
                )
            }
            groups += report.groups
        }
        let count = first.report.shard?.count ?? 1
        let missing = (1...count).filter { seen[$0] == nil }
        guard missing.isEmpty else {
            throw CensusMergeError(
                "shard\(missing.count == 1 ? "" : "s") \(missing.map { "\($0)/\(count)" }.joined(separator: ", ")) missing"
            )
        }
        let total = first.report.shard?.total ?? groups.count
        guard groups.count == total else {
            throw CensusMergeError(
                "the shards hold \(groups.count) worlds, their census \(total): were they made from the same logs?")
        }
        groups.sort { $0.name < $1.name }
        return CensusReport(
            groups: groups, columns: columns, worlds: first.report.worlds, target: first.report.target,
            assumptions: first.report.assumptions,
            reading: first.report.reading, top: first.report.top)
    }
}
