#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import Sandbox
import Scenario

/// What every command that builds worlds does first.
public enum Preflight {
    /// Why root: the message a non-root user sees, at once, before anything is created.
    public static let rootReason = """
        mxharness must run as root: it creates network namespaces (CAP_SYS_ADMIN), assigns addresses \
        inside them and binds port 25 there (CAP_NET_ADMIN, CAP_NET_BIND_SERVICE). Nothing outside \
        its own namespaces is changed. Run it with sudo.
        """

    /// Checks root, installs the clean-up signal handlers, and removes what killed runs left.
    /// Returns an error message instead of starting when the harness cannot work here.
    public static func prepare(logger: Logger) -> String? {
        guard geteuid() == 0 else { return rootReason }
        for tool in ["/usr/sbin/ip", "/usr/bin/nsenter", "/usr/sbin/unbound"] where !FileManager.default.isExecutableFile(atPath: tool) {
            return "\(tool) is missing: apt-get install iproute2 util-linux unbound"
        }
        ResourceRegistry.shared.installSignalHandlers()
        ResourceJanitor.sweep(logger: logger)
        return nil
    }
}

extension Preflight {
    /// Loads the cases of `paths` and prepares the machine.
    static func cases(_ paths: [String], logger: Logger) throws(HarnessError) -> [ScenarioCase] {
        let cases = try load(paths)
        try ready(logger: logger)
        return cases
    }

    /// The cases of `paths`; a load error is a usage error (exit 2) with every problem found.
    static func load(_ paths: [String]) throws(HarnessError) -> [ScenarioCase] {
        do { return try ScenarioLoader().load(paths: paths) } catch { throw .usage("\(error)") }
    }

    /// One case of a file (see `CaseLookup.one`), with the machine prepared.
    static func oneCase(file: String, variant: String?, logger: Logger) throws(HarnessError) -> ScenarioCase {
        let scenario: ScenarioCase
        do { scenario = try CaseLookup.one(file: file, variant: variant) } catch { throw .usage("\(error)") }
        try ready(logger: logger)
        return scenario
    }

    /// `prepare`, its problem thrown.
    static func ready(logger: Logger) throws(HarnessError) {
        if let problem = prepare(logger: logger) { throw .usage(problem) }
    }
}
