import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Loads scenario files and folders into test cases (the format's sections "Includes" and "variants").
///
/// - Files end in `.yaml` or `.yml`; folders are searched recursively, entries in sorted order, skipping
///   folders named `_profiles` (profiles are only included) and names starting with a dot.
/// - Each non-empty YAML document of a file is a scenario; its default name is the file name without
///   extension, plus `#N` (1-based, counting non-empty documents) when the file has several.
/// - `include` merges each listed profile (relative to the including file), in order, under the
///   scenario's keys; a profile's own `name` is not merged (it names the profile, as a variant's names the variant).
/// - A variant is merged onto the scenario (maps key by key, lists and scalars replace) and becomes
///   `SCENARIO/VARIANT`; with variants, the scenario is a case only if it has its own `expect`.
/// - A variant's `expect` replaces the scenario's whole (format 1.1); every other key merges.
/// - A key set to null (`~`) counts as absent.
///
/// Every problem of every file is collected; `load` throws them all at once.
public struct ScenarioLoader: Sendable {
    public init() {}

    /// The cases of `paths` (files or folders), in order: paths as given, files in sorted order,
    /// documents in file order, a scenario before its variants.
    public func load(paths: [String]) throws(ScenarioLoadError) -> [ScenarioCase] {
        let session = LoadSession()
        for file in session.discover(paths) {
            session.loadFile(file)
        }
        return try session.result()
    }

    /// The cases of one YAML text, as if it were the file `file` (includes are resolved relative to it).
    public func load(yaml: String, file: String) throws(ScenarioLoadError) -> [ScenarioCase] {
        let session = LoadSession()
        session.loadText(yaml, file: file)
        return try session.result()
    }
}

/// The state of one `load`: diagnostics, parsed files (profiles are parsed once), names seen.
private final class LoadSession {
    let diagnostics = Diagnostics()
    private var cases: [ScenarioCase] = []
    private var names: [String: SourceLocation] = [:]
    private var parsed: [String: Result<[Tree], ScenarioDiagnostic>] = [:]

    func result() throws(ScenarioLoadError) -> [ScenarioCase] {
        guard diagnostics.items.isEmpty else { throw ScenarioLoadError(diagnostics: diagnostics.items) }
        return cases
    }

    // MARK: Finding files

    func discover(_ paths: [String]) -> [String] {
        var files: [String] = []
        var seen = Set<String>()
        func add(_ file: String) {
            if seen.insert(Paths.canonical(file)).inserted { files.append(file) }
        }
        for given in paths {
            let path = Paths.trimmingTrailingSlashes(given)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                diagnostics.add(.unreadable, at: Paths.start(of: given), .root, "no such file or folder")
                continue
            }
            if isDirectory.boolValue {
                var visited = Set<String>()
                walk(path, into: add, visited: &visited)
            } else if Paths.isUnderProfiles(path) {
                diagnostics.add(.unreadable, at: Paths.start(of: path), .root, "this is a profile (it is under a folder named _profiles), not a scenario: give a scenario that includes it")
            } else if !Paths.isYAML(path) {
                diagnostics.add(.unreadable, at: Paths.start(of: path), .root, "not a scenario file: scenario files end in .yaml or .yml")
            } else {
                add(path)
            }
        }
        return files
    }

    private func walk(_ directory: String, into add: (String) -> Void, visited: inout Set<String>) {
        guard visited.insert(Paths.canonical(directory)).inserted else { return }  // a symlink loop
        let entries: [String]
        do {
            entries = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        } catch {
            diagnostics.add(.unreadable, at: Paths.start(of: directory), .root, "cannot list this folder: \(error.localizedDescription)")
            return
        }
        for name in entries where !name.hasPrefix(".") {
            let path = directory == "/" ? "/" + name : directory == "." ? name : directory + "/" + name
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                if name != "_profiles" { walk(path, into: add, visited: &visited) }
            } else if Paths.isYAML(name) {
                add(path)
            }
        }
    }

    // MARK: Reading files

    /// The documents of `file`, parsed once per load.
    private func documents(_ file: String) -> Result<[Tree], ScenarioDiagnostic> {
        let key = Paths.canonical(file)
        if let cached = parsed[key] { return cached }
        let result: Result<[Tree], ScenarioDiagnostic>
        switch Paths.readText(file) {
        case .success(let text): result = TreeReader.documents(of: text, file: file)
        case .failure(let diagnostic): result = .failure(diagnostic)
        }
        parsed[key] = result
        return result
    }

    func loadFile(_ file: String) {
        switch documents(file) {
        case .success(let trees): loadDocuments(trees, file: file)
        case .failure(let diagnostic): diagnostics.add(diagnostic)
        }
    }

    func loadText(_ text: String, file: String) {
        let result = TreeReader.documents(of: text, file: file)
        parsed[Paths.canonical(file)] = result
        switch result {
        case .success(let trees): loadDocuments(trees, file: file)
        case .failure(let diagnostic): diagnostics.add(diagnostic)
        }
    }

    private func loadDocuments(_ trees: [Tree], file: String) {
        let base = Paths.baseName(file)
        for (index, tree) in trees.enumerated() {
            loadScenario(tree, file: file, defaultName: trees.count > 1 ? "\(base)#\(index + 1)" : base)
        }
    }

    // MARK: Scenarios and variants

    private func loadScenario(_ document: Tree, file: String, defaultName: String) {
        let read = Reader(diagnostics: diagnostics)
        guard document.entries != nil else {
            diagnostics.add(.wrongType, at: document.location, .root, "a scenario is a map of keys (dns, receiver, sender, expect, ...); found \(document.kindName)")
            return
        }
        var name = defaultName
        var nameLocation = document.location
        if let nameTree = document["name"], !nameTree.isNull {
            // A bad name is reported; the document is still read under its default name, to report the rest.
            if let text = read.nonEmptyString(nameTree, .root.key("name"), what: "a case name") { name = text }
            nameLocation = nameTree.location
        }
        let chain = [Paths.canonical(file)]
        let resolved = resolveIncludes(document, file: file, chain: chain, path: .root)
        let scenario = resolved.removing(Set(CaseDecoder.loaderKeys))
        let hasOwnExpect = scenario["expect"].map { !$0.isNull } ?? false
        let decoder = CaseDecoder(diagnostics)

        guard let variantsTree = resolved["variants"], !variantsTree.isNull else {
            add(decoder.decode(scenario, name: name, location: document.location, expectHint: "what must happen (expect: {outcome: ...})"),
                nameLocation: nameLocation)
            return
        }
        let variantsPath = KeyPath.root.key("variants")
        guard let variants = read.list(variantsTree, variantsPath, what: "a list of variants (maps with a name and scenario keys)") else { return }
        if hasOwnExpect {
            add(decoder.decode(scenario, name: name, location: document.location, expectHint: ""), nameLocation: nameLocation)
        } else if variants.isEmpty {
            diagnostics.add(.missingKey, at: document.location, .root.key("expect"), "required key is missing: the scenario has no expect and its variants list is empty")
        }
        for (index, variant) in variants.enumerated() {
            let path = variantsPath.index(index)
            guard let entries = variant.entries else {
                diagnostics.add(.wrongType, at: variant.location, path, "expected a variant (a map with a name and scenario keys), found \(variant.kindName)")
                continue
            }
            guard let nameTree = variant["name"], !nameTree.isNull else {
                diagnostics.add(.missingKey, at: variant.location, path.key("name"), "required key is missing: every variant needs a name (its case is called \(name)/NAME)")
                continue
            }
            guard let variantName = read.nonEmptyString(nameTree, path.key("name"), what: "a variant name") else { continue }
            if let nested = entries.first(where: { $0.key == "variants" }) {
                diagnostics.add(.invalidValue, at: nested.keyLocation, path.key("variants"), "a variant cannot have variants of its own; make it a scenario of its own")
                continue
            }
            // Format 1.1: a variant's `expect` replaces the scenario's whole; without one (or with
            // `expect: ~`, null being absent) the scenario's holds.
            var own = resolveIncludes(variant, file: file, chain: chain, path: path).removing(["name", "include"])
            let ownsExpect = own["expect"].map { !$0.isNull } ?? false
            if !ownsExpect { own = own.removing(["expect"]) }
            let merged = Tree.merge(ownsExpect ? scenario.removing(["expect"]) : scenario, own)
            let hint = "every variant needs an expect when the scenario has none (variant \"\(variantName)\")"
            add(decoder.decode(merged, name: "\(name)/\(variantName)", location: variant.location, expectHint: hint),
                nameLocation: nameTree.location)
        }
    }

    private func add(_ scenario: ScenarioCase?, nameLocation: SourceLocation) {
        guard let scenario else { return }
        if let first = names[scenario.name] {
            diagnostics.add(
                .duplicateName, at: nameLocation, .root.key("name"),
                "duplicate case name \"\(scenario.name)\", also at \(first); case names must be unique in a run (give one a different name:)")
            return
        }
        names[scenario.name] = nameLocation
        cases.append(scenario)
    }

    // MARK: Includes

    /// `tree` with its `include` list merged in under it (and the includes of those, recursively).
    /// `chain` holds the canonical paths of the files being included, to catch cycles.
    private func resolveIncludes(_ tree: Tree, file: String, chain: [String], path: KeyPath) -> Tree {
        guard let includeTree = tree["include"], !includeTree.isNull else { return tree.removing(["include"]) }
        let read = Reader(diagnostics: diagnostics)
        let includePath = path.key("include")
        guard let items = read.list(includeTree, includePath, what: "a list of profile paths") else { return tree.removing(["include"]) }
        var merged: Tree? = nil
        for (index, item) in items.enumerated() {
            let itemPath = includePath.index(index)
            guard let relative = read.nonEmptyString(item, itemPath, what: "a profile path") else { continue }
            let target = Paths.resolve(relative, from: file)
            let canonical = Paths.canonical(target)
            if let start = chain.firstIndex(of: canonical) {
                let cycle = (chain[start...] + [canonical]).map(Paths.display).joined(separator: " → ")
                diagnostics.add(.include, at: item.location, itemPath, "include cycle: \(cycle); a profile cannot include itself")
                continue
            }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory), !isDirectory.boolValue else {
                diagnostics.add(
                    .include, at: item.location, itemPath,
                    "cannot include \"\(relative)\": no file \(target) (include paths are relative to the including file, \(file))")
                continue
            }
            let profile: Tree
            switch documents(target) {
            case .failure(let diagnostic):
                diagnostics.add(diagnostic)
                diagnostics.add(.include, at: item.location, itemPath, "cannot include \"\(relative)\": it has errors (above)")
                continue
            case .success(let trees):
                if trees.isEmpty { continue }  // an empty profile adds nothing
                guard trees.count == 1, let only = trees.first else {
                    diagnostics.add(.include, at: item.location, itemPath, "cannot include \"\(relative)\": a profile holds one YAML document, \(target) has \(trees.count)")
                    continue
                }
                guard only.entries != nil else {
                    diagnostics.add(.include, at: only.location, .root, "a profile is a map of scenario keys (dns, receiver, sender, ...); found \(only.kindName) (included from \(item.location))")
                    continue
                }
                profile = only
            }
            let resolved = resolveIncludes(profile, file: target, chain: chain + [canonical], path: .root).removing(["name"])
            merged = merged.map { Tree.merge($0, resolved) } ?? resolved
        }
        let own = tree.removing(["include"])
        return merged.map { Tree.merge($0, own) } ?? own
    }
}

/// Path helpers: names as the user wrote them for messages, canonical ones for identity.
enum Paths {
    static func isYAML(_ path: String) -> Bool {
        path.hasSuffix(".yaml") || path.hasSuffix(".yml")
    }

    static func isUnderProfiles(_ path: String) -> Bool {
        path.split(separator: "/").dropLast().contains("_profiles")
    }

    static func trimmingTrailingSlashes(_ path: String) -> String {
        var path = path
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        return path
    }

    static func start(of file: String) -> SourceLocation {
        SourceLocation(file: file, line: 1, column: 1)
    }

    /// `dir/name.yaml` → `name`.
    static func baseName(_ file: String) -> String {
        let last = file.split(separator: "/").last.map(String.init) ?? file
        guard let dot = last.lastIndex(of: "."), dot != last.startIndex else { return last }
        return String(last[..<dot])
    }

    /// `relative` seen from the folder of `file`, lexically normalized (`a/./b/../c` → `a/c`).
    static func resolve(_ relative: String, from file: String) -> String {
        if relative.hasPrefix("/") { return normalize(relative) }
        let directory = file.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        if directory.isEmpty { return normalize(file.hasPrefix("/") ? "/" + relative : relative) }
        return normalize(directory + "/" + relative)
    }

    static func normalize(_ path: String) -> String {
        let absolute = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." {
                parts.removeLast()
            } else if part == "..", absolute {
                continue
            } else {
                parts.append(part)
            }
        }
        let joined = parts.joined(separator: "/")
        if absolute { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }

    /// The real path (symlinks resolved) when the file exists, else the normalized absolute path.
    static func canonical(_ path: String) -> String {
        if let resolved = realpath(path, nil) {
            defer { free(resolved) }
            return String(cString: resolved)
        }
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return normalize(absolute)
    }

    /// A canonical path shown relative to the working folder when it is inside it.
    static func display(_ canonical: String) -> String {
        let cwd = Paths.canonical(FileManager.default.currentDirectoryPath)
        return canonical.hasPrefix(cwd + "/") ? String(canonical.dropFirst(cwd.count + 1)) : canonical
    }

    /// The file as UTF-8 text, or where it is not.
    static func readText(_ file: String) -> Result<String, ScenarioDiagnostic> {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            return .failure(ScenarioDiagnostic(.unreadable, at: start(of: file), keyPath: "", "cannot read this file: \(error.localizedDescription)"))
        }
        let bytes = [UInt8](data)
        if let invalid = firstInvalidUTF8(bytes) {
            return .failure(ScenarioDiagnostic(
                .unreadable, at: SourceLocation(file: file, line: invalid.line, column: invalid.column), keyPath: "",
                "not UTF-8 text (byte 0x\(String(bytes[invalid.offset], radix: 16)) at offset \(invalid.offset)); scenario files are UTF-8"))
        }
        return .success(String(decoding: bytes, as: UTF8.self))
    }

    /// Where the first byte that is not part of valid UTF-8 is, if any.
    static func firstInvalidUTF8(_ bytes: [UInt8]) -> (offset: Int, line: Int, column: Int)? {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0, line = 1, column = 1
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                offset += encoded.count
                if encoded.count == 1 && encoded.first == 0x0a {
                    line += 1
                    column = 1
                } else {
                    column += 1
                }
            case .error:
                return (min(offset, bytes.count - 1), line, column)
            case .emptyInput:
                return nil
            }
        }
    }
}
