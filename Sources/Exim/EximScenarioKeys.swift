import Foundation
import Scenario

// Exim's names and keys in the scenario format: `target: exim`, `mta: exim`, `receiver.exim`
// and `sender.exim`, read, defaulted and explained here (the loader knows them from the kinds'
// `scenarioKeys`).

extension ReceiverTarget {
    /// A real Exim as the receiver (`EximReceivers`).
    public static let exim = ReceiverTarget(named: "exim")
}

extension SenderMTA {
    /// A real Exim as the sender (`EximSenders`).
    public static let exim = SenderMTA(named: "exim")
}

/// `receiver.exim`: a site's own Exim settings, added to the configuration the harness writes
/// for `target: exim` the way `receiver.postfix` adds main.cf settings.
public struct EximSiteSettings: PartSettings, Hashable {
    /// Main-section options (`name = value`), after the harness defaults and before what the
    /// harness owns (listening addresses, spool, log).
    public var main: [String: String]
    /// ACL statements by ACL (`connect`, `helo`, `mail`, `rcpt`, `data`), placed before the
    /// statements of the policy in that ACL.
    public var acls: [EximACLName: String]

    public init(main: [String: String] = [:], acls: [EximACLName: String] = [:]) {
        self.main = main
        self.acls = acls
    }

    public var isEmpty: Bool { main.isEmpty && acls.isEmpty }

    public var explained: ExplainedValue? {
        guard !isEmpty else { return nil }
        var entries: [ExplainedEntry] = []
        if !main.isEmpty {
            entries.append(
                ExplainedEntry("main", .blockMap(main.keys.sorted().map { ExplainedEntry($0, .plain(main[$0] ?? "")) }))
            )
        }
        for name in acls.keys.sorted() { entries.append(ExplainedEntry(name.key, .plain(acls[name] ?? ""))) }
        return .blockMap(entries)
    }

    /// The key `receiver.exim`.
    public static let scenarioKey = ScenarioKey(.receiver, "exim") { decode($0) }

    /// `exim: {main: {OPTION: VALUE}, acl_rcpt: STATEMENTS, ...}`.
    static func decode(_ value: ScenarioValue) -> EximSiteSettings? {
        let keys = (["main"] + EximACLName.allCases.map(\.key)).joined(separator: ", ")
        guard let map = value.map(what: "Exim settings (\(keys))") else { return nil }
        var failed = false
        var main: [String: String] = [:]
        if let section = map.optional("main") {
            if let entries = section.stringMap(what: "Exim main-section options (a map of strings)") {
                for entry in entries {
                    if !isOptionName(entry.name) {
                        section.invalid(
                            "\"\(entry.name)\" is not an Exim option name (lower-case letters, digits and _)",
                            under: entry.name)
                        failed = true
                    } else if entry.value.contains("\n") {
                        section.invalid("an Exim option value must be one line", under: entry.name)
                        failed = true
                    } else {
                        main[entry.name] = entry.value
                    }
                }
            } else {
                failed = true
            }
        }
        var acls: [EximACLName: String] = [:]
        for name in EximACLName.allCases {
            guard let item = map.optional(name.key) else { continue }
            guard let text = item.nonEmptyString(what: "Exim ACL statements") else {
                failed = true
                continue
            }
            // A `begin` line would end the ACL section and start another one of the file.
            if let line = text.split(separator: "\n").first(where: {
                $0.trimmingCharacters(in: .whitespaces).hasPrefix("begin ")
            }) {
                item.invalid(
                    "\"\(line.trimmingCharacters(in: .whitespaces))\": ACL statements cannot start a new section of the configuration"
                )
                failed = true
                continue
            }
            acls[name] = text
        }
        map.finish()
        return failed ? nil : EximSiteSettings(main: main, acls: acls)
    }

    static func isOptionName(_ name: String) -> Bool {
        !name.isEmpty && name.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "_" }
    }
}

/// The ACLs `receiver.exim` can add statements to (Exim's `acl_smtp_*` options).
public enum EximACLName: String, Sendable, Hashable, CaseIterable, Comparable {
    case connect, helo, mail, rcpt, data

    public static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// The format's key: `acl_rcpt`.
    public var key: String { "acl_" + rawValue }
}

/// `sender.exim`: Exim smtp transport options, as written.
public struct EximTransportOptions: PartSettings, Hashable {
    public var options: [String: String]

    public init(_ options: [String: String] = [:]) {
        self.options = options
    }

    public var explained: ExplainedValue? {
        guard !options.isEmpty else { return nil }
        return .blockMap(options.keys.sorted().map { ExplainedEntry($0, .plain(options[$0] ?? "")) })
    }

    /// The key `sender.exim`.
    public static let scenarioKey = ScenarioKey(.sender, "exim") { value in
        value.settingsMap(what: "Exim transport options").map(EximTransportOptions.init)
    }
}

extension ReceiverSpec {
    /// `receiver.exim`; empty when the scenario does not set it.
    public var exim: EximSiteSettings {
        get { settings("exim") ?? EximSiteSettings() }
        set { settings["exim"] = newValue }
    }
}

extension SenderSpec {
    /// `sender.exim`; empty when the scenario does not set it.
    public var exim: [String: String] {
        get { settings("exim", as: EximTransportOptions.self)?.options ?? [:] }
        set { settings["exim"] = EximTransportOptions(newValue) }
    }
}
