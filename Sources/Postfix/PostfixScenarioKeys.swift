import Foundation
import Scenario

// The Postfix receiver's own keys in the scenario format, `receiver.postfix` and
// `receiver.postfix_dir`, read, defaulted and explained here (the loader knows them from
// `PostfixReceivers.scenarioKeys`).

/// `receiver.postfix`: main.cf settings added for `target: postfix`, on top of the policy's own.
public struct PostfixSiteSettings: PartSettings, Hashable {
    public var parameters: [String: String]

    public init(_ parameters: [String: String] = [:]) {
        self.parameters = parameters
    }

    /// main.cf settings are the case's policy in Postfix's words (an empty map says nothing).
    public var statesPolicy: Bool { !parameters.isEmpty }

    public var explained: ExplainedValue? {
        guard !parameters.isEmpty else { return nil }
        return .blockMap(parameters.keys.sorted().map { ExplainedEntry($0, .plain(parameters[$0] ?? "")) })
    }

    /// The key `receiver.postfix`: a map of scalars, as written (a later duplicate wins).
    public static let scenarioKey = ScenarioKey(.receiver, "postfix") { value in
        value.stringMap(what: "main.cf settings (a map of strings)").map { entries in
            PostfixSiteSettings(Dictionary(entries.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 }))
        }
    }
}

/// `receiver.postfix_dir`: a site's whole Postfix configuration directory for `target: postfix`,
/// as an absolute path (written relative to the file that names it).
public struct PostfixDirectorySetting: PartSettings, Hashable {
    public var path: String

    public init(path: String) {
        self.path = path
    }

    public var explained: ExplainedValue? { .plain(path) }

    /// The key `receiver.postfix_dir`: a folder holding at least main.cf.
    public static let scenarioKey = ScenarioKey(.receiver, "postfix_dir") { decode($0) }

    static func decode(_ value: ScenarioValue) -> PostfixDirectorySetting? {
        guard let text = value.nonEmptyString(what: "a Postfix configuration directory (relative to this file)")
        else { return nil }
        let base = (value.location.file as NSString).deletingLastPathComponent
        let absolute = ((text.hasPrefix("/") ? text : (base.isEmpty ? "." : base) + "/" + text) as NSString)
            .standardizingPath
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: absolute, isDirectory: &isDirectory), isDirectory.boolValue else {
            value.invalid(
                "\(text) (\(absolute)) is not a directory: give the folder holding the site's main.cf and master.cf")
            return nil
        }
        guard FileManager.default.fileExists(atPath: absolute + "/main.cf") else {
            value.invalid("\(absolute) has no main.cf: give the folder holding the site's main.cf and master.cf")
            return nil
        }
        return PostfixDirectorySetting(path: absolute)
    }
}

extension ReceiverSpec {
    /// `receiver.postfix`; empty when the scenario does not set it.
    public var postfix: [String: String] {
        get { settings("postfix", as: PostfixSiteSettings.self)?.parameters ?? [:] }
        set { settings["postfix"] = newValue.isEmpty ? nil : PostfixSiteSettings(newValue) }
    }

    /// `receiver.postfix_dir`; nil when the scenario does not set it.
    public var postfixDirectory: String? {
        get { settings("postfix_dir", as: PostfixDirectorySetting.self)?.path }
        set { settings["postfix_dir"] = newValue.map(PostfixDirectorySetting.init(path:)) }
    }
}

extension SenderSpec {
    /// `sender.postfix`, main.cf settings a Postfix sender gets as written; empty when not set.
    /// The delivery model owns the key (it models Postfix's SMTP client and checks the settings it
    /// honours); the value is a `SettingsMap` under the key's name.
    public var postfix: [String: String] {
        get { settings("postfix", as: SettingsMap.self)?.values ?? [:] }
        set { settings["postfix"] = newValue.isEmpty ? nil : SettingsMap(newValue) }
    }
}
