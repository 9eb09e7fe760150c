import ArgumentParser
import Foundation

/// `--postfix-config`, `--postfix-config-dir` and `--fresh-postfix`: the Postfix receiver kind's own
/// command-line options, which the executable puts beside the kind's line of its catalog
/// (`receivers()` is that line's receiver kind).
public struct PostfixOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Your own main.cf as the base of every Postfix receiver (the harness overrides only paths, interfaces, hostname and logging).",
            valueName: "main.cf"))
    public var postfixConfig: String?

    @Option(
        help: ArgumentHelp(
            "A site's whole Postfix configuration directory (main.cf, master.cf, maps) as every Postfix receiver, checked before any case runs.",
            valueName: "DIR"))
    public var postfixConfigDir: String?

    @Flag(
        help:
            "Start a new Postfix for every case (by default cases with the same Postfix configuration share a running one)."
    )
    public var freshPostfix = false

    public init() {}

    public func validate() throws {
        if postfixConfig != nil, postfixConfigDir != nil {
            throw ValidationError(
                "give --postfix-config or --postfix-config-dir, not both (the directory's main.cf is the base)")
        }
    }

    /// The Postfix receivers these options ask for, the main.cf (or the site's folder) read and checked.
    public func receivers() throws -> PostfixReceivers {
        PostfixReceivers(
            base: try postfixConfig.map(Self.base(path:)), site: try postfixConfigDir.map(Self.site(path:)),
            sharing: !freshPostfix)
    }

    /// Reads a user's main.cf for `--postfix-config`; the error names the file and line.
    public static func base(path: String) throws -> MainCF {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ValidationError("\(path): cannot read the Postfix configuration: \(error.localizedDescription)")
        }
        do { return try MainCF.parse(text, source: path) } catch { throw ValidationError("\(error)") }
    }

    /// Reads a site's Postfix configuration directory for `--postfix-config-dir`.
    public static func site(path: String) throws -> PostfixSiteDirectory {
        let site = PostfixSiteDirectory.load(path: path)
        if let problem = site.problem { throw ValidationError("\(path): \(problem)") }
        return site
    }
}
