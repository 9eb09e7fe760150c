import Foundation

/// Maps of MTA settings under a kind's key (`sender.exim`), kept as written.
extension CaseDecoder {
    /// A map of setting names to string values (numbers and yes/no are taken as written).
    func settingsMap(_ tree: Tree, _ path: KeyPath, what: String) -> [String: String]? {
        guard let entries = tree.entries else {
            diagnostics.add(
                .wrongType, at: tree.location, path,
                "expected \(what) (a map of names to values), found \(tree.kindName)")
            return nil
        }
        var out: [String: String] = [:]
        var failed = false
        for entry in entries {
            let key = entry.key.trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                diagnostics.add(
                    .invalidValue, at: entry.keyLocation, path.key(Tree.clip(entry.key)),
                    "\"\(Tree.clip(entry.key))\" is not a setting name (letters, digits and _)")
                failed = true
                continue
            }
            guard
                let value = Reader(diagnostics: diagnostics).string(
                    entry.value, path.key(key), what: "a setting value (a string, number or yes/no)")
            else {
                failed = true
                continue
            }
            guard !value.contains("\n") else {
                diagnostics.add(.invalidValue, at: entry.value.location, path.key(key), "a setting value is one line")
                failed = true
                continue
            }
            out[key] = value
        }
        return failed ? nil : out
    }
}
