import Testing
@testable import SMTPProtocol

/// The client as a proxy: a PROXY header before the greeting, XCLIENT after EHLO and EHLO again
/// after XCLIENT's 220 (Postfix XCLIENT_README).
@Suite struct ClientIdentityTests {
    struct Run {
        var machine: SMTPClientStateMachine
        var written: [[UInt8]] = []
        var closed = false

        init(_ configure: (inout SMTPClientConfiguration) -> Void) {
            var configuration = SMTPClientConfiguration(
                helo: "mail.sender.test", mailFrom: "alice@sender.test", recipients: ["bob@example.test"],
                message: Array("Subject: x\n\nhi\n".utf8))
            configure(&configuration)
            machine = SMTPClientStateMachine(configuration: configuration)
            take(machine.event(.connected, at: 0))
        }

        mutating func server(_ lines: String...) {
            for line in lines { take(machine.event(.line(line), at: 1)) }
        }

        mutating func take(_ action: SMTPClientStateMachine.Action) {
            switch action {
            case .wait: break
            case .send(let bytes): written.append(bytes)
            case .close: closed = true
            case .startTLS: break
            }
        }

        var text: [String] { written.map { String(decoding: $0, as: UTF8.self) } }
    }

    @Test func theHeaderGoesOutBeforeTheGreeting() {
        let header = ProxyHeader.v2(
            source: ProxiedEndpoint(address: [203, 0, 113, 25], port: 1),
            destination: ProxiedEndpoint(address: [192, 0, 2, 10], port: 25))
        var run = Run {
            $0.preamble = header; $0.preambleNote = "via proxy 198.51.100.5"
        }
        #expect(run.written == [header])
        #expect(run.machine.transcript.first?.text == "via proxy 198.51.100.5")
        run.server("220 mx.example.test ESMTP")
        #expect(run.text.last == "EHLO mail.sender.test\r\n")
    }

    @Test func xclientThenEHLOAgainThenTheTransaction() throws {
        var run = Run { $0.xclientLine = "XCLIENT ADDR=203.0.113.25 NAME=mail.sender.test" }
        #expect(run.written.isEmpty)
        run.server("220 mx.example.test ESMTP", "250-mx.example.test", "250 XCLIENT NAME ADDR")
        #expect(run.text.last == "XCLIENT ADDR=203.0.113.25 NAME=mail.sender.test\r\n")
        run.server("220 mx.example.test ESMTP")
        #expect(run.text.last == "EHLO mail.sender.test\r\n")
        run.server("250 mx.example.test")
        #expect(run.text.last == "MAIL FROM:<alice@sender.test>\r\n")
        run.server("250 2.1.0 Ok", "250 2.1.5 Ok", "354 go", "250 2.0.0 Ok: queued as Q1")
        #expect(try #require(run.machine.result).outcome == .accepted)
        #expect(run.text.filter { $0.hasPrefix("XCLIENT") }.count == 1)
    }

    @Test func aRefusedXCLIENTEndsTheSessionAtHELO() throws {
        var run = Run { $0.xclientLine = "XCLIENT ADDR=203.0.113.25" }
        run.server("220 mx.example.test ESMTP", "250 mx.example.test", "550 5.7.0 Error: insufficient authorization")
        let result = try #require(run.machine.result)
        #expect(result.stage == .helo)
        #expect(result.outcome == .rejected)
        #expect(result.reply?.code == 550)
        #expect(run.text.last == "QUIT\r\n")
    }

    @Test func aGreetingRefusalAfterXCLIENTIsAGreetingFailure() throws {
        var run = Run {
            $0.xclientLine = "XCLIENT ADDR=203.0.113.25"; $0.skip5xxGreeting = false
        }
        run.server("220 mx.example.test ESMTP", "250 mx.example.test", "554 5.7.1 Client host rejected")
        let result = try #require(run.machine.result)
        #expect(result.stage == .greeting)
        #expect(result.outcome == .rejected)
    }
}
