import DNSCore
import MXHarnessTestKit
import SMTPProtocol
import SPF
@testable import Policy

extension ReceiverPolicy {
    /// The same checks for both families (the scenario format's `checks:` key).
    init(checks: [Check], rejectAt: RejectStage = .rcpt, onFail: FailureMode = .reject, siteReply: CustomReply? = nil) {
        self.init(ipv4: checks, ipv6: checks, rejectAt: rejectAt, onFail: onFail, siteReply: siteReply)
    }
}

/// A world with one good and one bad client per family.
enum World {
    static let goodV4 = IPAddress("192.0.2.25")!
    static let badV4 = IPAddress("198.51.100.7")!
    static let goodV6 = IPAddress("2001:db8:5::25")!
    static let badV6 = IPAddress("2001:db8::66")!
    /// Has a PTR whose name has only an A record: confirms in IPv4, never in IPv6.
    static let v6WithV4OnlyName = IPAddress("2001:db8:7::7")!

    static let dns = InMemoryDNS([
        (goodV4.reverseName, .ptr("mail.sender.test")),
        (goodV6.reverseName, .ptr("mail.sender.test")),
        ("mail.sender.test", .a(goodV4)),
        ("mail.sender.test", .aaaa(goodV6)),
        ("sender.test", .mx(preference: 10, exchange: "mail.sender.test")),
        (v6WithV4OnlyName.reverseName, .ptr("v4only.sender.test")),
        ("v4only.sender.test", .a(goodV4)),
        // badV4 is listed in the blocklist.
        ("7.100.51.198.bl.example.test", .a(IPAddress("127.0.0.2")!)),
        ("mx-only.sender.test", .mx(preference: 10, exchange: "mail.sender.test")),
    ])

    static func engine(
        _ policy: ReceiverPolicy, dns: InMemoryDNS = World.dns, spf: SPFResult = .pass, holdsAnswers: Bool = false
    ) -> PolicyEngine {
        let lookup: any DNSLookup = holdsAnswers ? HoldingDNS(table: dns) : dns
        return PolicyEngine(
            policy: policy, lookup: lookup,
            spf: { _, _, _ in
                SPFVerdict(
                    result: spf, domain: "sender.test", record: "v=spf1 ip6:2001:db8:5::/64 -all",
                    matched: spf == .pass ? "ip6:2001:db8:5::/64" : "-all", reason: "test")
            })
    }

    /// Runs connect, EHLO, MAIL, RCPT and end of DATA; returns the first verdict other than proceed, with its stage.
    static func run(
        _ engine: PolicyEngine, client: IPAddress, helo: String = "mail.sender.test",
        mailFrom: String = "alice@sender.test"
    ) async -> (SMTPStage, SMTPPolicyVerdict)? {
        let session = engine.session(client: client)
        let message = SMTPMessage(
            helo: helo, reversePath: mailFrom, recipients: ["bob@example.test"], data: Array("x\r\n".utf8))
        let questions: [SMTPPolicyQuestion] = [
            .connect, .helo(name: helo, extended: true), .mail(reversePath: mailFrom, helo: helo),
            .rcpt(forwardPath: "bob@example.test", reversePath: mailFrom, helo: helo), .endOfData(message),
        ]
        for question in questions {
            let verdict = await session.answer(question)
            if verdict != .proceed { return (question.stage, verdict) }
        }
        return nil
    }

    /// The deciding reply as `code enhanced text`, or nil when everything proceeds.
    static func reply(_ engine: PolicyEngine, client: IPAddress, helo: String = "mail.sender.test") async -> String? {
        guard let (_, verdict) = await run(engine, client: client, helo: helo) else { return nil }
        switch verdict {
        case .reply(let reply, _), .replyAndClose(let reply, _): return reply.description
        case .proceed: return nil
        }
    }
}

/// `InMemoryDNS` that also gives every answer at once through `heldAnswer`, like a resolver
/// whose cache holds it.
struct HoldingDNS: DNSLookup {
    var table: InMemoryDNS

    func query(_ name: String, _ type: RecordType) async throws(DNSLookupError) -> [RecordData] {
        try await table.query(name, type)
    }

    /// How long each answer is held from when it is asked for.
    var ttl: Duration = .seconds(300)

    func heldAnswer(_ name: String, _ type: RecordType) -> HeldAnswer? {
        let expires = ContinuousClock.now + ttl
        do throws(DNSLookupError) {
            return HeldAnswer(.success(try table.answer(name, type, depth: 0)), expires: expires)
        } catch {
            return HeldAnswer(.failure(error), expires: expires)
        }
    }
}
