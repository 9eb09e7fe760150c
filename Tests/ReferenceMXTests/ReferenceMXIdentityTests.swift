import DNSCore
import MXHarnessTestKit
import Policy
import SMTPProtocol
import Synchronization
import Testing
@testable import ReferenceMX

/// A lookup that notes every question before answering from `InMemoryDNS`.
final class CountingDNS: DNSLookup {
    let table: InMemoryDNS
    let asked = Mutex<[String]>([])

    init(_ table: InMemoryDNS) { self.table = table }

    func query(_ name: String, _ type: RecordType) async throws(DNSLookupError) -> [RecordData] {
        asked.withLock { $0.append("\(DNSName.normalize(name)) \(type)") }
        return try await table.query(name, type)
    }

    var questions: [String] { asked.withLock { $0 } }
}

/// The built-in MX behind a proxy, over loopback: after a PROXY header it checks the named
/// address with DNS; after XCLIENT it looks nothing up for the name (Postfix smtpd.c).
@Suite("ReferenceMX identity paths", .timeLimit(.minutes(2)))
struct ReferenceMXIdentityTests {
    static let client = IPAddress("198.51.100.25")!
    /// 198.51.100.25 has a PTR and a forward-confirming A; the proxy (127.0.0.1) has no PTR.
    static let dns = InMemoryDNS([
        ("25.100.51.198.in-addr.arpa", .ptr("mail.sender.test")),
        ("mail.sender.test", .a(client)),
    ])

    static func header(_ client: IPAddress = client) -> [UInt8] {
        ProxyHeader.v2(
            source: ProxiedEndpoint(address: client.bytes, port: 40000),
            destination: ProxiedEndpoint(address: [127, 0, 0, 1], port: 25))
    }

    @Test func afterAProxyHeaderTheNamedClientIsCheckedWithDNS() async throws {
        let dns = CountingDNS(Self.dns)
        // A long wait for the header: a loaded machine may be slow to send it.
        try await MXTest.withMX(
            policy: Preset.fcrdnsStrict.policy, dns: dns,
            configure: {
                $0.requiresProxyHeader = true; $0.proxyTimeout = .seconds(120)
            }
        ) { mx in
            let replies = try await MXTest.withClient(mx) { client in
                try await client.send(bytes: Self.header())
                var replies = [try await client.readReply()?.description ?? "EOF"]
                for line in ["EHLO mail.sender.test", "MAIL FROM:<a@sender.test>", "RCPT TO:<b@example.test>", "QUIT"] {
                    replies.append(try await client.command(line))
                }
                return replies
            }
            #expect(replies.first == "220 mx.example.test ESMTP")
            #expect(replies[3] == "250 2.1.5 Ok")
            let session = try #require(mx.sessions.first)
            #expect(session.client == Self.client)
            #expect(session.proxy == IPAddress("127.0.0.1"))
            #expect(session.identityPath == "proxy-v2")
            #expect(session.findings?.fcrdns?.confirmedName == "mail.sender.test")
            #expect(session.summary.contains("from 198.51.100.25:40000 (ipv4) via 127.0.0.1 (proxy-v2)"))
            #expect(dns.questions.contains("25.100.51.198.in-addr.arpa PTR"))
            #expect(!dns.questions.contains("1.0.0.127.in-addr.arpa PTR"))
        }
    }

    @Test func aSilentClientOnAProxyPortGets421AfterTheWait() async throws {
        try await MXTest.withMX(configure: {
            $0.requiresProxyHeader = true; $0.proxyTimeout = .milliseconds(300)
        }) { mx in
            let replies = try await MXTest.withClient(mx) { try await $0.readAll() }
            #expect(replies.map(\.description) == ["421 4.3.0 mx.example.test Server local error"])
            #expect(mx.sessions.map(\.closeReason) == ["421 proxy:timeout"])
        }
    }

    @Test func aPlainClientThatTalksFirstGets421AtOnce() async throws {
        try await MXTest.withMX(configure: {
            $0.requiresProxyHeader = true; $0.proxyTimeout = .seconds(120)
        }) { mx in
            let replies = try await MXTest.withClient(mx) { client in
                try await client.send("EHLO mail.sender.test\r\n")
                return try await client.readAll()
            }
            #expect(replies.map(\.description) == ["421 4.3.0 mx.example.test Server local error"])
            #expect(mx.sessions.map(\.closeReason) == ["421 proxy:unrecognized protocol header"])
        }
    }

    func xclientSession(name: String?, dns: CountingDNS) async throws -> (replies: [String], session: SessionRecord) {
        try await MXTest.withMX(
            policy: Preset.fcrdnsStrict.policy, dns: dns, configure: { $0.xclientHosts = [IPAddress("127.0.0.1")!] }
        ) { mx in
            let replies = try await MXTest.withClient(mx) { client in
                var replies = [try await client.readReply()?.description ?? "EOF"]
                for line in [
                    "EHLO proxy.example.test",
                    XCLIENTCommand.line(address: IPAddress("203.0.113.25")!.bytes, name: name),
                    "EHLO mail.sender.test", "MAIL FROM:<a@sender.test>", "RCPT TO:<b@example.test>", "QUIT",
                ] {
                    replies.append(try await client.command(line))
                }
                return replies
            }
            return (replies, try #require(mx.sessions.first))
        }
    }

    @Test func xclientWithANameTakesItAsVerifiedWithoutDNS() async throws {
        let dns = CountingDNS(Self.dns)
        let (replies, session) = try await xclientSession(name: "mail.sender.test", dns: dns)
        #expect(replies[2] == "220 mx.example.test ESMTP")
        #expect(replies[5] == "250 2.1.5 Ok")
        #expect(session.client == IPAddress("203.0.113.25"))
        #expect(session.identityPath == "xclient")
        #expect(session.findings?.fcrdns?.confirmedName == "mail.sender.test")
        // Only the proxy's own PTR at connect: nothing for 203.0.113.25.
        #expect(dns.questions == ["1.0.0.127.in-addr.arpa PTR"])
    }

    @Test func xclientWithoutANameKeepsTheProxysAndTheNamesThatFail() async throws {
        // The proxy 127.0.0.1 is forward-confirmed here; the client has no PTR at all.
        let table = InMemoryDNS([
            ("1.0.0.127.in-addr.arpa", .ptr("lb.example.test")), ("lb.example.test", .a(IPAddress("127.0.0.1")!)),
        ])
        let kept = try await xclientSession(name: nil, dns: CountingDNS(table))
        #expect(kept.replies[5] == "250 2.1.5 Ok")
        #expect(kept.session.findings?.fcrdns?.confirmedName == "lb.example.test")

        let unavailable = try await xclientSession(name: "[UNAVAILABLE]", dns: CountingDNS(table))
        #expect(unavailable.replies[5] == "550 5.7.25 Client host rejected: cannot find your hostname, [203.0.113.25]")
        let temporary = try await xclientSession(name: "[TEMPUNAVAIL]", dns: CountingDNS(table))
        #expect(temporary.replies[5] == "450 4.7.25 Client host rejected: cannot find your hostname, [203.0.113.25]")
    }
}
