import DNSCore
import MXHarnessTestKit
import Synchronization
import Testing
import SPF
@testable import Policy

/// Held answers that expire `ttl` after they are asked for, counting the questions.
final class CountingHeldDNS: DNSLookup {
    let table: InMemoryDNS
    let ttl: Duration
    private let asked = Mutex(0)
    var questions: Int { asked.withLock { $0 } }

    init(table: InMemoryDNS, ttl: Duration) {
        self.table = table
        self.ttl = ttl
    }

    func query(_ name: String, _ type: RecordType) async throws(DNSLookupError) -> [RecordData] {
        try await table.query(name, type)
    }

    func heldAnswer(_ name: String, _ type: RecordType) -> HeldAnswer? {
        asked.withLock { $0 += 1 }
        do throws(DNSLookupError) {
            return HeldAnswer(.success(try table.answer(name, type, depth: 0)), expires: .now + ttl)
        } catch {
            return HeldAnswer(.failure(error), expires: .now + ttl)
        }
    }
}

@Suite("Policy engine: a client's identity from held answers")
struct ClientIdentityFromHeldAnswersTests {
    static func engine(_ dns: some DNSLookup) -> PolicyEngine {
        PolicyEngine(policy: .open, lookup: dns, spf: { _, _, _ in SPFVerdict(result: .none, domain: "", record: nil, matched: nil, reason: "test") })
    }

    @Test func eachConnectionWalksTheHeldAnswers() {
        let dns = CountingHeldDNS(table: World.dns, ttl: .seconds(60))
        let engine = Self.engine(dns)
        let first = engine.session(client: World.goodV6)
        // PTR, then the AAAA of mail.sender.test.
        #expect(dns.questions == 2)
        #expect(first.initialFindings?.fcrdns?.confirmedName == "mail.sender.test")
        let again = engine.session(client: World.goodV6)
        #expect(dns.questions == 4)
        #expect(again.initialFindings == first.initialFindings)
    }

    @Test func aClientWithoutPTRHasFindingsToo() {
        let dns = CountingHeldDNS(table: World.dns, ttl: .zero)
        let engine = Self.engine(dns)
        #expect(engine.session(client: World.badV4).initialFindings?.ptr?.names == [])
        #expect(dns.questions == 1)
    }
}
