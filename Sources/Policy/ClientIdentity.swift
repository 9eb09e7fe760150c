import DNSCore
import Synchronization

/// Who the client is by DNS, as Postfix finds it at connect: the PTR names of its address and the
/// first of them whose address records (of the client's own family) include the address, the
/// forward confirmation of `reject_unknown_client_hostname`.
///
/// A pure walk: it says which answer it needs next and takes answers; the policy session feeds it
/// from its resolver (awaiting), the MX from answers its resolver already holds (at once).
public struct ClientIdentityWalk: Sendable {
    public enum Need: Sendable, Hashable {
        /// The PTR records of `name` (the client's reverse name).
        case ptr(name: String)
        /// The address records of one of the PTR names.
        case addresses(name: String, type: RecordType)
    }

    public let client: IPAddress
    public private(set) var ptr: PTRFinding?
    public private(set) var fcrdns: FCrDNSFinding?
    private var candidates: [String] = []
    private var reasons: [String] = []
    private var temporary = false

    public init(client: IPAddress) {
        self.client = client
    }

    /// The answer wanted next; nil once both findings are made.
    public var need: Need? {
        if ptr == nil { return .ptr(name: client.reverseName) }
        guard fcrdns == nil, let name = candidates.first else { return nil }
        return .addresses(name: name, type: .address(client.family))
    }

    /// Takes the answer to `need`.
    public mutating func take(_ answer: Result<[RecordData], DNSLookupError>) {
        switch need {
        case .ptr:
            takePTR(answer.map { $0.compactMap { if case .ptr(let name) = $0 { name } else { nil } } })
        case .addresses(let name, let type):
            candidates.removeFirst()
            switch answer {
            case .success(let records):
                let addresses = records.compactMap(\.address)
                if addresses.contains(client) {
                    fcrdns = FCrDNSFinding(confirmedName: name)
                    return
                }
                reasons.append("\(name) \(type): \(addresses.map(\.description).joined(separator: ", "))")
            case .failure(let error):
                temporary = temporary || error.isTemporary
                reasons.append("\(name) \(type): \(error.shortName)")
            }
            nextCandidate()
        case nil:
            break
        }
    }

    private mutating func takePTR(_ answer: Result<[String], DNSLookupError>) {
        let found: PTRFinding
        switch answer {
        case .success(let names):
            // Postfix's sane_hostaddr_to_name() (util/myaddrinfo.c) treats a PTR name that is a
            // numeric address ("numeric hostname") or not a valid hostname as no name at all.
            let sane = names.filter { IPAddress($0) == nil && DNSName.isValidHostname($0) }
            if names.isEmpty {
                found = PTRFinding(names: [], error: "NODATA")
            } else if sane.isEmpty {
                let why = names.map { IPAddress($0) != nil ? "numeric hostname \($0)" : "invalid hostname \($0)" }
                found = PTRFinding(names: [], error: why.joined(separator: ", ") + ", treated as no PTR")
            } else {
                found = PTRFinding(names: sane)
            }
        case .failure(let error):
            found = PTRFinding(names: [], error: error.shortName, isTemporary: error.isTemporary)
        }
        ptr = found
        if found.names.isEmpty {
            fcrdns = FCrDNSFinding(
                reason: found.isTemporary ? "PTR lookup: \(found.error ?? "error")" : "no PTR",
                isTemporary: found.isTemporary)
            return
        }
        candidates = Array(found.names.prefix(10))
        nextCandidate()
    }

    /// Skips names that cannot be looked up; ends the walk when none is left.
    private mutating func nextCandidate() {
        while let name = candidates.first, !DNSName.isValidHostname(name) {
            reasons.append("\(name): not a valid hostname")
            candidates.removeFirst()
        }
        if candidates.isEmpty, fcrdns == nil {
            fcrdns = FCrDNSFinding(reason: reasons.joined(separator: "; "), isTemporary: temporary)
        }
    }

    /// The walk fed from `lookup`.
    public static func run(client: IPAddress, lookup: any DNSLookup) async -> ClientIdentityWalk {
        var walk = ClientIdentityWalk(client: client)
        while let need = walk.need {
            walk.take(await Self.answer(need, from: lookup))
        }
        return walk
    }

    /// The walk fed only from answers `lookup` already holds (`DNSLookup.heldAnswer`), and when
    /// the first of them expires; nil when one is missing.
    public static func fromHeldAnswers(client: IPAddress, lookup: any DNSLookup) -> (
        walk: ClientIdentityWalk, expires: ContinuousClock.Instant
    )? {
        var walk = ClientIdentityWalk(client: client)
        var expires: ContinuousClock.Instant?
        while let need = walk.need {
            let (name, type) = need.question
            guard let held = lookup.heldAnswer(name, type) else { return nil }
            walk.take(held.result)
            expires = min(expires ?? held.expires, held.expires)
        }
        guard let expires else { return nil }
        return (walk, expires)
    }

    private static func answer(_ need: Need, from lookup: any DNSLookup) async -> Result<[RecordData], DNSLookupError> {
        let (name, type) = need.question
        do throws(DNSLookupError) {
            return .success(try await lookup.query(name, type))
        } catch {
            return .failure(error)
        }
    }
}

extension ClientIdentityWalk.Need {
    var question: (String, RecordType) {
        switch self {
        case .ptr(let name): (name, .ptr)
        case .addresses(let name, let type): (name, type)
        }
    }
}

/// Client identities made from held answers, kept until the first of those answers expires: a
/// client that connects again within that time is the same client by DNS, and its walk (names
/// built, answers looked up, PTR names checked) is not made again.
final class ClientIdentityMemo: Sendable {
    /// A kept identity: the findings a session starts with, made once and shared (a reference,
    /// so a session takes them without copying the walk and every answer in it).
    final class Entry: Sendable {
        let findings: PolicyFindings
        let expires: ContinuousClock.Instant

        init(findings: PolicyFindings, expires: ContinuousClock.Instant) {
            self.findings = findings
            self.expires = expires
        }
    }

    let capacity: Int
    private let entries = Mutex<[IPAddress: Entry]>([:])

    init(capacity: Int = 1024) {
        self.capacity = max(1, capacity)
    }

    /// The findings (PTR and FCrDNS) of `client` while they are valid at `now`, else those of
    /// the walk `make` gives (kept in turn); nil when `make` has none or its walk is unfinished.
    func identity(
        of client: IPAddress, now: ContinuousClock.Instant,
        make: () -> (walk: ClientIdentityWalk, expires: ContinuousClock.Instant)?
    ) -> Entry? {
        if let kept = entries.withLock({ $0[client] }), now < kept.expires { return kept }
        guard let (walk, expires) = make(), let ptr = walk.ptr, let fcrdns = walk.fcrdns else { return nil }
        var findings = PolicyFindings(client: client)
        findings.ptr = ptr
        findings.fcrdns = fcrdns
        let entry = Entry(findings: findings, expires: expires)
        guard now < expires else { return entry }
        entries.withLock { entries in
            if entries.count >= capacity, entries[client] == nil {
                entries = entries.filter { now < $0.value.expires }
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[client] = entry
        }
        return entry
    }

    var count: Int { entries.withLock { $0.count } }
}
