#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MXHarnessTestKit
import Testing

/// Exit codes 2 and 3 of `run`, `parity` and `matrix` (issue #35): a receiver or sender that cannot
/// run here at all stops the command before any case, with the reason; a run in which nothing ran
/// is not a pass.
@Suite struct NothingRanExitTests {
    static let binary = CommandLineTests.binary

    /// Runs the executable with `MXHARNESS_MTA_DIR` set to `mtaDirectory` when given.
    static func run(_ arguments: [String], mtaDirectory: String? = nil) throws -> CommandLineTests.Finished {
        try CommandLineTests.run(arguments, environment: mtaDirectory.map { ["MXHARNESS_MTA_DIR": $0] } ?? [:])
    }

    @Test func aReceiverOrSenderThatIsNotUnpackedStopsBeforeAnyCase() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build mxharness first (swift build)")
        let directory = try CommandLineTests.temporary("good.yaml", CommandLineTests.passing)
        let empty = directory + "/no-mtas"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let eximOwn = CommandLineTests.passing.replacingOccurrences(of: "name: good", with: "name: own-exim")
            .replacingOccurrences(of: "policy: open}", with: "policy: open, target: exim}")
        let own = try CommandLineTests.temporary("own-exim.yaml", eximOwn)
        defer {
            try? FileManager.default.removeItem(atPath: directory)
            try? FileManager.default.removeItem(atPath: own)
        }
        let exim = "Exim is not unpacked at \(empty)/exim/usr/sbin/exim4"
        for (arguments, says) in [
            (["run", directory, "--target", "exim"], "receiver exim: " + exim),
            (
                ["run", directory, "--target", "opensmtpd"],
                "receiver opensmtpd: OpenSMTPD is not unpacked at \(empty)/opensmtpd"
            ),
            (["run", directory, "--sender", "exim"], "sender exim: " + exim),
            (["run", own], "receiver exim: " + exim),
            (["parity", directory, "--targets", "builtin,exim"], "receiver exim: " + exim),
            (["parity", directory, "--sender", "exim"], "sender exim: " + exim),
            (["matrix", directory, "--policies", "open,fcrdns", "--target", "exim"], "receiver exim: " + exim),
        ] {
            let finished = try Self.run(arguments, mtaDirectory: empty)
            #expect(finished.status == 2, "\(arguments): \(finished.output)\(finished.error)")
            #expect(
                finished.error.contains("no case was run") && finished.error.contains(says),
                "\(arguments): \(finished.error)")
            #expect(
                !finished.output.contains("skipped") && !finished.output.contains("good"),
                "\(arguments): no case ran: \(finished.output)")
        }
    }

    @Test func nothingMatchedExits3() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build mxharness first (swift build)")
        let directory = try CommandLineTests.temporary("good.yaml", CommandLineTests.passing)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for arguments in [
            ["run", directory, "--filter", "nothing-*"],
            ["run", directory, "--tag", "no-such-tag"],
            ["parity", directory, "--filter", "nothing-*"],
            ["matrix", directory, "--policies", "open", "--filter", "nothing-*"],
        ] {
            let finished = try Self.run(arguments)
            #expect(finished.status == 3, "\(arguments): \(finished.error)")
            #expect(
                finished.error.contains("no case matches (1 loaded from \(directory))"),
                "\(arguments): \(finished.error)")
        }
    }

    @Test func theExitCodesAreInTheHelp() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build mxharness first (swift build)")
        for command in ["run", "parity", "matrix"] {
            let help = try Self.run([command, "--help"])
            #expect(help.status == 0)
            for line in [
                "0  every case ran and passed", "1  a case failed", "2  usage or load error", "3  nothing ran",
            ] {
                #expect(help.output.contains(line), "\(command) --help: \(line)")
            }
        }
    }
}

/// The exit codes that need a run: as root (network namespaces) with unbound.
@Suite(.serialized, .enabled(if: IntegrationEnvironment.canRunWorlds, IntegrationEnvironment.worldSkipReason))
struct NothingRanTests {
    @Test func everyCaseSkippedExits3AndASkipBesideAPassIsNoFailure() throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: NothingRanExitTests.binary),
            "build mxharness first (swift build)")
        let directory = try CommandLineTests.temporary("good.yaml", CommandLineTests.passing)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // `--target exec` without `receiver.exec` in the case: skipped with its reason.
        let run = try NothingRanExitTests.run(["run", directory, "--target", "exec"])
        #expect(run.status == 3, "\(run.output)\(run.error)")
        #expect(
            run.output.contains("needs receiver.exec") && run.output.contains("0 passed, 0 failed, 1 skipped"),
            "\(run.output)")
        #expect(run.error.contains("no case ran: all 1 were skipped"), "\(run.error)")
        let matrix = try NothingRanExitTests.run(["matrix", directory, "--policies", "open,fcrdns", "--target", "exec"])
        #expect(matrix.status == 3, "\(matrix.output)\(matrix.error)")
        #expect(matrix.error.contains("no cell ran: all 2 were skipped"), "\(matrix.error)")
        // The built-in MX runs the case, the exec side skips it: nothing compared.
        let parity = try NothingRanExitTests.run(["parity", directory, "--targets", "builtin,exec"])
        #expect(parity.status == 3, "\(parity.output)\(parity.error)")
        #expect(
            parity.output.contains("0 same, 0 different, 1 skipped") && parity.error.contains("nothing was compared"),
            "\(parity.output)\(parity.error)")
        // The same case passing on the built-in MX is a pass.
        let passing = try NothingRanExitTests.run(["run", directory])
        #expect(passing.status == 0, "\(passing.output)\(passing.error)")
    }

    /// A case that names an MTA this machine cannot run (`sender.mta: exim`, Exim not unpacked)
    /// is skipped with the reason; the other cases of the run still run, and pass.
    @Test func aCaseNamingAMissingMTAIsSkippedAndTheRestRuns() throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: NothingRanExitTests.binary),
            "build mxharness first (swift build)")
        let directory = try CommandLineTests.temporary("good.yaml", CommandLineTests.passing)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let empty = directory + "/no-mtas"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let eximSends = CommandLineTests.passing.replacingOccurrences(of: "name: good", with: "name: exim-sends")
            .replacingOccurrences(of: "sender: {addresses:", with: "sender: {mta: exim, addresses:")
        try eximSends.write(toFile: directory + "/exim-sends.yaml", atomically: true, encoding: .utf8)
        let run = try NothingRanExitTests.run(["run", directory], mtaDirectory: empty)
        #expect(run.status == 0, "\(run.output)\(run.error)")
        #expect(run.output.contains("1 passed, 0 failed, 1 skipped"), "\(run.output)")
        #expect(
            run.output.contains("sender exim: Exim is not unpacked at \(empty)/exim/usr/sbin/exim4"), "\(run.output)")
        // Alone, the same case cannot run at all: exit 2 before it, with the reason.
        let alone = try NothingRanExitTests.run(["run", directory + "/exim-sends.yaml"], mtaDirectory: empty)
        #expect(alone.status == 2, "\(alone.output)\(alone.error)")
        #expect(alone.error.contains("no case was run") && alone.error.contains("sender exim: "), "\(alone.error)")
    }

    /// As user nobody (setpriv): a real MTA's receiver or sender needs root, said before any case.
    @Test(.enabled(if: AsNobody.canSwitchUser, "needs root (to become user nobody with setpriv)"))
    func aRealMTAWithoutRootStopsBeforeAnyCase() throws {
        let directory = try RootlessTests.folder(CommandLineTests.passing)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let sender = try AsNobody.run([NothingRanExitTests.binary, "run", directory, "--sender", "postfix"])
        #expect(sender.status == 2, "\(sender.output)\(sender.error)")
        #expect(sender.error.contains("sender postfix: the Postfix sender needs"), "\(sender.error)")
        let exim = try AsNobody.run([NothingRanExitTests.binary, "run", directory, "--target", "exim"])
        #expect(exim.status == 2, "\(exim.output)\(exim.error)")
        #expect(
            exim.error.contains("receiver exim: ") && !exim.output.contains("skipped"), "\(exim.output)\(exim.error)")
    }
}
