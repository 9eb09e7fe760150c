import DNSCore

/// One run of RFC 7208 `check_host()`, with the state its limits need across `include` and
/// `redirect`: DNS-querying terms, void lookups, and the client's validated names (looked up once).
/// Plain async code over `DNSLookup`; the only I/O is the lookup.
struct CheckHost {
    /// RFC 7208 4.6.4: at most 10 terms that query DNS (include, a, mx, ptr, exists, redirect).
    static let maximumDNSTerms = 10
    /// RFC 7208 4.6.4: at most 2 terms whose lookup finds nothing (NXDOMAIN or no records).
    static let maximumVoidLookups = 2
    /// RFC 7208 4.6.4: an `mx` term may look up the addresses of at most 10 exchanges.
    static let maximumMXNames = 10
    /// RFC 7208 4.6.4: `ptr` and `%{p}` look at no more than 10 PTR names.
    static let maximumPTRNames = 10

    let lookup: any DNSLookup
    /// The client, already IPv4 when it came as IPv4-mapped IPv6 (RFC 7208 5).
    let client: IPAddress
    let localPart: String
    let senderDomain: String
    let helo: String
    let receiver: String
    let timestamp: Int

    private(set) var dnsTerms = 0
    private(set) var voidLookups = 0
    /// The record of the domain `check_host()` started at, for the verdict of an error.
    private(set) var rootRecord: String?
    private var reverse: ReverseNames?

    init(
        lookup: any DNSLookup, client: IPAddress, localPart: String, senderDomain: String, helo: String,
        receiver: String, timestamp: Int
    ) {
        self.lookup = lookup
        self.client = client
        self.localPart = localPart
        self.senderDomain = senderDomain
        self.helo = helo
        self.receiver = receiver
        self.timestamp = timestamp
    }

    /// `check_host()` for `domain`. `explain` asks for the `exp=` text of a `fail`; an `include`
    /// does not, since the included domain's explanation is never used (RFC 7208 6.2).
    mutating func evaluate(domain: String, explain: Bool, depth: Int = 0) async throws(CheckHostAbort)
        -> CheckHostDecision
    {
        let name = SPFDomain.withoutTrailingDot(domain)
        if let problem = SPFDomain.identityProblem(name) {
            return CheckHostDecision(
                result: .none, reason: "\"\(domain)\" is no domain SPF can look up: \(problem) (RFC 7208 4.3)")
        }
        guard let text = try await fetchRecord(name) else {
            return CheckHostDecision(result: .none, reason: "no SPF record at \(name)")
        }
        if depth == 0 { rootRecord = text }
        let record: SPFRecord
        do {
            record = try SPFRecord(parsing: text)
        } catch {
            throw .permerror("syntax error in the SPF record of \(name), \(error)")
        }

        for directive in record.directives {
            let detail: String?
            do throws(CheckHostAbort) {
                detail = try await match(directive, domain: name, depth: depth)
            } catch {
                throw error.inside(directive.text)
            }
            guard let detail else { continue }
            let result = directive.qualifier.result
            let explanation = result == .fail && explain ? await explanation(of: record, domain: name) : nil
            return CheckHostDecision(
                result: result, record: text, matched: directive.text,
                reason: "\(client) matches \(directive.text) in the SPF record of \(name)\(detail)",
                explanation: explanation)
        }

        if let redirect = record.redirect {
            do throws(CheckHostAbort) {
                try countDNSTerm(redirect.text, at: name)
                let expanded = await expand(redirect.value, domain: name)
                let target = SPFDomain.queryName(fromExpansion: expanded) ?? expanded
                let inner = try await evaluate(domain: target, explain: explain, depth: depth + 1)
                guard inner.result != .none else {
                    // RFC 7208 6.1: a redirect to a domain without an SPF record is a permerror.
                    throw .permerror("redirect target has no SPF record: \(inner.reason)")
                }
                return CheckHostDecision(
                    result: inner.result, record: text, matched: redirect.text,
                    reason: "\(redirect.text) in the SPF record of \(name): \(inner.reason)",
                    explanation: inner.explanation)
            } catch {
                throw error.inside(redirect.text)
            }
        }

        return CheckHostDecision(
            result: .neutral, record: text, matched: "default",
            reason:
                "no mechanism in the SPF record of \(name) matches \(client); the default result is neutral (RFC 7208 4.7)"
        )
    }

    // MARK: - Mechanisms (RFC 7208 5)

    /// Nil when the mechanism does not match; otherwise a detail for the reason (possibly empty).
    private mutating func match(_ directive: SPFDirective, domain: String, depth: Int) async throws(CheckHostAbort)
        -> String?
    {
        let term = directive.text
        if directive.mechanism.queriesDNS { try countDNSTerm(term, at: domain) }
        switch directive.mechanism {
        case .all:
            return ""

        case .ip4(let network, let length), .ip6(let network, let length):
            // An IPv4 client never matches ip6, an IPv6 client never ip4 (RFC 7208 5.6).
            return client.isInside(network, prefixLength: length) ? "" : nil

        case .include(let spec):
            let expanded = await expand(spec, domain: domain)
            let target = SPFDomain.queryName(fromExpansion: expanded) ?? expanded
            let inner = try await evaluate(domain: target, explain: false, depth: depth + 1)
            // RFC 7208 5.2: pass matches; fail, softfail, neutral do not; none is a permerror;
            // temperror and permerror arrive here thrown and go on up unchanged.
            switch inner.result {
            case .pass: return ", where \(inner.reason)"
            case .none: throw .permerror("include of a domain without SPF record (RFC 7208 5.2): \(inner.reason)")
            default: return nil
            }

        case .a(let spec, let cidr):
            guard let target = await target(spec, domain: domain) else { return nil }
            let addresses = try await query(
                target, .address(client.family), term: term, domain: domain, countsAsVoid: true
            )
            .compactMap(\.address)
            let length = cidr.length(for: client.family)
            return addresses.first { client.isInside($0, prefixLength: length) }.map { " (\(target) has \($0))" }

        case .mx(let spec, let cidr):
            guard let target = await target(spec, domain: domain) else { return nil }
            let answers = try await query(target, .mx, term: term, domain: domain, countsAsVoid: true)
            // Sorted by preference for a stable order; a null MX (RFC 7505, exchange ".") names no host.
            let exchanges = answers.compactMap { data -> (UInt16, String)? in
                guard case .mx(let preference, let exchange) = data else { return nil }
                let name = SPFDomain.withoutTrailingDot(exchange)
                return name.isEmpty ? nil : (preference, name)
            }.sorted { $0.0 < $1.0 }.map(\.1)
            guard exchanges.count <= Self.maximumMXNames else {
                throw .permerror(
                    "\(target) has \(exchanges.count) MX names, more than the \(Self.maximumMXNames) an mx mechanism may look up (RFC 7208 4.6.4)"
                )
            }
            let length = cidr.length(for: client.family)
            for exchange in exchanges {
                let addresses = try await query(
                    exchange, .address(client.family), term: term, domain: domain, countsAsVoid: false
                )
                .compactMap(\.address)
                if let hit = addresses.first(where: { client.isInside($0, prefixLength: length) }) {
                    return " (MX \(exchange) of \(target) has \(hit))"
                }
            }
            return nil

        case .ptr(let spec):
            guard let target = await target(spec, domain: domain) else { return nil }
            let names = await reverseNames()
            if names.void { try countVoidLookup(term, at: domain) }
            let wanted = DNSName.normalize(target)
            return names.validated.first { $0 == wanted || $0.hasSuffix("." + wanted) }.map {
                " (validated name \($0))"
            }

        case .exists(let spec):
            guard let target = await target(spec, domain: domain) else { return nil }
            // RFC 7208 5.7: always an A query, whatever the client's family.
            let answers = try await query(target, .a, term: term, domain: domain, countsAsVoid: true)
            return answers.isEmpty ? nil : " (\(target) has an A record)"
        }
    }

    // MARK: - Limits (RFC 7208 4.6.4)

    private mutating func countDNSTerm(_ term: String, at domain: String) throws(CheckHostAbort) {
        dnsTerms += 1
        if dnsTerms > Self.maximumDNSTerms {
            throw .permerror(
                "more than \(Self.maximumDNSTerms) DNS-querying terms (the \(dnsTerms)th is \(term) in the SPF record of \(domain); RFC 7208 4.6.4)"
            )
        }
    }

    private mutating func countVoidLookup(_ term: String, at domain: String) throws(CheckHostAbort) {
        voidLookups += 1
        if voidLookups > Self.maximumVoidLookups {
            throw .permerror(
                "more than \(Self.maximumVoidLookups) void lookups (the last was \(term) in the SPF record of \(domain); RFC 7208 4.6.4)"
            )
        }
    }

    // MARK: - DNS

    /// The records of `type` at `name`; none for NXDOMAIN or NODATA (a void lookup when `countsAsVoid`),
    /// `temperror` for anything else (RFC 7208 5: DNS errors other than RCODE 3).
    private mutating func query(_ name: String, _ type: RecordType, term: String, domain: String, countsAsVoid: Bool)
        async throws(CheckHostAbort) -> [RecordData]
    {
        var answers: [RecordData] = []
        do {
            answers = try await lookup.query(name, type)
        } catch {
            if error.isTemporary { throw .temperror("temporary error: \(error)") }
        }
        if answers.isEmpty, countsAsVoid { try countVoidLookup(term, at: domain) }
        return answers
    }

    /// The one SPF record at `name` (RFC 7208 4.4, 4.5): nil when there is none, permerror for several.
    private mutating func fetchRecord(_ name: String) async throws(CheckHostAbort) -> String? {
        let texts = try await query(name, .txt, term: "", domain: name, countsAsVoid: false).compactMap(\.text)
        let records = texts.filter(SPFRecord.isSPFRecord)
        guard records.count <= 1 else {
            throw .permerror("\(records.count) SPF records at \(name) (RFC 7208 4.5 allows one)")
        }
        return records.first
    }

    private struct ReverseNames {
        /// The PTR lookup found nothing (NXDOMAIN or no records).
        var void: Bool
        /// Names whose address records include the client, in PTR order, normalized.
        var validated: [String]
    }

    /// RFC 7208 5.5: the client's PTR names, at most 10, each kept when one of its addresses is the
    /// client. A DNS error on the PTR lookup means no names; one on an address lookup skips that name.
    private mutating func reverseNames() async -> ReverseNames {
        if let reverse { return reverse }
        var result = ReverseNames(void: false, validated: [])
        do {
            let names = try await lookup.reverseNames(of: client)
            result.void = names.isEmpty
            for name in names.prefix(Self.maximumPTRNames) {
                guard let addresses = try? await lookup.addresses(of: name, family: client.family) else { continue }
                if addresses.contains(client) { result.validated.append(DNSName.normalize(name)) }
            }
        } catch {
            result.void = !error.isTemporary
        }
        reverse = result
        return result
    }

    /// `%{p}` (RFC 7208 7.3): the domain itself when validated, else a validated subdomain of it, else any validated name.
    private mutating func validatedDomain(for domain: String) async -> String? {
        let names = await reverseNames().validated
        let wanted = DNSName.normalize(domain)
        return names.first { $0 == wanted } ?? names.first { $0.hasSuffix("." + wanted) } ?? names.first
    }

    // MARK: - Macros and explanations

    private mutating func expand(_ string: SPFMacroString, domain: String) async -> String {
        var context = SPFMacroContext(
            localPart: localPart, senderDomain: senderDomain, domain: domain, client: client,
            helo: helo, receiver: receiver, timestamp: timestamp)
        if string.usesValidatedDomain { context.validatedDomain = await validatedDomain(for: domain) }
        return string.expand(in: context)
    }

    /// The name a mechanism queries: its expanded domain-spec, or the current domain without one.
    /// Nil when the expansion is no usable DNS name, which makes the mechanism not match.
    private mutating func target(_ spec: SPFMacroString?, domain: String) async -> String? {
        guard let spec else { return domain }
        return SPFDomain.queryName(fromExpansion: await expand(spec, domain: domain))
    }

    /// RFC 7208 6.2: the expanded TXT record `exp=` names. Any DNS error, no record, several records,
    /// or a bad explain-string means no explanation. Its lookups count against no limit.
    private mutating func explanation(of record: SPFRecord, domain: String) async -> String? {
        guard let modifier = record.explanation, let target = await target(modifier.value, domain: domain) else {
            return nil
        }
        guard let answers = try? await lookup.query(target, .txt) else { return nil }
        let texts = answers.compactMap(\.text)
        guard texts.count == 1, let explainString = try? SPFMacroString(parsing: texts[0], as: .explanation) else {
            return nil
        }
        return await expand(explainString, domain: domain)
    }
}
