import Foundation
import Reports
import Runner
import Scenario
import Testing

/// What a run writes as cases finish: the status line only on a terminal and only after a second.
struct ProgressDisplayTests {
    final class Screen: @unchecked Sendable {
        let lock = NSLock()
        var text = ""
        var now: Duration = .zero
        func write(_ more: String) { lock.withLock { text += more } }
        func elapsed() -> Duration { lock.withLock { now } }
    }

    static func display(live: Bool, _ screen: Screen, total: Int = 3) -> ProgressDisplay {
        ProgressDisplay(total: total, live: live, write: { screen.write($0) }, elapsed: { screen.elapsed() })
    }

    @Test func notATerminalGetsPlainLines() {
        let screen = Screen()
        let display = Self.display(live: false, screen)
        screen.now = .seconds(5)
        display.finished("PASS a")
        display.tick()
        display.finished("FAIL b")
        display.stop()
        #expect(screen.text == "PASS a\nFAIL b\n")
    }

    @Test func aTerminalGetsTheStatusLineAfterASecond() {
        let screen = Screen()
        let display = Self.display(live: true, screen)
        screen.now = .milliseconds(300)
        display.finished("PASS a")
        display.tick()
        #expect(screen.text == "PASS a\n", "nothing but the line within the first second")
        screen.now = .milliseconds(1500)
        display.tick()
        #expect(screen.text == "PASS a\n\r\u{1B}[K[1/3] 1.5s")
        display.finished("FAIL b")
        #expect(
            screen.text.hasSuffix("[1/3] 1.5s\r\u{1B}[KFAIL b\n\r\u{1B}[K[2/3] 1.5s"),
            "the line replaces the status, which comes back under it")
        screen.now = .milliseconds(2250)
        display.tick()
        #expect(screen.text.hasSuffix("\r\u{1B}[K[2/3] 2.2s") || screen.text.hasSuffix("\r\u{1B}[K[2/3] 2.3s"))
        display.stop()
        #expect(screen.text.hasSuffix("\r\u{1B}[K"), "no status line is left before the report")
    }

    /// `parity` and `matrix` count what finished without a line of its own: only the status line,
    /// and nothing at all where the display is not live.
    @Test func advancingCountsWithoutALine() {
        let screen = Screen()
        let display = Self.display(live: true, screen, total: 4)
        screen.now = .milliseconds(1500)
        display.advanced()
        display.advanced()
        #expect(screen.text.hasSuffix("\r\u{1B}[K[2/4] 1.5s"), "\(screen.text)")
        #expect(!screen.text.contains("\n"))
        display.stop()
        #expect(screen.text.hasSuffix("\r\u{1B}[K"))
        let plain = Screen()
        let quiet = Self.display(live: false, plain)
        plain.now = .seconds(5)
        quiet.advanced()
        quiet.stop()
        #expect(plain.text.isEmpty)
    }

    @Test func durationsListTheSlowestWithTheirPhases() {
        var results = Fixtures.results()
        for (index, seconds) in [0.2, 3.0, 1.0, 0.5].enumerated() {
            results[index].timings.setup = .milliseconds(Int(seconds * 100))
            results[index].timings.exchange = .milliseconds(Int(seconds * 800))
            results[index].timings.teardown = .milliseconds(Int(seconds * 100))
        }
        let text = ConsoleReporter(terminal: Terminal(colour: false)).durations(results, count: 2)
        #expect(
            text == """
                Slowest 2 of 4 cases:
                  3.000s  fails <&> "quoted" #1  (setup 0.300s, exchange 2.400s, teardown 0.300s)
                  1.000s  skipped  (setup 0.100s, exchange 0.800s, teardown 0.100s)
                """)
    }
}
