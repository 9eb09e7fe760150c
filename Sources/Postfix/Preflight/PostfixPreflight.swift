import DNSCore
import Foundation
import Logging
import Sandbox

/// Checks a Postfix configuration once, before any case runs on it: what the harness overrides,
/// every table or file it names that does not exist, settings that cannot work in a sealed world
/// (`ReferenceCheck`), and what `postfix check` and `postconf -n` say about the instance's copy.
///
/// The copy is written as a case's would be (the site's files, postmap, the harness's settings)
/// into a folder of its own, and the commands run in a private mount namespace where that copy
/// is /etc/postfix, as `ip netns exec` makes it for an instance. No Postfix is started.
public enum PostfixPreflight {
    public static func check(
        _ configuration: PostfixConfiguration, source: String,
        options: PostfixInstance.Options = PostfixInstance.Options(),
        logger: Logger = Logger(label: "mxharness.postfix-preflight")
    ) async -> PostfixPreflightReport {
        typealias Finding = PostfixPreflightReport.Finding
        let site = configuration.site
        let mainLocation: (String) -> String = { name in
            if let site { return site.location(of: name) }
            return configuration.base?.lines[name].map { "\(source):\($0)" } ?? source
        }
        let registry = ResourceRegistry.shared
        let folder: String
        do { folder = try registry.makeTemporaryDirectory("preflight") } catch {
            return PostfixPreflightReport(
                source: source,
                findings: [Finding(.error, at: source, "cannot make a folder for the preflight: \(error)")],
                overridden: [])
        }
        defer { registry.removeDirectory(folder) }
        let directory = folder + "/postfix"
        let paths = PostfixPaths(under: directory)
        // The receiver's addresses exist only in a case's namespace; here it listens on loopback
        // ("no local interface found for ..." otherwise), which changes nothing else.
        var local = configuration
        local.addresses = [IPAddress(literal: "127.0.0.1")]
        // The configuration as the site wrote it: a case's identity keys (`PostfixIdentity`) are the
        // harness's, and differ from case to case.
        local.identity = PostfixIdentity()
        let rendered: RenderedPostfixConfiguration
        do { rendered = try local.render(paths: paths) } catch {
            return PostfixPreflightReport(
                source: source, findings: [Finding(.error, at: source, "\(error)")], overridden: [])
        }
        let etc = folder + "/etc"
        let config = etc + "/postfix"
        let output = folder + "/preflight.out"
        var findings: [Finding] = []
        do {
            try PostfixInstance.prepareDirectories(
                paths: paths, directory: directory, delivery: configuration.delivery, options: options)
            try PostfixInstance.writeFiles(rendered, into: etc, options: options)
            try await PostfixInstance.compileTables(rendered, config: config, options: options, outputPath: output)
        } catch {
            findings.append(
                Finding(.error, at: source, "the configuration cannot be written for an instance: \(error)"))
            return PostfixPreflightReport(source: source, findings: findings, overridden: rendered.overridden)
        }
        let types = await availableTypes(config: config, options: options, output: folder + "/types.out")
        findings += ReferenceCheck(
            rendered: rendered, mainLocation: mainLocation, availableTypes: types,
            exists: { path in
                FileManager.default.fileExists(atPath: PostfixSiteDirectory.copyPath(of: path, config: config) ?? path)
            }
        ).findings()
        for (command, arguments) in [
            ("postfix check", [options.postfixPath, "check"]), ("postconf -n", [postconfPath(options), "-n"]),
        ] {
            let said = await runWithCopy(
                arguments, config: config, options: options, output: folder + "/\(command.filter(\.isLetter)).out")
            for line in said.split(separator: "\n") {
                let text = String(line).trimmingWhitespace()
                let fatal = text.contains("fatal:") || text.contains("panic:") || text.contains("error:")
                guard fatal || text.contains("warning:") else { continue }
                let message = text.replacingOccurrences(of: config, with: "/etc/postfix")
                findings.append(
                    Finding(
                        fatal ? .error : .warning,
                        at: location(in: message, main: mainLocation, rendered: rendered) ?? command, message))
            }
        }
        let hint =
            site == nil && findings.contains { $0.severity == .error && $0.message.contains("/etc/postfix/") }
            ? "--postfix-config copies main.cf alone: give the folder with its tables and files with --postfix-config-dir"
            : nil
        return PostfixPreflightReport(
            source: source, findings: unique(findings), overridden: rendered.overridden, hint: hint)
    }

    /// The main.cf line of the parameter a Postfix message names (`unused parameter: NAME=...`).
    static func location(in message: String, main: (String) -> String, rendered: RenderedPostfixConfiguration)
        -> String?
    {
        for name in rendered.parameters.names
        where message.contains(" \(name)=") || message.contains(": \(name)") || message.contains("\"\(name)\"") {
            return main(name)
        }
        return nil
    }

    static func unique(_ findings: [PostfixPreflightReport.Finding]) -> [PostfixPreflightReport.Finding] {
        var seen: Set<String> = []
        return findings.filter { seen.insert($0.description).inserted }
    }

    static func postconfPath(_ options: PostfixInstance.Options) -> String {
        (options.postfixPath as NSString).deletingLastPathComponent + "/postconf"
    }

    /// `postconf -m` of the copy (dynamicmaps.cf says which plug-ins are installed).
    static func availableTypes(config: String, options: PostfixInstance.Options, output: String) async -> Set<String>? {
        let status = await PostfixInstance.run(
            postconfPath(options), ["-c", config, "-m"], outputPath: output, timeout: options.startTimeout)
        guard status == 0, let text = try? String(contentsOfFile: output, encoding: .utf8) else { return nil }
        return Set(
            text.split(separator: "\n").map { String($0).trimmingWhitespace() }.filter {
                !$0.isEmpty && !$0.contains(" ")
            })
    }

    /// Runs a Postfix command with `config` bind-mounted over /etc/postfix in a mount namespace of
    /// its own (unshare(1)), under script(1) when there is one: postfix(1) prints its errors only
    /// to a terminal. Returns what it printed.
    static func runWithCopy(_ arguments: [String], config: String, options: PostfixInstance.Options, output: String)
        async -> String
    {
        let quoted = ([config] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let inner =
            "unshare -m --propagation private sh -c 'mount --bind \"$0\" /etc/postfix && exec \"$@\"' "
            + quoted.joined(separator: " ")
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/script") {
            _ = await PostfixInstance.run(
                "/usr/bin/script", ["-qec", inner, "/dev/null"], outputPath: output, timeout: options.startTimeout)
        } else {
            _ = await PostfixInstance.run("/bin/sh", ["-c", inner], outputPath: output, timeout: options.startTimeout)
        }
        return ((try? String(contentsOfFile: output, encoding: .utf8)) ?? "").replacingOccurrences(of: "\r", with: "")
    }
}
