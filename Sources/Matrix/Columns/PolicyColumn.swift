import Foundation
import Policy
import Runner
import Scenario
import SMTPProtocol

/// One column of the matrix: the receiver every case is run against in that column.
public struct PolicyColumn: Sendable, Hashable {
    public enum Source: Sendable, Hashable {
        /// A preset of the scenario format (`fcrdns-strict`).
        case preset(Preset)
        /// A policy file (see `PolicyFile`), with the policy it holds.
        case file(path: String, policy: ReceiverPolicy)
        /// A receiver kind's own configuration file (`--postfix-config A.cf` with `--target postfix`,
        /// `ReceiverKind.configurationColumns`): it is the whole policy.
        case configuration(ReceiverConfigurationFile)
        /// How the receiver learns who the client is (`--identities`): each case keeps its own
        /// policy, the path changes (see `IdentityAxis`).
        case identity(IdentityPath)
        /// The sender's TLS level (`--tls`): each case keeps its receiver, `sender.tls` changes.
        case tls(TLSSecurityLevel)
    }

    /// The column's heading, unique in a matrix and the key of its cells in a baseline.
    public var name: String
    public var source: Source

    public init(name: String, source: Source) {
        self.name = name
        self.source = source
    }

    public static func preset(_ preset: Preset) -> PolicyColumn {
        PolicyColumn(name: preset.rawValue, source: .preset(preset))
    }

    /// The receiver policy of the column; nil for a configuration file, which decides.
    public var policy: ReceiverPolicy? {
        switch source {
        case .preset(let preset): preset.policy
        case .file(_, let policy): policy
        case .configuration, .identity, .tls: nil
        }
    }

    /// The case as this column runs it. A policy column replaces `receiver.policy` and drops the
    /// receiver's own settings that state a policy (`PartSettings.statesPolicy`: `receiver.postfix`
    /// is the case's own policy in Postfix's words; keeping it would mix the case's policy into
    /// every column). A configuration column runs the `open` policy with the file as the receiver's
    /// settings under its key, over the harness's defaults.
    public func applied(to scenario: ScenarioCase) -> ScenarioCase {
        var scenario = scenario
        switch source {
        case .preset, .file:
            scenario.receiver.policy = policy ?? .open
            scenario.receiver.settings = scenario.receiver.settings.filter { !$0.value.statesPolicy }
        case .configuration(let file):
            scenario.receiver.policy = .open
            scenario.receiver.settings[file.key] = file.settings
        case .identity(let path):
            scenario = IdentityAxis.applied(path, to: scenario)
        case .tls(let level):
            scenario = TLSAxis.applied(level, to: scenario)
        }
        return scenario
    }

    /// Whether this column's receiver is exactly the case's own: only there is the case's `expect`,
    /// written for its own receiver, judged.
    public func isOwnPolicy(of scenario: ScenarioCase) -> Bool {
        if case .identity(let path) = source { return path == scenario.sender.identity }
        if case .tls(let level) = source { return level == scenario.sender.tls }
        guard let policy else { return false }
        return policy == scenario.receiver.policy && !scenario.receiver.settings.values.contains { $0.statesPolicy }
    }

    /// One line for people: where the column comes from and what it checks.
    public var summary: String {
        switch source {
        case .preset(let preset): "preset \(preset.rawValue): \(Self.describe(preset.policy))"
        case .file(let path, let policy): "policy file \(path): \(Self.describe(policy))"
        case .configuration(let file): file.summary
        case .identity(let path): IdentityAxis.summary(of: path)
        case .tls(let level): TLSAxis.summary(of: level)
        }
    }

    /// `IPv4 and IPv6: fcrdns; failures 5xx at RCPT`.
    public static func describe(_ policy: ReceiverPolicy) -> String {
        func list(_ checks: [Check]) -> String { checks.isEmpty ? "none" : checks.map(\.name).joined(separator: ", ") }
        let checks: String
        if policy.ipv4 == policy.ipv6 {
            checks = policy.ipv4.isEmpty ? "no checks" : "IPv4 and IPv6: \(list(policy.ipv4))"
        } else {
            checks = "IPv4: \(list(policy.ipv4)); IPv6: \(list(policy.ipv6))"
        }
        if policy.ipv4.isEmpty && policy.ipv6.isEmpty { return checks }
        let answer = policy.onFail == .defer ? "failures deferred (4xx)" : "failures rejected (5xx)"
        let stage =
            switch policy.rejectAt {
            case .greeting: "the greeting"
            case .helo: "EHLO/HELO"
            case .mail: "MAIL FROM"
            case .rcpt: "RCPT"
            case .data: "end of DATA"
            }
        return "\(checks); \(answer) at \(stage)"
    }
}

/// A mistake in the matrix's arguments or files: what, where, and what to do.
public struct MatrixError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

extension PolicyColumn {
    /// The columns of `--policies P1,P2` and of the target's configuration files
    /// (`--postfix-config A.cf,B.cf`), in that order.
    ///
    /// Each policy is a preset name or the path of a policy file; configuration files need a
    /// target whose kind in `parts` reads them (`ReceiverKind.configurationColumns`).
    public static func columns(
        policies: [String], configurations: [String] = [], target: ReceiverTarget, parts: PartCatalog = PartCatalog()
    ) throws(MatrixError) -> [PolicyColumn] {
        var columns: [PolicyColumn] = []
        for entry in policies {
            let given = entry.trimmingCharacters(in: .whitespaces)
            guard !given.isEmpty else {
                throw MatrixError("--policies: an empty entry; give preset names or policy files separated by commas")
            }
            columns.append(try column(given))
        }
        let reader = parts.receivers[target]?.configurationColumns
        if !configurations.isEmpty {
            guard let reader else { throw notRead(target: target, parts: parts) }
            for entry in configurations {
                let path = entry.trimmingCharacters(in: .whitespaces)
                guard !path.isEmpty else {
                    throw MatrixError(
                        "\(reader.option): an empty entry; give \(reader.fileKind) files separated by commas")
                }
                let file: ReceiverConfigurationFile
                do { file = try reader.read(path) } catch { throw MatrixError(error.description) }
                columns.append(PolicyColumn(name: path, source: .configuration(file)))
            }
        }
        guard !columns.isEmpty else {
            throw MatrixError(
                "no columns: give --policies (presets such as fcrdns,fcrdns-strict or policy files)\(reader.map { " or \($0.option)" } ?? "")"
            )
        }
        var seen: [String: Int] = [:]
        for (index, column) in columns.enumerated() {
            if let first = seen[column.name] {
                throw MatrixError(
                    "two columns are named \"\(column.name)\" (entries \(first + 1) and \(index + 1)): give each policy once, or set `name:` in a policy file"
                )
            }
            seen[column.name] = index
        }
        return columns
    }

    /// Configuration files were given for `target`, whose kind reads none: which kinds do.
    static func notRead(target: ReceiverTarget, parts: PartCatalog) -> MatrixError {
        let readers = parts.receiverNames.compactMap { name in
            parts.receivers[name].flatMap { kind in kind.configurationColumns.map { (kind, $0) } }
        }
        guard let (kind, reader) = readers.first else {
            return MatrixError("receiver \(target) reads no configuration files, nor does any receiver in this build")
        }
        let names = readers.map(\.0.displayName).joined(separator: " or ")
        let targets = readers.map { "--target \($0.0.target.rawValue)" }.joined(separator: " or ")
        let verb = readers.count == 1 ? "reads" : "read"
        return MatrixError(
            "\(reader.option) columns are \(kind.displayName) \(reader.fileKind) files, which only \(names) \(verb): add \(targets)"
        )
    }

    /// A preset, or a policy file when the entry is not a preset name.
    static func column(_ entry: String) throws(MatrixError) -> PolicyColumn {
        if let preset = Preset(rawValue: entry) { return .preset(preset) }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: entry, isDirectory: &isDirectory), !isDirectory.boolValue else {
            let presets = Preset.allCases.map(\.rawValue)
            var message =
                "--policies: \"\(entry)\" is neither a preset (\(presets.joined(separator: ", "))) nor a policy file (no such file)"
            if let near = Suggest.nearest(entry, in: presets) { message += "; did you mean \(near)?" }
            throw MatrixError(message)
        }
        let file: PolicyFile
        do { file = try PolicyFile.load(path: entry) } catch { throw MatrixError(error.description) }
        return PolicyColumn(name: file.name, source: .file(path: entry, policy: file.policy))
    }
}

/// "did you mean" for a misspelt name.
enum Suggest {
    /// The closest of `names` to `word`, when it is close (one edit, or up to a third of the word).
    static func nearest(_ word: String, in names: [String]) -> String? {
        let scored = names.map { ($0, distance(Array(word.lowercased()), Array($0))) }
        guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
        return best.1 <= max(1, word.count / 3) ? best.0 : nil
    }

    /// Levenshtein distance.
    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
