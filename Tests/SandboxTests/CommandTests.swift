import Foundation
import Sandbox
import Testing

/// Helper programs that end before reading their input: an interrupted run kills `ip` with its
/// namespace while its batch is being written.
struct CommandTests {
    @Test func aProcessThatExitsBeforeReadingItsInputIsNoCrash() async throws {
        // More than a pipe holds, to a program that reads nothing: the write meets EPIPE.
        let output = try await Command.run(
            "/bin/true", [], input: String(repeating: "addr add 2001:db8::1/128 dev lo\n", count: 40_000))
        #expect(output.isEmpty)
    }

    @Test func aFailingProcessStillReportsItsStatusAndWords() async {
        await #expect {
            try await Command.run(
                "/bin/sh", ["-c", "echo nope >&2; exit 3"], input: String(repeating: "x\n", count: 100_000))
        } throws: {
            guard let error = $0 as? CommandError else { return false }
            return error.status == 3 && error.output.contains("nope")
        }
    }
}
