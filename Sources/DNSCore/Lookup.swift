/// Why a lookup produced no data. RFC 7208 2.6 and Postfix both tell permanent absence
/// (NXDOMAIN, NODATA) apart from temporary failure (SERVFAIL, REFUSED, no answer).
public enum DNSLookupError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The name does not exist (RCODE 3).
    case nxdomain(name: String)
    /// The name exists but has no record of the type asked.
    case nodata(name: String, type: RecordType)
    /// The server answered SERVFAIL (RCODE 2).
    case servfail(name: String, type: RecordType)
    /// The server answered REFUSED (RCODE 5).
    case refused(name: String, type: RecordType)
    /// No answer came within the resolver's timeout.
    case timeout(name: String, type: RecordType)
    /// Anything else the resolver reported (a broken answer, a local failure).
    case other(name: String, type: RecordType, reason: String)
    /// A validating resolver found the answer bogus (RFC 4035 5.5): it answers SERVFAIL, as a
    /// validating recursive server does, and keeps why (libunbound's `why_bogus`).
    case bogus(name: String, type: RecordType, reason: String)

    /// NXDOMAIN and NODATA are answers; the rest are temporary errors.
    public var isTemporary: Bool {
        switch self {
        case .nxdomain, .nodata: false
        case .servfail, .refused, .timeout, .other, .bogus: true
        }
    }

    /// The rcode a stub resolver sees for this error: a bogus answer is a SERVFAIL.
    public var shortName: String {
        switch self {
        case .nxdomain: "NXDOMAIN"
        case .nodata: "NODATA"
        case .servfail: "SERVFAIL"
        case .refused: "REFUSED"
        case .timeout: "timed out"
        case .other(_, _, let reason): reason
        case .bogus(_, _, let reason): "SERVFAIL (DNSSEC bogus: \(reason))"
        }
    }

    public var description: String {
        switch self {
        case .nxdomain(let name): "\(name): NXDOMAIN"
        case .nodata(let name, let type): "\(name) \(type): NODATA"
        case .servfail(let name, let type): "\(name) \(type): SERVFAIL"
        case .refused(let name, let type): "\(name) \(type): REFUSED"
        case .timeout(let name, let type): "\(name) \(type): timed out"
        case .other(let name, let type, let reason): "\(name) \(type): \(reason)"
        case .bogus(let name, let type, let reason): "\(name) \(type): SERVFAIL (DNSSEC bogus: \(reason))"
        }
    }
}

/// Something that answers DNS questions: the libunbound resolver in production, a table in unit tests.
///
/// `query` returns the records of `type` at `name` (after following CNAMEs, as a resolver does;
/// the returned records are those of the final name) and throws `DNSLookupError` when there are none.
public protocol DNSLookup: Sendable {
    func query(_ name: String, _ type: RecordType) async throws(DNSLookupError) -> [RecordData]

    /// What `query(name, type)` would return, when the lookup holds that answer already (a cache
    /// entry within its TTL) and can give it without waiting; nil otherwise. Lets a caller on an
    /// event loop go on at once instead of starting a task for a lookup already answered.
    func heldAnswer(_ name: String, _ type: RecordType) -> HeldAnswer?

    /// `query(name, type)` with the DNSSEC security state of its answer (RFC 4035 4.3). A lookup
    /// that does not validate answers `.insecure` for everything but a bogus error.
    func securedQuery(_ name: String, _ type: RecordType) async -> SecuredAnswer
}

/// The DNSSEC security state of an answer (RFC 4035 4.3): `indeterminate` is not kept apart, a
/// validator without a trust anchor for the name answers `insecure`.
public enum DNSSecurity: String, Sendable, Hashable, Codable, CustomStringConvertible {
    /// Validated from the trust anchor down (the AD bit of a validating server).
    case secure
    /// Not validated: an unsigned or insecurely delegated zone, or a resolver that does not validate.
    case insecure
    /// Validation failed; a validating resolver answers SERVFAIL.
    case bogus

    public var description: String { rawValue }
}

/// An answer with its security state.
public struct SecuredAnswer: Sendable, Hashable {
    public var result: Result<[RecordData], DNSLookupError>
    public var security: DNSSecurity

    public init(_ result: Result<[RecordData], DNSLookupError>, security: DNSSecurity) {
        self.result = result
        self.security = security
    }

    /// Why validation failed, for a bogus answer.
    public var whyBogus: String? {
        if case .failure(.bogus(_, _, let reason)) = result { return reason }
        return nil
    }
}

/// An answer a lookup holds, and until when it may be used (its TTL from when it came).
public struct HeldAnswer: Sendable, Hashable {
    public var result: Result<[RecordData], DNSLookupError>
    public var expires: ContinuousClock.Instant

    public init(_ result: Result<[RecordData], DNSLookupError>, expires: ContinuousClock.Instant) {
        self.result = result
        self.expires = expires
    }
}

extension DNSLookup {
    public func heldAnswer(_ name: String, _ type: RecordType) -> HeldAnswer? { nil }

    public func securedQuery(_ name: String, _ type: RecordType) async -> SecuredAnswer {
        do {
            return SecuredAnswer(.success(try await query(name, type)), security: .insecure)
        } catch {
            if case .bogus = error { return SecuredAnswer(.failure(error), security: .bogus) }
            return SecuredAnswer(.failure(error), security: .insecure)
        }
    }

    /// The addresses of `name` in one family.
    public func addresses(of name: String, family: AddressFamily) async throws(DNSLookupError) -> [IPAddress] {
        try await query(name, .address(family)).compactMap(\.address)
    }

    /// The PTR names of an address.
    public func reverseNames(of address: IPAddress) async throws(DNSLookupError) -> [String] {
        try await query(address.reverseName, .ptr).compactMap {
            if case .ptr(let name) = $0 { return name }
            return nil
        }
    }

    /// The MX records of a domain as (preference, exchange).
    public func mailExchangers(of domain: String) async throws(DNSLookupError) -> [(
        preference: UInt16, exchange: String
    )] {
        try await query(domain, .mx).compactMap {
            if case .mx(let preference, let exchange) = $0 { return (preference, exchange) }
            return nil
        }
    }

    /// The TXT records of a name, each joined into one string.
    public func texts(of name: String) async throws(DNSLookupError) -> [String] {
        try await query(name, .txt).compactMap(\.text)
    }
}
