import Foundation

/// `sender.postfix` and `sender.exim`: maps of MTA settings, kept as written.
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

    /// Checks `sender.postfix` against what the built-in model honours: the values of the keys it
    /// models always, and, when the sender is the built-in model, that every key is one of them.
    func checkPostfixSettings(_ tree: Tree, _ path: KeyPath, _ settings: [String: String], mta: SenderMTA?) -> Bool {
        var ok = true
        for entry in tree.entries ?? [] {
            let key = entry.key.trimmingCharacters(in: .whitespaces)
            guard let value = settings[key] else { continue }
            if let problem = ModelledPostfixSettings.problem(key: key, value: value) {
                diagnostics.add(.invalidValue, at: entry.value.location, path.key(key), problem)
                ok = false
            } else if !ModelledPostfixSettings.keys.contains(key), (mta ?? .builtin) == .builtin {
                var message =
                    "the built-in sender does not model \"\(key)\" (it models \(ModelledPostfixSettings.keys.joined(separator: ", "))); "
                    + "set sender.mta: postfix to give it to a real Postfix"
                if let guess = Suggest.closest(to: key, in: ModelledPostfixSettings.keys) {
                    message += "; did you mean \"\(guess)\"?"
                }
                diagnostics.add(.unknownKey, at: entry.keyLocation, path.key(key), message)
                ok = false
            }
        }
        return ok
    }
}

/// The `sender.postfix` settings the built-in delivery model honours, read from their main.cf text.
public struct ModelledPostfixSettings: Sendable, Hashable {
    public static let keys = [
        "smtp_address_preference", "smtp_mx_address_limit", "smtp_mx_session_limit", "smtp_skip_5xx_greeting",
    ]

    /// `smtp_mx_session_limit`, nil when not set.
    public var sessionLimit: Int?
    /// `smtp_mx_address_limit`, nil when not set.
    public var addressLimit: Int?
    /// `smtp_skip_5xx_greeting`, nil when not set.
    public var skip5xxGreeting: Bool?
    /// `smtp_address_preference` (`ipv6`, `ipv4` or `any`), nil when not set.
    public var addressPreference: String?

    public init(_ settings: [String: String]) {
        sessionLimit = settings["smtp_mx_session_limit"].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        addressLimit = settings["smtp_mx_address_limit"].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        skip5xxGreeting = settings["smtp_skip_5xx_greeting"].flatMap { Self.boolean($0) }
        addressPreference = settings["smtp_address_preference"].map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
    }

    /// What is wrong with a modelled key's value, nil when it is fine (or the key is not modelled).
    static func problem(key: String, value: String) -> String? {
        let text = value.trimmingCharacters(in: .whitespaces)
        switch key {
        case "smtp_mx_session_limit", "smtp_mx_address_limit":
            guard let number = Int(text), number >= 0 else {
                return "\(key) is a whole number, 0 or more (0: no limit), not \"\(Tree.clip(value))\""
            }
            return nil
        case "smtp_skip_5xx_greeting":
            return boolean(text) == nil ? "\(key) is yes or no, not \"\(Tree.clip(value))\"" : nil
        case "smtp_address_preference":
            return ["ipv6", "ipv4", "any"].contains(text.lowercased())
                ? nil : "\(key) is ipv6, ipv4 or any, not \"\(Tree.clip(value))\""
        default:
            return nil
        }
    }

    /// Postfix's booleans: yes/no (also true/false).
    static func boolean(_ text: String) -> Bool? {
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "yes", "true": true
        case "no", "false": false
        default: nil
        }
    }
}
