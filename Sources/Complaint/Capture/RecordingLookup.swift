import DNSCore
import Foundation

/// One question the capture asked and what it got, attributed to the name that owns the answer:
/// the end of the CNAME chain the question's name starts.
public struct CapturedAnswer: Sendable, Hashable, CustomStringConvertible {
    public enum Outcome: Sendable, Hashable {
        case records([RecordData])
        case error(DNSLookupError)
    }

    /// The name asked about.
    public var question: String
    public var type: RecordType
    /// The name the answer belongs to (the question, or the end of its CNAME chain).
    public var owner: String
    public var outcome: Outcome

    public var description: String {
        switch outcome {
        case .records(let records): "\(question) \(type): \(records.map(\.description).joined(separator: ", "))"
        case .error(let error): "\(question) \(type): \(error)"
        }
    }
}

/// A `DNSLookup` that forwards every question to another one and keeps every answer, asking for
/// each new name's CNAME first so that a chain is recorded link by link (a lookup follows CNAMEs
/// and returns only the records at the chain's end). Repeated questions are answered from what was kept.
final class RecordingLookup: DNSLookup, @unchecked Sendable {
    let upstream: any DNSLookup
    private let lock = NSLock()
    private var answers: [CapturedAnswer] = []
    private var cache: [String: Result<[RecordData], DNSLookupError>] = [:]
    /// RFC 1034 3.6.2 allows chains; resolvers give up after a handful of links (unbound: 8 or so).
    static let maximumChain = 8

    init(_ upstream: any DNSLookup) {
        self.upstream = upstream
    }

    /// Everything asked so far, in order.
    var log: [CapturedAnswer] { lock.withLock { answers } }

    func query(_ name: String, _ type: RecordType) async throws(DNSLookupError) -> [RecordData] {
        let name = DNSName.normalize(name)
        if let cached = lock.withLock({ cache[key(name, type)] }) { return try cached.get() }
        let owner = type == .cname ? name : await chainEnd(name)
        let result: Result<[RecordData], DNSLookupError>
        do {
            result = .success(try await upstream.query(name, type))
        } catch {
            result = .failure(error)
        }
        keep(name, type, owner: owner, result)
        return try result.get()
    }

    /// Follows `name`'s CNAMEs, asking for each link once; the last name reached.
    private func chainEnd(_ name: String) async -> String {
        var current = name
        var seen: Set<String> = [name]
        for _ in 0..<Self.maximumChain {
            let result = await cname(current)
            guard case .success(let records) = result, case .cname(let target)? = records.first else { return current }
            // A loop ends where it started again; the records kept show it.
            guard seen.insert(target).inserted else { return current }
            current = target
        }
        return current
    }

    private func cname(_ name: String) async -> Result<[RecordData], DNSLookupError> {
        if let cached = lock.withLock({ cache[key(name, .cname)] }) { return cached }
        let result: Result<[RecordData], DNSLookupError>
        do {
            result = .success(try await upstream.query(name, .cname))
        } catch {
            result = .failure(error)
        }
        keep(name, .cname, owner: name, result)
        return result
    }

    private func keep(_ name: String, _ type: RecordType, owner: String, _ result: Result<[RecordData], DNSLookupError>)
    {
        let outcome: CapturedAnswer.Outcome
        switch result {
        case .success(let records): outcome = .records(records)
        case .failure(let error): outcome = .error(error)
        }
        lock.withLock {
            guard cache[key(name, type)] == nil else { return }
            cache[key(name, type)] = result
            answers.append(CapturedAnswer(question: name, type: type, owner: owner, outcome: outcome))
        }
    }

    private func key(_ name: String, _ type: RecordType) -> String { "\(name) \(type)" }
}
