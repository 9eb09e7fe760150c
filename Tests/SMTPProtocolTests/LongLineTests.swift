import Testing
@testable import SMTPProtocol

/// A line over the limit gets the same reply whatever its size, also past the pending-input cap
/// and while a verdict is awaited; the framer keeps at most its limit of it.
@Suite("SMTP server: over-long lines")
struct LongLineTests {
    static let sizes = [1_001, 2_048, 64 * 1024, 4 << 20, (4 << 20) + 1, 9 << 20]

    @Test(arguments: sizes)
    func aLoneCommandLine(_ size: Int) {
        var driver = ServerDriver.greeted()
        driver.send(bytes: Array("NOOP ".utf8) + [UInt8](repeating: 0x78, count: size) + Array("\r\nNOOP\r\n".utf8))
        #expect(driver.lines(from: 1) == ["500 5.5.2 Error: line too long", "250 2.0.0 Ok"])
        #expect(!driver.closed)
        #expect(driver.framer.bufferedCount == 0)
    }

    @Test(arguments: sizes)
    func aCommandLineWhileAVerdictIsAwaited(_ size: Int) {
        var driver = ServerDriver.greeted(policy: { question in
            if case .helo = question { return nil }
            return .proceed
        })
        driver.send("EHLO c.sender.test\r\n")
        #expect(driver.waitingForVerdict)
        // Sent in pieces, as a socket delivers it: never more than the framer's limit is held.
        driver.send("NOOP ")
        var held = 0
        var left = size
        while left > 0 {
            let piece = min(left, 65_536)
            driver.send(bytes: [UInt8](repeating: 0x79, count: piece))
            held = max(held, driver.framer.heldCount)
            left -= piece
        }
        driver.send("\r\nNOOP\r\n")
        #expect(held <= driver.machine.limits.frameLength)
        #expect(!driver.closed)
        driver.answer(.proceed)
        #expect(driver.codes == [220, 250, 500, 250])
        #expect(driver.last?.description == "250 2.0.0 Ok")
        #expect(driver.replies[2].reply.description == "500 5.5.2 Error: line too long")
    }

    @Test(arguments: sizes)
    func aTextLine(_ size: Int) {
        for direct in [false, true] {
            var driver = ServerDriver.greeted()
            driver.takesTextDirectly = direct
            driver.send(SMTPServerStateMachineTests.envelope + "DATA\r\n")
            driver.send(bytes: [UInt8](repeating: 0x7a, count: size) + Array("\r\n.\r\nNOOP\r\n".utf8))
            #expect(
                driver.lines().suffix(2) == ["500 5.5.2 Error: text line too long", "250 2.0.0 Ok"], "direct: \(direct)"
            )
            #expect(driver.accepted.isEmpty)
            #expect(!driver.closed)
        }
    }
}
