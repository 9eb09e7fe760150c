import Foundation

/// Where the commands that take scenario paths (`run`, `parity`, `matrix`, `validate`, `list`) look
/// when given none: `./Scenarios` when the current folder has one (a clone of the repository),
/// else the library installed with the executable, `share/mxharness/Scenarios` beside the folder
/// the executable is in (`/usr/share/mxharness/Scenarios` for the Debian package's
/// `/usr/bin/mxharness`).
public enum ScenarioLibrary {
    /// The bundled library's place for an executable at `executable` (symbolic links resolved).
    public static func installed(executable: String) -> String {
        let prefix = URL(fileURLWithPath: executable).deletingLastPathComponent().deletingLastPathComponent()
        return prefix.appendingPathComponent("share/mxharness/Scenarios").path
    }

    /// `given` when not empty; otherwise `Scenarios`, or the installed library when the current
    /// folder has no `Scenarios` and the library is installed (else `Scenarios`, whose absence
    /// the loader then reports).
    public static func paths(
        _ given: [String], currentDirectory: String = FileManager.default.currentDirectoryPath,
        executable: String? = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    ) -> [String] {
        guard given.isEmpty else { return given }
        var isDirectory: ObjCBool = false
        let local = URL(fileURLWithPath: currentDirectory).appendingPathComponent("Scenarios").path
        if FileManager.default.fileExists(atPath: local, isDirectory: &isDirectory) { return ["Scenarios"] }
        if let executable {
            let library = installed(executable: executable)
            if FileManager.default.fileExists(atPath: library, isDirectory: &isDirectory), isDirectory.boolValue {
                return [library]
            }
        }
        return ["Scenarios"]
    }
}
