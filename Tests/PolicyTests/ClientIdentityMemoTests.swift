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

@Suite("Policy engine: client identities kept for their TTL")
struct ClientIdentityMemoTests {
    static func engine(_ dns: some DNSLookup) -> PolicyEngine {
        PolicyEngine(
            policy: .open, lookup: dns,
            spf: { _, _, _ in SPFVerdict(result: .none, domain: "", record: nil, matched: nil, reason: "test") })
    }

    @Test func aClientIsIdentifiedOnceUntilItsFirstAnswerExpires() {
        let dns = CountingHeldDNS(table: World.dns, ttl: .seconds(60))
        let engine = Self.engine(dns)
        let start = ContinuousClock.now
        let first = engine.session(client: World.goodV6, now: start)
        // PTR, then the AAAA of mail.sender.test.
        #expect(dns.questions == 2)
        #expect(first.initialFindings?.fcrdns?.confirmedName == "mail.sender.test")
        let again = engine.session(client: World.goodV6, now: start + .seconds(30))
        #expect(dns.questions == 2, "kept within the TTL")
        #expect(again.initialFindings == first.initialFindings)
        _ = engine.session(client: World.goodV4, now: start + .seconds(30))
        #expect(dns.questions == 4, "another client is its own entry")
        let later = engine.session(client: World.goodV6, now: start + .seconds(61))
        #expect(dns.questions == 6, "asked again once the first answer expired")
        #expect(later.initialFindings == first.initialFindings)
    }

    @Test func answersWithoutTimeLeftAreUsedButNotKept() {
        let dns = CountingHeldDNS(table: World.dns, ttl: .zero)
        let engine = Self.engine(dns)
        let start = ContinuousClock.now + .seconds(1)
        #expect(engine.session(client: World.badV4, now: start).initialFindings?.ptr?.names == [])
        #expect(engine.session(client: World.badV4, now: start).initialFindings != nil)
        #expect(dns.questions == 2)
        #expect(engine.identities.count == 0)
    }

    @Test func theMemoStaysBounded() {
        let memo = ClientIdentityMemo(capacity: 4)
        let now = ContinuousClock.now
        for last in 1...10 {
            let client = IPAddress("192.0.2.\(last)")!
            _ = memo.identity(of: client, now: now) { (ClientIdentityWalk(client: client), now + .seconds(60)) }
        }
        #expect(memo.count <= 4)
    }
}
