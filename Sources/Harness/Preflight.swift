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
    /// Loads the cases of `paths` and prepares the machine; prints what stops it and returns nil.
    static func cases(_ paths: [String], logger: Logger) -> [ScenarioCase]? {
        let cases: [ScenarioCase]
        do { cases = try ScenarioLoader().load(paths: paths) } catch {
            Output().error("\(error)")
            return nil
        }
        return ready(logger: logger) ? cases : nil
    }

    /// One case of a file (see `CaseLookup.one`), with the machine prepared; nil after printing why not.
    static func oneCase(file: String, variant: String?, logger: Logger) -> ScenarioCase? {
        let scenario: ScenarioCase
        do { scenario = try CaseLookup.one(file: file, variant: variant) } catch {
            Output().error("\(error)")
            return nil
        }
        return ready(logger: logger) ? scenario : nil
    }

    /// `prepare`, printing its problem.
    static func ready(logger: Logger) -> Bool {
        if let problem = prepare(logger: logger) {
            Output().error(problem)
            return false
        }
        return true
    }
}
