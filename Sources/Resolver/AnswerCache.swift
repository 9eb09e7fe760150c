import DNSCore
import Synchronization

/// Answers already had, kept for as long as their TTL allows, so that a question asked again is
/// answered on the caller's thread: no hand-off to the resolver's worker thread and libunbound's
/// own thread and back, where most of a lookup's time goes in threads waking each other.
///
/// It keeps what libunbound's own cache would return anyway: positive answers for their TTL
/// (RFC 1035 3.2.1) and NXDOMAIN/NODATA for the negative TTL libunbound reports, which it takes
/// from the SOA (RFC 2308 section 5). Failures (SERVFAIL, REFUSED, timeouts) are never kept, so a
/// fault is seen on every lookup, as libunbound would see it.
final class AnswerCache: Sendable {
    struct Key: Hashable, Sendable {
        var name: String
        var type: RecordType
    }

    private struct Entry: Sendable {
        var answer: Result<[RecordData], DNSLookupError>
        var security: DNSSecurity
        var expires: ContinuousClock.Instant
    }

    let capacity: Int
    private let entries = Mutex<[Key: Entry]>([:])

    init(capacity: Int = 4096) {
        self.capacity = max(1, capacity)
    }

    /// The kept answer to `key`, if its TTL has not run out at `now`.
    func answer(_ key: Key, now: ContinuousClock.Instant = .now) -> Result<[RecordData], DNSLookupError>? {
        held(key, now: now)?.result
    }

    /// The kept answer to `key` with its security state, if its TTL has not run out at `now`.
    func securedAnswer(_ key: Key, now: ContinuousClock.Instant = .now) -> SecuredAnswer? {
        entries.withLock { entries in
            guard let entry = entries[key], now < entry.expires else { return nil }
            return SecuredAnswer(entry.answer, security: entry.security)
        }
    }

    /// The kept answer to `key` with its expiry, if its TTL has not run out at `now`.
    func held(_ key: Key, now: ContinuousClock.Instant = .now) -> HeldAnswer? {
        entries.withLock { entries in
            guard let entry = entries[key] else { return nil }
            guard now < entry.expires else {
                entries.removeValue(forKey: key)
                return nil
            }
            return HeldAnswer(entry.answer, expires: entry.expires)
        }
    }

    /// Keeps `answer` for `ttl` seconds from `now` when it may be kept at all (see the type).
    func store(
        _ answer: Result<[RecordData], DNSLookupError>, security: DNSSecurity = .insecure, for key: Key, ttl: Int,
        now: ContinuousClock.Instant = .now
    ) {
        guard ttl > 0, Self.isCacheable(answer) else { return }
        let entry = Entry(answer: answer, security: security, expires: now + .seconds(ttl))
        entries.withLock { entries in
            if entries.count >= capacity, entries[key] == nil {
                entries = entries.filter { now < $0.value.expires }
                // Still full of live answers: start over rather than track use order; a miss only
                // costs one trip through libunbound, which has the answer cached itself.
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[key] = entry
        }
    }

    var count: Int { entries.withLock { $0.count } }

    static func isCacheable(_ answer: Result<[RecordData], DNSLookupError>) -> Bool {
        switch answer {
        case .success: true
        case .failure(.nxdomain), .failure(.nodata): true
        case .failure: false
        }
    }
}
