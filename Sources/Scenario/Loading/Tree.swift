import DNSCore
import Foundation
import Yams

/// A YAML value with the place it is written, kept through includes and variant merges so that a
/// problem found after merging still points at the file, line and column of the value.
struct Tree: Sendable {
    enum Value: Sendable {
        /// `text` is the scalar as written (no YAML 1.1 type resolution: `yes` stays `yes`);
        /// `isNull` for a plain `~`, `null` or nothing; `verbatim` when the source line holds the text
        /// exactly at the node's column (a plain one-line scalar), so columns inside it can be reported.
        case scalar(text: String, isNull: Bool, verbatim: Bool)
        case list([Tree])
        case map([Entry])
    }

    struct Entry: Sendable {
        var key: String
        var keyLocation: SourceLocation
        var value: Tree
    }

    var value: Value
    var location: SourceLocation

    var entries: [Entry]? {
        if case .map(let entries) = value { return entries }
        return nil
    }

    var isNull: Bool {
        if case .scalar(_, true, _) = value { return true }
        return false
    }

    subscript(key: String) -> Tree? {
        entries?.first { $0.key == key }?.value
    }

    /// The map without `keys`.
    func removing(_ keys: Set<String>) -> Tree {
        guard let entries else { return self }
        return Tree(value: .map(entries.filter { !keys.contains($0.key) }), location: location)
    }

    /// What a value is, for "expected X, found Y" messages.
    var kindName: String {
        switch value {
        case .scalar(_, true, _): "nothing (null)"
        case .scalar(let text, _, _): "the scalar \"\(Tree.clip(text))\""
        case .list: "a list"
        case .map: "a map"
        }
    }

    /// At most `limit` characters of `text`, control, invisible and bidi characters escaped:
    /// how an error message quotes what a file says.
    static func clip(_ text: String, _ limit: Int = 60) -> String {
        Printable.excerpt(text, limit: limit)
    }
}

// MARK: - Merging

extension Tree {
    /// The format's merge (section "variants"): maps merge key by key, lists and scalars replace.
    /// A merged map is located where `over` is (the more specific of the two).
    static func merge(_ base: Tree, _ over: Tree) -> Tree {
        guard case .map(var merged) = base.value, case .map(let overEntries) = over.value else { return over }
        for entry in overEntries {
            if let index = merged.firstIndex(where: { $0.key == entry.key }) {
                merged[index] = Entry(
                    key: entry.key, keyLocation: entry.keyLocation, value: merge(merged[index].value, entry.value))
            } else {
                merged.append(entry)
            }
        }
        return Tree(value: .map(merged), location: over.location)
    }
}

// MARK: - Reading YAML

/// Turns a file's text into trees, one per non-empty document, or the diagnostic that stops it.
enum TreeReader {
    /// Aliases are shared by Yams but expanded here; this bounds "billion laughs" documents.
    static let maximumNodes = 200_000

    static func documents(of text: String, file: String) -> Result<[Tree], ScenarioDiagnostic> {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0.unicodeScalars) }
        var trees: [Tree] = []
        do {
            let parser = try Parser(yaml: text, resolver: .default, constructor: .default, encoding: .utf8)
            while let node = try parser.nextRoot() {
                var budget = maximumNodes
                guard let tree = convert(node, file: file, lines: lines, budget: &budget) else {
                    return .failure(
                        ScenarioDiagnostic(
                            .syntax,
                            at: SourceLocation(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1),
                            keyPath: "",
                            "the document expands to more than \(maximumNodes) values (through aliases); write it out without alias chains"
                        ))
                }
                if tree.isNull { continue }  // an empty document (a trailing `---`, a file of comments)
                trees.append(tree)
            }
        } catch let error as YamlError {
            return .failure(diagnostic(error, file: file, text: text))
        } catch {
            return .failure(
                ScenarioDiagnostic(
                    .syntax, at: SourceLocation(file: file, line: 1, column: 1), keyPath: "",
                    "cannot parse YAML: \(error)"))
        }
        return .success(trees)
    }

    private static func convert(_ node: Node, file: String, lines: [[Unicode.Scalar]], budget: inout Int) -> Tree? {
        budget -= 1
        guard budget >= 0 else { return nil }
        let line = node.mark?.line ?? 1, column = node.mark?.column ?? 1
        let location = SourceLocation(file: file, line: line, column: column)
        switch node {
        case .scalar(let scalar):
            let isNull = scalar.style == .plain && node.tag.rawValue == Tag.Name.null.rawValue
            var verbatim = false
            if scalar.style == .plain, !scalar.string.contains("\n"), lines.indices.contains(line - 1) {
                let source = lines[line - 1]
                let start = column - 1
                let wanted = Array(scalar.string.unicodeScalars)
                if start >= 0, start + wanted.count <= source.count {
                    verbatim = Array(source[start..<(start + wanted.count)]) == wanted
                }
            }
            return Tree(value: .scalar(text: scalar.string, isNull: isNull, verbatim: verbatim), location: location)
        case .sequence(let sequence):
            var items: [Tree] = []
            for item in sequence {
                guard let tree = convert(item, file: file, lines: lines, budget: &budget) else { return nil }
                items.append(tree)
            }
            return Tree(value: .list(items), location: location)
        case .mapping(let mapping):
            var entries: [Tree.Entry] = []
            for (key, value) in mapping {
                guard let keyTree = convert(key, file: file, lines: lines, budget: &budget),
                    let valueTree = convert(value, file: file, lines: lines, budget: &budget)
                else { return nil }
                // Keys that are not scalars cannot be a key of the format; keep them under a name
                // that no reader asks for, so they are reported as unknown keys.
                let name: String
                if case .scalar(let text, _, _) = keyTree.value {
                    name = text
                } else {
                    name = "<\(keyTree.kindName) as key>"
                }
                entries.append(Tree.Entry(key: name, keyLocation: keyTree.location, value: valueTree))
            }
            return Tree(value: .map(entries), location: location)
        case .alias:
            // Yams resolves aliases to the anchored node while composing; a bare alias here is unexpected.
            return Tree(value: .scalar(text: "", isNull: true, verbatim: false), location: location)
        }
    }

    private static func diagnostic(_ error: YamlError, file: String, text: String) -> ScenarioDiagnostic {
        func at(_ mark: Mark) -> SourceLocation { SourceLocation(file: file, line: mark.line, column: mark.column) }
        func describe(_ context: YamlError.Context?, _ problem: String) -> String {
            guard let context else { return problem }
            return "\(problem) (\(context.text) at line \(context.mark.line), column \(context.mark.column))"
        }
        switch error {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            return ScenarioDiagnostic(
                .syntax, at: at(mark), keyPath: "", "YAML syntax error: \(describe(context, problem))")
        case .reader(let problem, let offset, _, _):
            let location =
                offset.map { locationOf(characterOffset: $0, in: text, file: file) }
                ?? SourceLocation(file: file, line: 1, column: 1)
            return ScenarioDiagnostic(.syntax, at: location, keyPath: "", "YAML cannot read this text: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            // Yams marks the first occurrence; point at the repeat when it is a block-style key below it.
            let keys = duplicates.map { "\"\($0)\"" }.joined(separator: ", ")
            let first = at(context.mark)
            if duplicates.count == 1, let key = duplicates.first,
                let second = repeatedBlockKey(key, after: first, in: text)
            {
                return ScenarioDiagnostic(
                    .syntax, at: second, keyPath: "",
                    "duplicate key \(keys) in one map, first at line \(first.line): each key may appear once (the later one would silently win)"
                )
            }
            return ScenarioDiagnostic(
                .syntax, at: first, keyPath: "",
                "duplicate key \(keys) in one map: each key may appear once (the later one would silently win)")
        default:
            return ScenarioDiagnostic(
                .syntax, at: SourceLocation(file: file, line: 1, column: 1), keyPath: "", "cannot parse YAML: \(error)")
        }
    }

    /// The next line below `first` that holds `key:` at the same column with only spaces before it.
    static func repeatedBlockKey(_ key: String, after first: SourceLocation, in text: String) -> SourceLocation? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard first.line >= 1, first.line < lines.count else { return nil }
        let indent = String(repeating: " ", count: max(0, first.column - 1))
        for index in first.line..<lines.count {
            let line = lines[index]
            if line.hasPrefix(indent + key + ":") {
                return SourceLocation(file: first.file, line: index + 1, column: first.column)
            }
            // Leaving the map: a line indented less than its keys (blank lines and comments do not count).
            let content = line.drop(while: { $0 == " " })
            if !content.isEmpty, !content.hasPrefix("#"), line.count - content.count < indent.count { return nil }
        }
        return nil
    }

    /// Line and column (1-based) of the `offset`-th Character of `text`.
    static func locationOf(characterOffset offset: Int, in text: String, file: String) -> SourceLocation {
        var line = 1, column = 1, seen = 0
        for character in text {
            if seen >= offset { break }
            if character == "\n" || character == "\r\n" {
                line += 1
                column = 1
            } else {
                column += character.unicodeScalars.count
            }
            seen += 1
        }
        return SourceLocation(file: file, line: line, column: column)
    }
}
