/// One value of a scenario, as a kind's `ScenarioKey` reads it: where it is written and its key
/// path, so that what the kind reports names the file, line, column and key as the loader's own
/// messages do.
public struct ScenarioValue {
    let tree: Tree
    let path: KeyPath
    let diagnostics: Diagnostics
    /// The kind the part names (`receiver.target`, `sender.mta`), nil when it names none (or names
    /// one the loader does not know): a key whose rules depend on who plays the part reads it.
    public let kind: String?

    init(_ tree: Tree, _ path: KeyPath, _ diagnostics: Diagnostics, kind: String? = nil) {
        self.tree = tree
        self.path = path
        self.diagnostics = diagnostics
        self.kind = kind
    }

    public var location: SourceLocation { tree.location }
    /// `receiver.exim.main`.
    public var keyPath: String { path.description }

    /// The value as a map whose keys are asked for one by one (`ScenarioMap.finish` reports the
    /// rest as unknown); nil, reported, when it is not a map.
    public func map(what: String) -> ScenarioMap? {
        MapReader(tree, path, diagnostics, what: what).map { ScenarioMap($0, kind: kind) }
    }

    /// A string that is not empty; nil, reported, otherwise.
    public func nonEmptyString(what: String) -> String? {
        Reader(diagnostics: diagnostics).nonEmptyString(tree, path, what: what)
    }

    /// One of the raw values of `T`, the message naming them all; nil, reported, otherwise.
    public func choice<T: RawRepresentable & CaseIterable>(_ what: String, _ type: T.Type = T.self) -> T?
    where T.RawValue == String {
        Reader(diagnostics: diagnostics).choice(tree, path, what, type)
    }

    /// A map whose values are scalars, in the order written; nil, reported, otherwise.
    public func stringMap(what: String) -> [(name: String, value: String)]? {
        CaseDecoder(diagnostics).stringMap(tree, path, what: what)
    }

    /// A map of setting names (letters, digits and _) to one-line values, numbers and yes/no taken
    /// as written; nil, reported, otherwise.
    public func settingsMap(what: String) -> [String: String]? {
        CaseDecoder(diagnostics).settingsMap(tree, path, what: what)
    }

    /// Reports an invalid value at this value's location, under its key path and then `keys`.
    public func invalid(_ message: String, under keys: String...) {
        diagnostics.add(.invalidValue, at: tree.location, keys.reduce(path) { $0.key($1) }, message)
    }

    /// The entries of a map, in the order written (keys trimmed); empty when it is not a map.
    public var entries: [ScenarioEntry] {
        (tree.entries ?? []).map { entry in
            let name = entry.key.trimmingCharacters(in: .whitespaces)
            return ScenarioEntry(
                name: name, keyLocation: entry.keyLocation,
                value: ScenarioValue(entry.value, path.key(name), diagnostics, kind: kind))
        }
    }

    /// How an error message quotes what a file says: at most 60 characters, control, invisible and
    /// bidi characters escaped.
    public static func quoted(_ text: String) -> String { Tree.clip(text) }

    /// The name in `names` that `text` is a likely misspelling of, for "did you mean".
    public static func closest(to text: String, in names: [String]) -> String? {
        Suggest.closest(to: text, in: names)
    }
}

/// One entry of a map value (`ScenarioValue.entries`).
public struct ScenarioEntry {
    public let name: String
    let keyLocation: SourceLocation
    public let value: ScenarioValue

    /// Reports the key as unknown, at the key's location.
    public func unknown(_ message: String) {
        value.diagnostics.add(.unknownKey, at: keyLocation, value.path, message)
    }
}

/// A map of a scenario, read key by key (`ScenarioValue.map`).
public final class ScenarioMap {
    let reader: MapReader
    let kind: String?

    init(_ reader: MapReader, kind: String?) {
        self.reader = reader
        self.kind = kind
    }

    /// The value of `key` (now a known key here), nil when absent or null.
    public func optional(_ key: String) -> ScenarioValue? {
        reader.optional(key).map { ScenarioValue($0, reader.path.key(key), reader.diagnostics, kind: kind) }
    }

    /// The value of `key`; nil, reported as a missing key (`hint` says what it is), when absent or null.
    public func required(_ key: String, _ hint: String) -> ScenarioValue? {
        reader.required(key, hint).map { ScenarioValue($0, reader.path.key(key), reader.diagnostics, kind: kind) }
    }

    /// Reports every key not asked for as unknown, naming the known ones.
    public func finish() {
        reader.finish()
    }
}
