import DNSCore
import MXHarnessTestKit
import Testing
@testable import Resolver

@Suite("Answer cache")
struct AnswerCacheTests {
    static let key = AnswerCache.Key(name: "mail.sender.test", type: .a)
    static let answer: Result<[RecordData], DNSLookupError> = .success([.a(IPAddress("192.0.2.1")!)])

    @Test func anAnswerIsKeptForItsTTLAndNoLonger() {
        let cache = AnswerCache()
        let start = ContinuousClock.now
        cache.store(Self.answer, for: Self.key, ttl: 300, now: start)
        #expect(cache.answer(Self.key, now: start + .seconds(299)) == Self.answer)
        #expect(cache.answer(Self.key, now: start + .seconds(300)) == nil)
        #expect(cache.count == 0, "an expired answer is dropped when asked for")
    }

    @Test func negativeAnswersAreKeptAndFailuresNever() {
        let cache = AnswerCache()
        let start = ContinuousClock.now
        let kept: [Result<[RecordData], DNSLookupError>] = [
            .failure(.nxdomain(name: "x.test")), .failure(.nodata(name: "x.test", type: .a)),
        ]
        let failures: [Result<[RecordData], DNSLookupError>] = [
            .failure(.servfail(name: "x.test", type: .a)), .failure(.refused(name: "x.test", type: .a)),
            .failure(.timeout(name: "x.test", type: .a)), .failure(.other(name: "x.test", type: .a, reason: "broken")),
        ]
        for (index, answer) in (kept + failures).enumerated() {
            let key = AnswerCache.Key(name: "n\(index).test", type: .a)
            cache.store(answer, for: key, ttl: 60, now: start)
            #expect((cache.answer(key, now: start) != nil) == (index < kept.count), "\(answer)")
        }
    }

    @Test func aTTLOfZeroIsNotKept() {
        let cache = AnswerCache()
        cache.store(Self.answer, for: Self.key, ttl: 0)
        #expect(cache.answer(Self.key) == nil)
    }

    @Test func aFullCacheMakesRoomAndStaysBounded() {
        let cache = AnswerCache(capacity: 8)
        let start = ContinuousClock.now
        for index in 0..<4 {
            cache.store(Self.answer, for: AnswerCache.Key(name: "short\(index).test", type: .a), ttl: 1, now: start)
        }
        for index in 0..<4 {
            cache.store(Self.answer, for: AnswerCache.Key(name: "long\(index).test", type: .a), ttl: 600, now: start)
        }
        // Full: the expired ones go first, the live ones stay.
        cache.store(Self.answer, for: Self.key, ttl: 600, now: start + .seconds(2))
        #expect(cache.count == 5)
        #expect(cache.answer(AnswerCache.Key(name: "long0.test", type: .a), now: start + .seconds(2)) != nil)
        for index in 0..<20 {
            cache.store(
                Self.answer, for: AnswerCache.Key(name: "more\(index).test", type: .a), ttl: 600,
                now: start + .seconds(2))
        }
        #expect(cache.count <= 8)
    }
}

@Suite(.enabled(if: IntegrationEnvironment.canRunWorlds, IntegrationEnvironment.worldSkipReason))
struct ResolverCacheTests {
    @Test func repeatedQuestionsAreAnsweredFromTheCacheWithinTheirTTL() async throws {
        let records = try WorldFixture.records([
            "kept.sender.test. 300 IN A 192.0.2.1",
            "fleeting.sender.test. 0 IN A 192.0.2.2",
            "2001:db8:5::25 PTR mail.sender.test.",
        ])
        let spec = WorldSpec(records: records, faults: [DNSFault(name: "broken.test", kind: .servfail)])
        try await WorldFixture.withWorld(spec) { (fixture: WorldFixture) async throws -> Void in
            let dns = fixture.resolver
            #expect(dns.cachedAnswerCount == 0)
            #expect(try await dns.addresses(of: "kept.sender.test", family: .ipv4) == [IPAddress("192.0.2.1")!])
            #expect(dns.cachedAnswerCount == 1)
            #expect(try await dns.addresses(of: "KEPT.sender.test.", family: .ipv4) == [IPAddress("192.0.2.1")!])
            #expect(dns.cachedAnswerCount == 1, "the same question, normalised, is one entry")
            // TTL 0: never kept (RFC 1035 3.2.1: use only for the transaction in progress).
            #expect(try await dns.addresses(of: "fleeting.sender.test", family: .ipv4) == [IPAddress("192.0.2.2")!])
            #expect(dns.cachedAnswerCount == 1)
            // A fault is asked again every time.
            for _ in 0..<2 {
                await #expect(throws: DNSLookupError.servfail(name: "broken.test", type: .a)) {
                    try await dns.query("broken.test", .a)
                }
            }
            #expect(dns.cachedAnswerCount == 1)
            #expect(try await dns.reverseNames(of: IPAddress("2001:db8:5::25")!) == ["mail.sender.test"])
            #expect(try await dns.reverseNames(of: IPAddress("2001:db8:5::25")!) == ["mail.sender.test"])
            #expect(dns.cachedAnswerCount == 2)
        }
    }
}
