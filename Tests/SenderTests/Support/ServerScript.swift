import DNSCore
import Delivery
import Logging
import MXHarnessTestKit
import SMTPProtocol
import Sandbox
@testable import Sender

/// How a scripted SMTP server answers each command. Used by the socket-free transport and by the
/// loopback NIO server.
struct ServerScript: Sendable {
    var greeting = ["220 mx.example.test ESMTP"]
    var ehlo = ["250-mx.example.test", "250-PIPELINING", "250-SIZE 10240000", "250 ENHANCEDSTATUSCODES"]
    var helo = ["250 mx.example.test"]
    var mail = ["250 2.1.0 Ok"]
    /// RCPT replies by recipient address; others get `rcptDefault`.
    var rcpt: [String: [String]] = [:]
    var rcptDefault = ["250 2.1.5 Ok"]
    var data = ["354 End data with <CR><LF>.<CR><LF>"]
    var endOfData = ["250 2.0.0 Ok: queued as 4TEST"]
    var quit = ["221 2.0.0 Bye"]
    /// Never send the greeting (to make the client time out).
    var silent = false
    /// The reply to STARTTLS; after a 2xx the server speaks no more SMTP (and no TLS either).
    var starttls = ["502 5.5.1 Error: command not implemented"]
    /// Written, as is, when the client's first bytes after a 2xx to STARTTLS come (its TLS
    /// ClientHello); nil: nothing, so the handshake never ends.
    var afterSTARTTLS: String?

    static let accepting = ServerScript()

    /// The reply lines to one command line (without CRLF).
    func reply(to command: String) -> [String] {
        let verb = command.prefix { $0 != " " && $0 != ":" }.uppercased()
        switch verb {
        case "EHLO": return ehlo
        case "HELO": return helo
        case "MAIL": return mail
        case "RCPT":
            guard let open = command.firstIndex(of: "<"), let close = command.lastIndex(of: ">"), open < close else {
                return rcptDefault
            }
            let address = String(command[command.index(after: open)..<close])
            return rcpt[address] ?? rcptDefault
        case "DATA": return data
        case "QUIT": return quit
        case "RSET", "NOOP": return ["250 2.0.0 Ok"]
        case "STARTTLS": return starttls
        default: return ["502 5.5.2 Error: command not recognized"]
        }
    }

    func with(_ change: (inout ServerScript) -> Void) -> ServerScript {
        var copy = self
        change(&copy)
        return copy
    }
}

/// What answers at one address.
enum Endpoint: Sendable {
    case refused
    case timedOut
    case smtp(ServerScript)
}

/// Runs the real client state machine against scripted servers, without sockets.
struct ScriptedTransport: DeliveryTransport {
    var endpoints: [IPAddress: Endpoint]

    func attempt(
        to destination: Destination, from source: IPAddress, recipients: [String],
        request: DeliveryRequest, in namespace: NetworkNamespace?, since start: ContinuousClock.Instant
    ) async -> DeliveryAttempt {
        let script: ServerScript
        switch endpoints[destination.address] ?? .refused {
        case .refused:
            return DeliveryAttempt(
                unreachable: destination, source: source, port: request.port, recipients: recipients,
                error: "connect to \(destination.host)[\(destination.address)]:25: connection refused", at: 0)
        case .timedOut:
            return DeliveryAttempt(
                unreachable: destination, source: source, port: request.port, recipients: recipients,
                error: "connect to \(destination.host)[\(destination.address)]:25: connection timed out", at: 0)
        case .smtp(let found):
            script = found
        }
        var machine = SMTPClientStateMachine(
            configuration: SMTPClientConfiguration(
                helo: request.helo, mailFrom: request.mailFrom, recipients: recipients, message: request.message,
                skip5xxGreeting: request.limits.skip5xxGreeting))
        var action = machine.event(.connected, at: 0)
        var queue = script.silent ? [] : script.greeting
        var lastCommand = ""
        var tick = 0.0
        for _ in 0..<1000 {
            for line in queue {
                tick += 0.001
                action = machine.event(.line(line), at: tick)
            }
            queue = []
            switch action {
            case .close:
                return DeliveryAttempt(
                    session: machine, destination: destination, source: source, port: request.port, connectedAt: 0)
            case .wait:
                action = machine.event(script.silent ? .timedOut : .closed, at: tick)
            case .startTLS:
                action = machine.event(.tlsFailed("the scripted server speaks no TLS"), at: tick)
            case .send(let bytes):
                let text = String(decoding: bytes, as: UTF8.self)
                if lastCommand == "DATA", text.hasSuffix("\r\n.\r\n") || text == ".\r\n" {
                    queue = script.endOfData
                    lastCommand = "."
                } else {
                    let line = String(text.utf8.dropLast(2)) ?? text
                    queue = script.reply(to: line)
                    lastCommand = line.prefix { $0 != " " && $0 != ":" }.uppercased()
                }
            }
        }
        return DeliveryAttempt(
            session: machine, destination: destination, source: source, port: request.port, connectedAt: 0)
    }
}

/// The world most tests start from.
enum World {
    static let mx4 = IPAddress("192.0.2.10")!
    static let mx6 = IPAddress("2001:db8::10")!
    static let source4 = IPAddress("198.51.100.25")!
    static let source6 = IPAddress("2001:db8:5::25")!
    static let bothSources: [AddressFamily: IPAddress] = [.ipv4: source4, .ipv6: source6]

    static let dns = InMemoryDNS([
        ("example.test", .mx(preference: 10, exchange: "mx.example.test")),
        ("mx.example.test", .a(mx4)),
        ("mx.example.test", .aaaa(mx6)),
    ])

    static func request(
        recipients: [String] = ["bob@example.test"], sources: [AddressFamily: IPAddress] = bothSources,
        prefer: AddressPreference = .ipv6, relay: Relay = .mx, limits: ClientLimits = ClientLimits()
    ) -> DeliveryRequest {
        DeliveryRequest(
            sources: sources, prefer: prefer, limits: limits, helo: "mail.sender.test", mailFrom: "alice@sender.test",
            recipients: recipients, relay: relay, message: Array("Subject: test\n\nHello\n".utf8))
    }

    static func deliver(
        dns: InMemoryDNS = World.dns, endpoints: [IPAddress: Endpoint], request: DeliveryRequest = World.request()
    ) async -> DeliveryReport {
        let agent = DeliveryAgent(
            lookup: dns, transport: ScriptedTransport(endpoints: endpoints), logger: Logger(label: "test.sender"))
        return await agent.deliver(request, in: nil)
    }
}
