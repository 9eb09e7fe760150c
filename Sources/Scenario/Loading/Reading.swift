import DNSCore
import Foundation

/// Collects the diagnostics of one load, dropping exact repeats (a bad value in a scenario shared by
/// several variants, or in a profile several scenarios include, is reported once).
final class Diagnostics {
    private(set) var items: [ScenarioDiagnostic] = []
    private var seen = Set<ScenarioDiagnostic>()

    func add(_ diagnostic: ScenarioDiagnostic) {
        if seen.insert(diagnostic).inserted { items.append(diagnostic) }
    }

    func add(_ code: ScenarioDiagnostic.Code, at location: SourceLocation, _ path: KeyPath, _ message: String) {
        add(ScenarioDiagnostic(code, at: location, keyPath: path.description, message))
    }

    var count: Int { items.count }
}

/// `receiver.policy.ipv6[1]`.
struct KeyPath: CustomStringConvertible {
    var description: String

    static let root = KeyPath(description: "")

    func key(_ name: String) -> KeyPath {
        KeyPath(description: description.isEmpty ? name : "\(description).\(name)")
    }

    func index(_ index: Int) -> KeyPath {
        KeyPath(description: "\(description)[\(index)]")
    }
}

/// Reads one map of the format. Every key a reader asks for is a known key; `finish()` reports the
/// rest as unknown, so adding a key to the format is the one line that reads it.
final class MapReader {
    let tree: Tree
    let path: KeyPath
    let diagnostics: Diagnostics
    private let entries: [Tree.Entry]
    private var known: [String] = []

    /// nil (with a wrong-type diagnostic) when `tree` is not a map.
    init?(_ tree: Tree, _ path: KeyPath, _ diagnostics: Diagnostics, what: String) {
        guard let entries = tree.entries else {
            diagnostics.add(
                .wrongType, at: tree.location, path, "expected \(what) (a map of keys), found \(tree.kindName)")
            return nil
        }
        self.tree = tree
        self.path = path
        self.diagnostics = diagnostics
        self.entries = entries
    }

    /// The value of `key`, or nil when it is absent or null (`~`: null clears an inherited value).
    func optional(_ key: String) -> Tree? {
        known.append(key)
        guard let value = entries.first(where: { $0.key == key })?.value, !value.isNull else { return nil }
        return value
    }

    /// The value of `key`, or nil with a missing-key diagnostic at this map.
    func required(_ key: String, _ hint: String) -> Tree? {
        guard let value = optional(key) else {
            let present = entries.first(where: { $0.key == key })
            diagnostics.add(
                .missingKey, at: present?.value.location ?? tree.location, path.key(key),
                present == nil ? "required key is missing: \(hint)" : "required, but has no value: \(hint)")
            return nil
        }
        return value
    }

    /// Marks keys as known without reading them (handled elsewhere, such as `include`).
    func accept(_ keys: String...) {
        known += keys
    }

    func finish() {
        for entry in entries where !known.contains(entry.key) {
            var message = "unknown key \"\(Tree.clip(entry.key))\" (known here: \(known.joined(separator: ", ")))"
            if let guess = Suggest.closest(to: entry.key, in: known) { message += "; did you mean \"\(guess)\"?" }
            diagnostics.add(.unknownKey, at: entry.keyLocation, path.key(Tree.clip(entry.key)), message)
        }
    }
}

/// Scalar and list readers shared by the model decoders; each reports what is wrong and returns nil.
struct Reader {
    let diagnostics: Diagnostics

    func string(_ tree: Tree, _ path: KeyPath, what: String = "a string") -> String? {
        guard case .scalar(let text, false, _) = tree.value else {
            diagnostics.add(.wrongType, at: tree.location, path, "expected \(what), found \(tree.kindName)")
            return nil
        }
        return text
    }

    func nonEmptyString(_ tree: Tree, _ path: KeyPath, what: String) -> String? {
        guard let text = string(tree, path, what: what) else { return nil }
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty else {
            diagnostics.add(.invalidValue, at: tree.location, path, "expected \(what), found an empty string")
            return nil
        }
        return text
    }

    func list(_ tree: Tree, _ path: KeyPath, what: String) -> [Tree]? {
        guard case .list(let items) = tree.value else {
            diagnostics.add(.wrongType, at: tree.location, path, "expected \(what), found \(tree.kindName)")
            return nil
        }
        return items
    }

    /// A list whose items all read; nil if any does not (each failure is reported).
    func list<T>(_ tree: Tree, _ path: KeyPath, what: String, item: (Tree, KeyPath) -> T?) -> [T]? {
        guard let items = list(tree, path, what: what) else { return nil }
        var out: [T] = []
        var failed = false
        for (index, child) in items.enumerated() {
            if let value = item(child, path.index(index)) { out.append(value) } else { failed = true }
        }
        return failed ? nil : out
    }

    /// One of the raw values of `T`; the message names them all.
    func choice<T: RawRepresentable & CaseIterable>(
        _ tree: Tree, _ path: KeyPath, _ what: String, _ type: T.Type = T.self
    ) -> T? where T.RawValue == String {
        let names = T.allCases.map(\.rawValue)
        guard let text = string(tree, path, what: "\(what): \(names.joined(separator: ", "))") else { return nil }
        if let value = T(rawValue: text) { return value }
        diagnostics.add(.invalidValue, at: tree.location, path, Suggest.unknown(what, text, names))
        return nil
    }

    func address(_ tree: Tree, _ path: KeyPath, family: AddressFamily? = nil) -> IPAddress? {
        guard let text = string(tree, path, what: "an IP address") else { return nil }
        guard let address = IPAddress(text.trimmingCharacters(in: .whitespaces)) else {
            var message =
                "\"\(Tree.clip(text))\" is not an IP address (IPv4 dotted quad such as 192.0.2.10, or IPv6 such as 2001:db8::10)"
            if text.hasPrefix("[") || text.contains("/") {
                message += "; write the address alone, without brackets or prefix length"
            }
            diagnostics.add(.invalidValue, at: tree.location, path, message)
            return nil
        }
        if let family, address.family != family {
            diagnostics.add(
                .invalidValue, at: tree.location, path,
                "\(address) is an \(address.family == .ipv4 ? "IPv4" : "IPv6") address, but this key is for \(family == .ipv4 ? "IPv4" : "IPv6")"
            )
            return nil
        }
        return address
    }
}

/// "Did you mean" for misspelt keys and names.
enum Suggest {
    static func unknown(_ what: String, _ text: String, _ names: [String]) -> String {
        var message = "unknown \(what) \"\(Tree.clip(text))\" (known: \(names.joined(separator: ", ")))"
        if let guess = closest(to: text, in: names) { message += "; did you mean \"\(guess)\"?" }
        return message
    }

    /// The name within edit distance 2 (or a third of the length) of `text`, if one is that close.
    static func closest(to text: String, in names: [String]) -> String? {
        guard text.count <= 64 else { return nil }
        let limit = max(2, min(3, text.count / 3))
        let scored = names.map { ($0, distance(text.lowercased(), $0.lowercased())) }.filter { $0.1 <= limit }
        return scored.min { $0.1 < $1.1 }?.0
    }

    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + [Int](repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
