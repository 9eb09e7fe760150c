import Scenario

/// One of N parts of a run (`--shard K/N`), so that a CI's job matrix runs a library on several
/// machines. A case belongs to the shard its name hashes to (64-bit FNV-1a of the name's UTF-8
/// bytes, modulo N): the split depends on nothing but the name and N, so every machine computes the
/// same one, each case is in exactly one shard, and adding or removing a case never moves another.
public struct CaseShard: Sendable, Hashable, CustomStringConvertible {
    /// 1-based, at most `count`.
    public let index: Int
    public let count: Int

    public init?(index: Int, count: Int) {
        guard count >= 1, (1...count).contains(index) else { return nil }
        self.index = index
        self.count = count
    }

    /// Reads `K/N` (1 ≤ K ≤ N).
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else { return nil }
        self.init(index: index, count: count)
    }

    public var description: String { "\(index)/\(count)" }

    /// The shard (1...count) a case named `name` belongs to.
    public static func shard(of name: String, count: Int) -> Int {
        Int(fnv1a(name) % UInt64(max(1, count))) + 1
    }

    public func contains(_ name: String) -> Bool {
        Self.shard(of: name, count: count) == index
    }

    /// The cases of this shard, in their order.
    public func apply(_ cases: [ScenarioCase]) -> [ScenarioCase] {
        cases.filter { contains($0.name) }
    }

    /// 64-bit FNV-1a (offset basis 14695981039346656037, prime 1099511628211).
    public static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }
}

/// Where a shard's cases stand in the whole selection, so that reports of all shards merge into the
/// report one machine would have written (`mxharness merge`).
public struct ShardPlacement: Sendable, Hashable, Codable {
    /// `K` of `K/N`.
    public var index: Int
    /// `N` of `K/N`.
    public var count: Int
    /// The cases selected before the split (in all shards together).
    public var total: Int

    public init(index: Int, count: Int, total: Int) {
        self.index = index
        self.count = count
        self.total = total
    }
}

extension CaseShard {
    /// This shard's cases with each one's position in `cases` (the selection before the split).
    public func select(_ cases: [ScenarioCase]) -> (cases: [ScenarioCase], positions: [Int], placement: ShardPlacement)
    {
        var chosen: [ScenarioCase] = []
        var positions: [Int] = []
        for (position, scenario) in cases.enumerated() where contains(scenario.name) {
            chosen.append(scenario)
            positions.append(position)
        }
        return (chosen, positions, ShardPlacement(index: index, count: count, total: cases.count))
    }
}
