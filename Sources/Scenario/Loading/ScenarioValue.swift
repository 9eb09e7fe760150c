/// One value of a scenario, as a kind's `ScenarioKey` reads it: where it is written and its key
/// path, so that what the kind reports names the file, line, column and key as the loader's own
/// messages do.
public struct ScenarioValue {
    let tree: Tree
    let path: KeyPath
    let diagnostics: Diagnostics

    init(_ tree: Tree, _ path: KeyPath, _ diagnostics: Diagnostics) {
        self.tree = tree
        self.path = path
        self.diagnostics = diagnostics
    }

    public var location: SourceLocation { tree.location }
    /// `receiver.exim.main`.
    public var keyPath: String { path.description }

    /// The value as a map whose keys are asked for one by one (`ScenarioMap.finish` reports the
    /// rest as unknown); nil, reported, when it is not a map.
    public func map(what: String) -> ScenarioMap? {
        MapReader(tree, path, diagnostics, what: what).map(ScenarioMap.init)
    }

    /// A string that is not empty; nil, reported, otherwise.
    public func nonEmptyString(what: String) -> String? {
        Reader(diagnostics: diagnostics).nonEmptyString(tree, path, what: what)
    }

    /// A map whose values are scalars, in the order written; nil, reported, otherwise.
    public func stringMap(what: String) -> [(name: String, value: String)]? {
        CaseDecoder(diagnostics).stringMap(tree, path, what: what)
    }

    /// A map of setting names (letters, digits and _) to one-line values, as `sender.postfix`
    /// reads; nil, reported, otherwise.
    public func settingsMap(what: String) -> [String: String]? {
        CaseDecoder(diagnostics).settingsMap(tree, path, what: what)
    }

    /// Reports an invalid value at this value's location, under its key path and then `keys`.
    public func invalid(_ message: String, under keys: String...) {
        diagnostics.add(.invalidValue, at: tree.location, keys.reduce(path) { $0.key($1) }, message)
    }
}

/// A map of a scenario, read key by key (`ScenarioValue.map`).
public final class ScenarioMap {
    let reader: MapReader

    init(_ reader: MapReader) {
        self.reader = reader
    }

    /// The value of `key` (now a known key here), nil when absent or null.
    public func optional(_ key: String) -> ScenarioValue? {
        reader.optional(key).map { ScenarioValue($0, reader.path.key(key), reader.diagnostics) }
    }

    /// Reports every key not asked for as unknown, naming the known ones.
    public func finish() {
        reader.finish()
    }
}
