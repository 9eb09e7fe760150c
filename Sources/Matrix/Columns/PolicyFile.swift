import Foundation
import Policy
import Scenario
import Yams

/// A receiver policy kept in a file of its own, to be a column of the matrix:
///
/// ```yaml
/// name: ours               # optional: the column's heading (default: the file name without extension)
/// description: our MX      # optional
/// policy:                  # required: a preset name, or a map as `receiver.policy` in a scenario
///   ipv6: [fcrdns, spf]
///   ipv4: [fcrdns]
///   reject_at: rcpt
///   on_fail: reject
/// ```
///
/// `policy` reads exactly as `receiver.policy` of the scenario format ("Policies"): `checks` for
/// both families, `ipv4`/`ipv6` replacing their family's list, `reject_at`, `on_fail`. Unknown keys
/// are errors with file, line and column, as in scenarios.
public struct PolicyFile: Sendable, Hashable {
    public var name: String
    public var description: String?
    public var policy: ReceiverPolicy

    public init(name: String, description: String? = nil, policy: ReceiverPolicy) {
        self.name = name
        self.description = description
        self.policy = policy
    }

    public static func load(path: String) throws(PolicyFileError) -> PolicyFile {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw PolicyFileError([
                ScenarioDiagnostic(
                    .unreadable, at: SourceLocation(file: path, line: 1, column: 1), keyPath: "",
                    "cannot read this policy file (\(error.localizedDescription)): give a readable UTF-8 YAML file")
            ])
        }
        return try parse(text, file: path)
    }

    /// The policy file held in `text`, as if read from `file`.
    public static func parse(_ text: String, file: String) throws(PolicyFileError) -> PolicyFile {
        let decoder = PolicyFileDecoder(file: file)
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            throw PolicyFileError([decoder.syntax(error)])
        }
        let defaultName = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
        guard let root else {
            throw PolicyFileError([
                decoder.diagnostic(
                    .missingKey, nil, "", "the file is empty: it needs `policy:` (a preset name or a map of checks)")
            ])
        }
        let result = decoder.file(root, defaultName: defaultName)
        guard decoder.diagnostics.isEmpty, let result else { throw PolicyFileError(decoder.diagnostics) }
        return result
    }
}

/// Every problem found in one policy file, each `file:line:col: key: what`.
public struct PolicyFileError: Error, Sendable, Hashable, CustomStringConvertible {
    public var diagnostics: [ScenarioDiagnostic]

    public init(_ diagnostics: [ScenarioDiagnostic]) {
        self.diagnostics = diagnostics
    }

    public var description: String {
        let count = diagnostics.count == 1 ? "1 error" : "\(diagnostics.count) errors"
        return diagnostics.map(\.description).joined(separator: "\n")
            + "\n\(count) in the policy file; fix it and run again"
    }
}

/// Reads a policy file's YAML, collecting every problem (it does not stop at the first).
private final class PolicyFileDecoder {
    let file: String
    private(set) var diagnostics: [ScenarioDiagnostic] = []

    init(file: String) {
        self.file = file
    }

    func location(_ node: Node?) -> SourceLocation {
        SourceLocation(file: file, line: node?.mark?.line ?? 1, column: node?.mark?.column ?? 1)
    }

    func diagnostic(_ code: ScenarioDiagnostic.Code, _ node: Node?, _ path: String, _ message: String)
        -> ScenarioDiagnostic
    {
        ScenarioDiagnostic(code, at: location(node), keyPath: path, message)
    }

    func add(_ code: ScenarioDiagnostic.Code, _ node: Node?, _ path: String, _ message: String) {
        diagnostics.append(diagnostic(code, node, path, message))
    }

    func syntax(_ error: any Error) -> ScenarioDiagnostic {
        if let error = error as? YamlError {
            switch error {
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
                .composer(_, let problem, let mark, _):
                return ScenarioDiagnostic(
                    .syntax, at: SourceLocation(file: file, line: mark.line, column: mark.column), keyPath: "",
                    "YAML syntax: \(problem)")
            case .duplicatedKeysInMapping(let duplicates, let context):
                return ScenarioDiagnostic(
                    .syntax, at: SourceLocation(file: file, line: context.mark.line, column: context.mark.column),
                    keyPath: "",
                    "a key is given twice: \(duplicates.joined(separator: ", "))")
            default: break
            }
        }
        return ScenarioDiagnostic(
            .syntax, at: SourceLocation(file: file, line: 1, column: 1), keyPath: "", "YAML syntax: \(error)")
    }

    static func kind(_ node: Node) -> String {
        switch node {
        case .scalar: "a string"
        case .mapping: "a map"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// The entries of a map, or nil after reporting what it is instead. Keys must be strings.
    func entries(_ node: Node, _ path: String, what: String) -> [(key: String, keyNode: Node, value: Node)]? {
        guard case .mapping(let mapping) = node else {
            add(.wrongType, node, path, "expected \(what) (a map of keys), found \(Self.kind(node))")
            return nil
        }
        var out: [(key: String, keyNode: Node, value: Node)] = []
        for (key, value) in mapping {
            guard case .scalar(let scalar) = key else {
                add(.wrongType, key, path, "a key must be a string, found \(Self.kind(key))")
                continue
            }
            out.append((scalar.string, key, value))
        }
        return out
    }

    func unknownKeys(_ entries: [(key: String, keyNode: Node, value: Node)], known: [String], _ path: String) {
        for entry in entries where !known.contains(entry.key) {
            let at = path.isEmpty ? entry.key : "\(path).\(entry.key)"
            var message = "unknown key \"\(entry.key)\" (known here: \(known.joined(separator: ", ")))"
            if let near = Suggest.nearest(entry.key, in: known) { message += "; did you mean \(near)?" }
            add(.unknownKey, entry.keyNode, at, message)
        }
    }

    func string(_ node: Node, _ path: String, what: String) -> String? {
        guard case .scalar(let scalar) = node else {
            add(.wrongType, node, path, "expected \(what), found \(Self.kind(node))")
            return nil
        }
        return scalar.string
    }

    func file(_ root: Node, defaultName: String) -> PolicyFile? {
        guard let top = entries(root, "", what: "a policy file ({policy: ...})") else { return nil }
        unknownKeys(top, known: ["name", "description", "policy"], "")
        func value(_ key: String) -> Node? {
            top.first { $0.key == key }.map(\.value).flatMap { Self.isNull($0) ? nil : $0 }
        }
        var name = defaultName
        if let node = value("name"), let text = string(node, "name", what: "the column's name") {
            if text.trimmingCharacters(in: .whitespaces).isEmpty || text.contains(",") || text.contains("\n") {
                add(.invalidValue, node, "name", "a column name must be one line, not empty, without commas")
            } else {
                name = text
            }
        }
        let description = value("description").flatMap { string($0, "description", what: "a description") }
        guard let policyNode = value("policy") else {
            add(
                .missingKey, root, "",
                "missing key \"policy\": a preset name (\(Preset.allCases.map(\.rawValue).joined(separator: ", "))) or a map such as {ipv6: [fcrdns], ipv4: [ptr], on_fail: reject}"
            )
            return nil
        }
        guard let policy = policy(policyNode, "policy") else { return nil }
        return PolicyFile(
            name: name, description: description?.trimmingCharacters(in: .whitespacesAndNewlines), policy: policy)
    }

    /// `receiver.policy` of the scenario format: a preset name or the map form.
    func policy(_ node: Node, _ path: String) -> ReceiverPolicy? {
        let presets = Preset.allCases.map(\.rawValue)
        if case .scalar(let scalar) = node {
            if let preset = Preset(rawValue: scalar.string) { return preset.policy }
            var message = "unknown preset \"\(scalar.string)\" (known: \(presets.joined(separator: ", ")))"
            if let near = Suggest.nearest(scalar.string, in: presets) { message += "; did you mean \(near)?" }
            add(.invalidValue, node, path, message)
            return nil
        }
        guard let map = entries(node, path, what: "a preset name (\(presets.joined(separator: ", "))) or a policy map")
        else { return nil }
        unknownKeys(map, known: ["checks", "ipv4", "ipv6", "reject_at", "on_fail"], path)
        func value(_ key: String) -> Node? {
            map.first { $0.key == key }.map(\.value).flatMap { Self.isNull($0) ? nil : $0 }
        }
        let before = diagnostics.count
        let both = value("checks").flatMap { checks($0, "\(path).checks") }
        let ipv4 = value("ipv4").flatMap { checks($0, "\(path).ipv4") }
        let ipv6 = value("ipv6").flatMap { checks($0, "\(path).ipv6") }
        var rejectAt = RejectStage.rcpt
        let stages = RejectStage.allCases.map(\.rawValue).joined(separator: ", ")
        let rejectAtNode = value("reject_at")
        if let node = rejectAtNode, let text = string(node, "\(path).reject_at", what: stages) {
            if let stage = RejectStage(rawValue: text) {
                rejectAt = stage
            } else {
                add(.invalidValue, node, "\(path).reject_at", "unknown reject stage \"\(text)\" (known: \(stages))")
            }
        }
        var onFail = FailureMode.reject
        if let node = value("on_fail"), let text = string(node, "\(path).on_fail", what: "reject or defer") {
            if let mode = FailureMode(rawValue: text) {
                onFail = mode
            } else {
                add(.invalidValue, node, "\(path).on_fail", "unknown failure mode \"\(text)\" (known: reject, defer)")
            }
        }
        guard diagnostics.count == before else { return nil }
        let common = both ?? []
        let policy = ReceiverPolicy(ipv4: ipv4 ?? common, ipv6: ipv6 ?? common, rejectAt: rejectAt, onFail: onFail)
        // As the scenario loader: a check the stage cannot answer (the greeting knows only the
        // client address, HELO comes before the envelope sender).
        if let node = rejectAtNode, let late = (policy.ipv4 + policy.ipv6).first(where: { !rejectAt.canAnswer($0) }) {
            add(
                .invalidValue, node, "\(path).reject_at",
                "reject_at: \(rejectAt.rawValue) cannot answer check \(late.name) (what it needs comes later in the session)"
            )
            return nil
        }
        return policy
    }

    func checks(_ node: Node, _ path: String) -> [Check]? {
        guard case .sequence(let sequence) = node else {
            add(.wrongType, node, path, "expected a list of checks such as [fcrdns, spf], found \(Self.kind(node))")
            return nil
        }
        var out: [Check] = []
        var failed = false
        for (index, item) in sequence.enumerated() {
            let itemPath = "\(path)[\(index)]"
            guard let name = string(item, itemPath, what: "a check name") else {
                failed = true
                continue
            }
            if let check = Check(name: name) {
                out.append(check)
            } else if name.hasPrefix("dnsbl:") {
                add(
                    .invalidValue, item, itemPath,
                    "dnsbl zone \"\(name.dropFirst(6))\" is not a valid domain name (dnsbl:ZONE, such as dnsbl:bl.example.test)"
                )
                failed = true
            } else {
                var message = "unknown check \"\(name)\" (known: \(Check.allNames.joined(separator: ", ")))"
                if let near = Suggest.nearest(name, in: Check.allNames) { message += "; did you mean \(near)?" }
                add(.invalidValue, item, itemPath, message)
                failed = true
            }
        }
        return failed ? nil : out
    }
}
