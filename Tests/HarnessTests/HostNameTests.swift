import Foundation
import MXHarnessTestKit
import Testing

/// The machine's host name stays outside the case's world. glibc and libasr take the domain of a
/// dotted host name as the search list when resolv.conf names none, so a real MTA on a host named
/// `mx1.site.test` retried a failed lookup as `NAME.site.test` and read that NXDOMAIN instead of
/// the world's answer. The case runs under such a name in a UTS namespace of its own (`unshare
/// --uts`): the host's own name is never changed.
@Suite(
    .enabled(
        if: IntegrationEnvironment.canRunWorlds && IntegrationEnvironment.hasPostfix,
        "needs root, unbound and Postfix (apt-get install postfix unbound)"))
struct HostNameTests {
    @Test func aDottedHostNameDoesNotTurnABogusForwardZoneIntoNoName() throws {
        let binary = CommandLineTests.binary
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build mxharness first (swift build)")
        let scenario = CommandLineTests.root.appendingPathComponent("Scenarios/dnssec/chain-of-trust.yaml").path
        let finished = try CommandLineTests.run(
            [
                "--uts", "/bin/sh", "-c", #"hostname mx1.site.test && exec "$0" run "$1" --target postfix --jobs 2"#,
                binary, scenario,
            ], executable: "/usr/bin/unshare")
        // The base case: both families deferred with 450 (a bogus A/AAAA is a temporary failure);
        // under the leaked search list the IPv4 attempt was refused with 550.
        #expect(finished.output.contains("6 passed, 0 failed, 0 skipped"), "\(finished.output)\(finished.error)")
        #expect(finished.status == 0)
    }
}
