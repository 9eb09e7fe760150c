import Foundation
import PackagePlugin

/// Records the commit the executable is built from (`mxharness --version`): before every build,
/// scripts/build-info writes BuildInfo.swift into the plugin's work folder, from which it is
/// compiled with the target. A prebuild command runs whatever is being built, so a plain
/// `swift build` or `swift build -c release` in a git clone needs nothing else; outside a clone
/// the file says there is no commit.
@main
struct BuildInfoPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("BuildInfo")
        let script = context.package.directoryURL.appendingPathComponent("scripts/build-info")
        return [
            .prebuildCommand(
                displayName: "Recording the commit \(target.name) is built from",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: [script.path, context.package.directoryURL.path, output.path],
                environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"],
                outputFilesDirectory: output)
        ]
    }
}
