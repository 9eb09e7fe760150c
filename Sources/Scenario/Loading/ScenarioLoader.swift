import DNSCore
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
    /// The receiver and sender names, and the kinds' own keys, the files may use.
    public var kinds: ScenarioKinds

    /// A loader knowing `kinds` (the executable gives its catalog's: `PartCatalog.scenarioKinds`).
    public init(kinds: ScenarioKinds = .core) {
        self.kinds = kinds
    }

    /// The cases of `paths` (files or folders), in order: paths as given, files in sorted order,
    /// documents in file order, a scenario before its variants.
    public func load(paths: [String]) throws(ScenarioLoadError) -> [ScenarioCase] {
        let session = LoadSession(kinds: kinds)
        for file in session.discover(paths) {
            session.loadFile(file)
        }
        return try session.result()
    }

    /// The cases of one YAML text, as if it were the file `file` (includes are resolved relative to it).
    public func load(yaml: String, file: String) throws(ScenarioLoadError) -> [ScenarioCase] {
        let session = LoadSession(kinds: kinds)
        session.addRoot(for: file, isDirectory: false)
        session.loadText(yaml, file: file)
        return try session.result()
    }
}

/// The state of one `load`: diagnostics, parsed files (profiles are parsed once), names seen.
private final class LoadSession {
    let diagnostics = Diagnostics()
    let kinds: ScenarioKinds
    private var cases: [ScenarioCase] = []
    private var names: [String: SourceLocation] = [:]
    private var parsed: [String: Result<[Tree], ScenarioDiagnostic>] = [:]
    /// The canonical folders includes may point into (`addRoot`).
    private var roots: [String] = []

    init(kinds: ScenarioKinds) {
        self.kinds = kinds
    }

    /// Lets includes resolve inside `path`'s tree: the folder given (or the folder of the file
    /// given) and the scenario library it belongs to, the nearest folder above holding `_profiles`.
    func addRoot(for path: String, isDirectory: Bool) {
        var folder = Paths.canonical(path)
        if !isDirectory { folder = Paths.parent(of: folder) }
        for root in [folder, Paths.libraryRoot(above: folder)].compactMap({ $0 }) where !roots.contains(root) {
            roots.append(root)
        }
    }

    func isInsideRoots(_ canonical: String) -> Bool {
        roots.contains { $0 == "/" || canonical == $0 || canonical.hasPrefix($0 + "/") }
    }

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
            addRoot(for: path, isDirectory: isDirectory.boolValue)
            if isDirectory.boolValue {
                var visited = Set<String>()
                walk(path, into: add, visited: &visited)
            } else if Paths.isUnderProfiles(path) {
                diagnostics.add(
                    .unreadable, at: Paths.start(of: path), .root,
                    "this is a profile (it is under a folder named _profiles), not a scenario: give a scenario that includes it"
                )
            } else if !Paths.isYAML(path) {
                diagnostics.add(
                    .unreadable, at: Paths.start(of: path), .root,
                    "not a scenario file: scenario files end in .yaml or .yml")
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
            diagnostics.add(
                .unreadable, at: Paths.start(of: directory), .root,
                "cannot list this folder: \(error.localizedDescription)")
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
            diagnostics.add(
                .wrongType, at: document.location, .root,
                "a scenario is a map of keys (dns, receiver, sender, expect, ...); found \(document.kindName)")
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
        let decoder = CaseDecoder(diagnostics, kinds: kinds)

        guard let variantsTree = resolved["variants"], !variantsTree.isNull else {
            add(
                decoder.decode(
                    scenario, name: name, location: document.location,
                    expectHint: "what must happen (expect: {outcome: ...})"),
                nameLocation: nameLocation)
            return
        }
        let variantsPath = KeyPath.root.key("variants")
        guard
            let variants = read.list(
                variantsTree, variantsPath, what: "a list of variants (maps with a name and scenario keys)")
        else { return }
        if hasOwnExpect {
            add(
                decoder.decode(scenario, name: name, location: document.location, expectHint: ""),
                nameLocation: nameLocation)
        } else if variants.isEmpty {
            diagnostics.add(
                .missingKey, at: document.location, .root.key("expect"),
                "required key is missing: the scenario has no expect and its variants list is empty")
        }
        for (index, variant) in variants.enumerated() {
            let path = variantsPath.index(index)
            guard let entries = variant.entries else {
                diagnostics.add(
                    .wrongType, at: variant.location, path,
                    "expected a variant (a map with a name and scenario keys), found \(variant.kindName)")
                continue
            }
            guard let nameTree = variant["name"], !nameTree.isNull else {
                diagnostics.add(
                    .missingKey, at: variant.location, path.key("name"),
                    "required key is missing: every variant needs a name (its case is called \(name)/NAME)")
                continue
            }
            guard let variantName = read.nonEmptyString(nameTree, path.key("name"), what: "a variant name") else {
                continue
            }
            if let nested = entries.first(where: { $0.key == "variants" }) {
                diagnostics.add(
                    .invalidValue, at: nested.keyLocation, path.key("variants"),
                    "a variant cannot have variants of its own; make it a scenario of its own")
                continue
            }
            // Format 1.1: a variant's `expect` replaces the scenario's whole; without one (or with
            // `expect: ~`, null being absent) the scenario's holds.
            var own = resolveIncludes(variant, file: file, chain: chain, path: path).removing(["name", "include"])
            let ownsExpect = own["expect"].map { !$0.isNull } ?? false
            if !ownsExpect { own = own.removing(["expect"]) }
            let merged = Tree.merge(ownsExpect ? scenario.removing(["expect"]) : scenario, own)
            let hint = "every variant needs an expect when the scenario has none (variant \"\(variantName)\")"
            add(
                decoder.decode(merged, name: "\(name)/\(variantName)", location: variant.location, expectHint: hint),
                nameLocation: nameTree.location)
        }
    }

    private func add(_ scenario: ScenarioCase?, nameLocation: SourceLocation) {
        guard let scenario else { return }
        // Case names are printed everywhere (progress, tables, reports): nothing in them may
        // move the cursor, hide text or reorder it.
        guard !scenario.name.unicodeScalars.contains(where: Printable.isUnsafe) else {
            diagnostics.add(
                .invalidValue, at: nameLocation, .root.key("name"),
                "case name \"\(Tree.clip(scenario.name))\" holds a control, invisible or bidirectional character; give it a plain name (name:, or the file name)"
            )
            return
        }
        if let first = names[scenario.name] {
            diagnostics.add(
                .duplicateName, at: nameLocation, .root.key("name"),
                "duplicate case name \"\(scenario.name)\", also at \(first); case names must be unique in a run (give one a different name:)"
            )
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
        guard let items = read.list(includeTree, includePath, what: "a list of profile paths") else {
            return tree.removing(["include"])
        }
        var merged: Tree? = nil
        for (index, item) in items.enumerated() {
            let itemPath = includePath.index(index)
            guard let relative = read.nonEmptyString(item, itemPath, what: "a profile path") else { continue }
            let target = Paths.resolve(relative, from: file)
            let canonical = Paths.canonical(target)
            guard isInsideRoots(canonical) else {
                let shown =
                    canonical == Paths.normalize(target)
                    ? Paths.display(canonical) : "\(Paths.display(target)) (\(Paths.display(canonical)))"
                diagnostics.add(
                    .include, at: item.location, itemPath,
                    "cannot include \"\(Tree.clip(relative))\": \(shown) is outside the scenario tree; includes resolve only inside the folders of the scenario paths given (\(roots.map(Paths.display).joined(separator: ", ")))"
                )
                continue
            }
            if let start = chain.firstIndex(of: canonical) {
                let cycle = (chain[start...] + [canonical]).map(Paths.display).joined(separator: " → ")
                diagnostics.add(
                    .include, at: item.location, itemPath, "include cycle: \(cycle); a profile cannot include itself")
                continue
            }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory), !isDirectory.boolValue
            else {
                diagnostics.add(
                    .include, at: item.location, itemPath,
                    "cannot include \"\(Tree.clip(relative))\": no file \(target) (include paths are relative to the including file, \(file))"
                )
                continue
            }
            guard Paths.isRegularFile(canonical) else {
                diagnostics.add(
                    .include, at: item.location, itemPath,
                    "cannot include \"\(Tree.clip(relative))\": not a regular file: \(Paths.display(canonical))")
                continue
            }
            let profile: Tree
            switch documents(target) {
            case .failure(let diagnostic):
                diagnostics.add(diagnostic)
                diagnostics.add(
                    .include, at: item.location, itemPath,
                    "cannot include \"\(Tree.clip(relative))\": it has errors (above)")
                continue
            case .success(let trees):
                if trees.isEmpty { continue }  // an empty profile adds nothing
                guard trees.count == 1, let only = trees.first else {
                    diagnostics.add(
                        .include, at: item.location, itemPath,
                        "cannot include \"\(Tree.clip(relative))\": a profile holds one YAML document, \(target) has \(trees.count)"
                    )
                    continue
                }
                guard only.entries != nil else {
                    diagnostics.add(
                        .include, at: only.location, .root,
                        "a profile is a map of scenario keys (dns, receiver, sender, ...); found \(only.kindName) (included from \(item.location))"
                    )
                    continue
                }
                profile = only
            }
            let resolved = resolveIncludes(profile, file: target, chain: chain + [canonical], path: .root).removing([
                "name"
            ])
            merged = merged.map { Tree.merge($0, resolved) } ?? resolved
        }
        let own = tree.removing(["include"])
        return merged.map { Tree.merge($0, own) } ?? own
    }
}
