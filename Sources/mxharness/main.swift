import ArgumentParser
import Foundation
import Harness

// Parses the command line and hands the command to `Harness`. Exit codes (`ExitCodes`): 0 all
// passed, 1 some failed (`ExitCode.failure`), 2 usage or load errors: argument-parser's own
// (`ValidationError`, a value it cannot parse) and the `HarnessError.usage` a command throws, also
// for a receiver or sender that cannot run here; 3 nothing ran (`HarnessError.nothingRan`).
await Entry.main()

enum Entry {
    static func main() async {
        do {
            var command = try MXHarness.parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let error as HarnessError {
            try? FileHandle.standardError.write(contentsOf: Data(("mxharness: \(error)\n").utf8))
            exit(error.exitCode)
        } catch {
            let code = MXHarness.exitCode(for: error)
            let message = MXHarness.fullMessage(for: error)
            if !message.isEmpty {
                let stream = code == .success ? FileHandle.standardOutput : FileHandle.standardError
                try? stream.write(contentsOf: Data((message + "\n").utf8))
            }
            exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }
}

struct MXHarness: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mxharness",
        abstract: "Find out which mail gets through and which bounces, before your users do.",
        version: Version.line(commit: BuildInfo.commit, date: BuildInfo.commitDate, modified: BuildInfo.modified),
        subcommands: [
            Run.self, Send.self, Parity.self, Matrix.self, Merge.self, MX.self, Validate.self, List.self, Explain.self,
            DNS.self, Repro.self, Capture.self, Census.self,
        ])
}

extension Verdict {
    /// Exit 1 when the run did not pass (its report is printed already).
    func exit() throws {
        if self == .failed { throw ExitCode.failure }
    }
}
