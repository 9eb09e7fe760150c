import DNSCore
import Delivery
import SMTPProtocol

/// The addresses a delivery will try, or why there are none.
public struct DestinationPlan: Sendable, Hashable {
    /// When nothing can be tried: the outcome for every recipient and a reply made up for it.
    public struct Failure: Sendable, Hashable {
        public var outcome: DeliveryOutcome
        public var reply: SMTPReply
        public var note: String
        /// `connect` when addresses exist but none can be reached; nil when DNS gave none.
        public var stage: SMTPStage? = nil
    }

    public var source: DestinationSource?
    /// Every address found, in order of trial, skipped ones included and marked.
    public var destinations: [Destination]
    public var failure: Failure?
    /// Lookup problems that did not decide anything.
    public var notes: [String]

    /// The addresses to try, in order.
    public var candidates: [Destination] { destinations.filter { $0.status == .candidate } }
}

/// Postfix smtp(8)'s destination lookup (smtp_addr.c `smtp_domain_addr`, `smtp_host_addr`) over a
/// `DNSLookup`, whose implementation follows CNAMEs.
public struct DestinationResolver: Sendable {
    public var lookup: any DNSLookup

    public init(lookup: any DNSLookup) {
        self.lookup = lookup
    }

    /// Resolves where `request` goes.
    public func resolve(_ request: DeliveryRequest) async -> DestinationPlan {
        let families = Set(request.sources.compactMap { $0.value.family == $0.key ? $0.key : nil })
        switch request.relay {
        case .host(let name):
            return await resolveHosts(
                [(nil, Self.stripBrackets(name))], source: .relay, domain: name, families: families,
                prefer: request.prefer, limit: request.limits.addressLimit)
        case .mx:
            guard let first = request.recipients.first else {
                return Self.failed(
                    .bounced, SMTPReply(code: 550, enhanced: "5.1.3", "no recipient given"), note: "no recipients",
                    source: nil)
            }
            guard let domain = Self.domain(of: first) else {
                return Self.failed(
                    .bounced, SMTPReply(code: 550, enhanced: "5.1.3", "bad address syntax: \(first)"),
                    note: "recipient \(first) has no domain", source: nil)
            }
            // A domain literal (`bob@[192.0.2.10]`) names the host itself: no MX lookup (RFC 5321 4.1.3).
            if domain.hasPrefix("["), domain.hasSuffix("]") {
                return await resolveHosts(
                    [(nil, Self.stripBrackets(domain))], source: .implicitMX, domain: domain, families: families,
                    prefer: request.prefer, limit: request.limits.addressLimit)
            }
            return await resolveMX(
                domain: domain, families: families, prefer: request.prefer, limit: request.limits.addressLimit)
        }
    }

    private func resolveMX(domain: String, families: Set<AddressFamily>, prefer: AddressPreference, limit: Int) async
        -> DestinationPlan
    {
        let exchangers: [(preference: UInt16, exchange: String)]
        do {
            exchangers = try await lookup.mailExchangers(of: domain)
        } catch {
            switch error {
            case .nodata:
                // No MX records: the domain itself is the implicit MX, preference 0 (RFC 5321 5.1).
                return await resolveHosts(
                    [(0, domain)], source: .implicitMX, domain: domain, families: families, prefer: prefer, limit: limit
                )
            case .nxdomain:
                // Postfix gets DNS_NOTFOUND for the MX query, falls back to the A/AAAA lookup of the
                // domain, and bounces with 5.4.4 in dns_lookup.c's words for the last type it asked
                // (AAAA after A with both families; seen with the real Postfix sender).
                let type = families.contains(.ipv6) ? "AAAA" : "A"
                return Self.failed(
                    .bounced,
                    SMTPReply(
                        code: 550, enhanced: "5.4.4",
                        "Host or domain name not found. Name service error for name=\(domain) type=\(type): Host not found"
                    ),
                    note: "MX lookup: NXDOMAIN", source: .mx)
            default:
                // smtp_domain_addr(): any other MX lookup failure defers with 4.4.3 (and
                // ignore_mx_lookup_error = no, so no A/AAAA fallback), in dns_lookup.c's words
                // for TRY_AGAIN; the lookup's own error follows them.
                let text =
                    "Host or domain name not found. Name service error for name=\(domain) type=MX:"
                    + " Host not found, try again (\(error))"
                return Self.failed(
                    .deferred, SMTPReply(code: 451, enhanced: "4.4.3", text),
                    note: "MX lookup: \(Self.kind(of: error))", source: .mx)
            }
        }
        // RFC 7505 3: a single MX with the root as exchange says the domain takes no mail. Postfix
        // (smtp_addr.c, DNS_NULLMX) bounces with 5.1.0 and no server reply; the code is made up as
        // for other local bounces. (RFC 7505 4.2 asks a server that refuses such mail for 556 5.1.10.)
        let isRoot: (String) -> Bool = {
            let n = DNSName.normalize($0); return n == "." || n.isEmpty
        }
        if !exchangers.isEmpty, exchangers.allSatisfy({ isRoot($0.exchange) }) {
            return Self.failed(
                .bounced, SMTPReply(code: 550, enhanced: "5.1.0", "Domain \(domain) does not accept mail (nullMX)"),
                note: "null MX", source: .mx)
        }
        var notes: [String] = []
        if exchangers.contains(where: { isRoot($0.exchange) }) {
            notes.append("MX \".\" mixed with other MX records: ignored")
        }
        // Sorted by preference; Postfix shuffles equal preferences (smtp_randomize_addresses),
        // the harness keeps DNS order so that runs repeat.
        let sorted = exchangers.enumerated()
            .filter { !isRoot($0.element.exchange) }
            .sorted { ($0.element.preference, $0.offset) < ($1.element.preference, $1.offset) }
            .map { (Optional($0.element.preference), $0.element.exchange) }
        var plan = await resolveHosts(
            sorted, source: .mx, domain: domain, families: families, prefer: prefer, limit: limit)
        plan.notes.insert(contentsOf: notes, at: 0)
        return plan
    }

    /// Looks up the addresses of each host, then orders, marks and limits them.
    private func resolveHosts(
        _ hosts: [(preference: UInt16?, name: String)], source: DestinationSource, domain: String,
        families: Set<AddressFamily>, prefer: AddressPreference, limit: Int
    ) async -> DestinationPlan {
        var found: [Destination] = []
        var notes: [String] = []
        var temporary: [String] = []
        var permanent: [String] = []
        for host in hosts {
            if let literal = IPAddress(host.name) {
                found.append(Destination(host: host.name, preference: host.preference, address: literal))
                continue
            }
            // With `any` the lookup order is the trial order within one host: A before AAAA, as
            // Postfix asks with inet_protocols = all (inet_proto.c).
            for family in prefer == .any ? [AddressFamily.ipv4, .ipv6] : [.ipv6, .ipv4] {
                do {
                    for address in try await lookup.addresses(of: host.name, family: family) {
                        found.append(
                            Destination(
                                host: DNSName.normalize(host.name), preference: host.preference, address: address))
                    }
                } catch {
                    // Lookups of a family the sender cannot use do not count, as with Postfix's
                    // inet_protocols, which keeps it from asking at all.
                    guard families.contains(family) else {
                        if error.isTemporary { notes.append("\(error) (ignored: no \(family) source address)") }
                        continue
                    }
                    if error.isTemporary { temporary.append("\(error)") } else { permanent.append("\(error)") }
                }
            }
        }

        let destinations = Self.order(found, families: families, prefer: prefer, limit: limit)
        var plan = DestinationPlan(source: source, destinations: destinations, failure: nil, notes: notes)
        if !plan.candidates.isEmpty {
            if !temporary.isEmpty { plan.notes.append(contentsOf: temporary.map { "address lookup: \($0)" }) }
            return plan
        }

        // Nothing to try.
        if source == .relay {
            // smtp_connect.c: a relayhost that does not resolve is a configuration problem; Postfix
            // defers (4.3.5) instead of bouncing.
            let why = (temporary + permanent).first ?? "no usable address"
            plan.failure = .init(
                outcome: .deferred,
                reply: SMTPReply(
                    code: 451, enhanced: temporary.isEmpty ? "4.3.5" : "4.4.3",
                    "relay host \(domain): \(why)"), note: "relay host lookup: \(why)")
        } else if let first = temporary.first {
            // smtp_addr.c: "a soft error dominates past and future hard errors".
            plan.failure = .init(
                outcome: .deferred,
                reply: SMTPReply(code: 451, enhanced: "4.4.3", "Host or domain name lookup failed: \(first)"),
                note: "address lookup: \(first)")
        } else if destinations.contains(where: { $0.status == .skippedNoSourceAddress }) {
            // A sender without a family is Postfix with inet_protocols set to the families it has
            // (as the harness configures a real Postfix sender): it never looks the other family
            // up, finds no address of its own (NODATA) and bounces with 5.4.4 (smtp_addr.c), the
            // default smtp_defer_if_no_mx_address_found = no.
            let missing = Set(destinations.map(\.family)).subtracting(families).map(\.rawValue).sorted().joined(
                separator: ", ")
            let have = families.map(\.rawValue).sorted().joined(separator: ", ")
            let text =
                source == .mx
                ? "no MX host for \(domain) has a valid address record of the sender's families (\(have))"
                : "Host or domain name not found: no \(have) address for \(domain)"
            plan.failure = .init(
                outcome: .bounced, reply: SMTPReply(code: 550, enhanced: "5.4.4", text),
                note: "every destination is \(missing), which the sender cannot reach (inet_protocols = \(have))")
        } else {
            // smtp_addr.c: no address for any MX host (or the implicit MX) is a hard error, 5.4.4.
            let why = permanent.first ?? "no address records"
            let text =
                source == .mx
                ? "no MX host for \(domain) has a valid address record (\(why))"
                : "Host or domain name not found: \(why)"
            plan.failure = .init(outcome: .bounced, reply: SMTPReply(code: 550, enhanced: "5.4.4", text), note: text)
        }
        return plan
    }

    /// Orders addresses as Postfix does: by preference, within one preference the preferred family
    /// first (`dns_rr_compare_pref_ipv6`/`_ipv4`), otherwise in lookup order (`any`, pinned);
    /// duplicates dropped. Addresses of a family without a source address are marked skipped (they
    /// take no place in the limit, as with inet_protocols). The rest is balanced between families
    /// and cut to `limit` (smtp_mx_address_limit; smtp_addr.c `smtp_balance_inet_proto`,
    /// `smtp_balance_inet_protocols = yes`, both only when the limit is above 0).
    static func order(_ found: [Destination], families: Set<AddressFamily>, prefer: AddressPreference, limit: Int)
        -> [Destination]
    {
        // An address is tried once per host, but once for each MX host that has it: Postfix
        // appends each host's addresses as they come (smtp_addr.c smtp_addr_list, dns_rr_append)
        // and removes no duplicate across hosts.
        var seen = Set<String>()
        let unique = found.filter { seen.insert(DNSName.normalize($0.host) + " " + $0.address.description).inserted }
        var sorted = unique.enumerated().sorted { lhs, rhs in
            let lp = lhs.element.preference ?? 0, rp = rhs.element.preference ?? 0
            if lp != rp { return lp < rp }
            let lf = lhs.element.family == prefer.family ? 0 : 1, rf = rhs.element.family == prefer.family ? 0 : 1
            if lf != rf { return lf < rf }
            return lhs.offset < rhs.offset
        }.map(\.element)
        for index in sorted.indices where !families.contains(sorted[index].family) {
            sorted[index].status = .skippedNoSourceAddress
        }
        let usable = sorted.indices.filter { sorted[$0].status == .candidate }
        guard limit > 0 else { return sorted }
        let kept = balance(usable.map { sorted[$0].family }, limit: limit)
        for (position, index) in usable.enumerated() where !kept.contains(position) {
            sorted[index].status = .beyondAddressLimit
        }
        return sorted
    }

    /// Which positions of a family list survive `smtp_balance_inet_proto` and the address limit.
    static func balance(_ list: [AddressFamily], limit: Int) -> Set<Int> {
        let v4 = list.filter { $0 == .ipv4 }.count, v6 = list.count - v4
        guard v4 > 0, v6 > 0, v4 + v6 > limit else { return Set(list.indices.prefix(limit)) }
        var v4Target: Int, v6Target: Int
        if v6 <= limit / 2 {
            v6Target = v6
            v4Target = limit - v6Target
        } else if v4 <= limit / 2 {
            v4Target = v4
            v6Target = limit - v4Target
        } else {
            v4Target = (limit + (list.first == .ipv4 ? 1 : 0)) / 2
            v6Target = limit - v4Target
        }
        var kept = Set<Int>()
        for (index, family) in list.enumerated() {
            if family == .ipv4, v4Target > 0 { kept.insert(index); v4Target -= 1 }
            if family == .ipv6, v6Target > 0 { kept.insert(index); v6Target -= 1 }
        }
        return kept
    }

    static func failed(_ outcome: DeliveryOutcome, _ reply: SMTPReply, note: String, source: DestinationSource?)
        -> DestinationPlan
    {
        DestinationPlan(
            source: source, destinations: [], failure: .init(outcome: outcome, reply: reply, note: note), notes: [])
    }

    /// The domain of an address: what follows the last `@`.
    static func domain(of address: String) -> String? {
        var text = Substring(address)
        if text.hasPrefix("<"), text.hasSuffix(">"), text.count >= 2 { text = text.dropFirst().dropLast() }
        guard let at = text.lastIndex(of: "@") else { return nil }
        let domain = text[text.index(after: at)...]
        guard !domain.isEmpty else { return nil }
        return domain.hasPrefix("[") ? String(domain) : DNSName.normalize(domain)
    }

    /// `[192.0.2.1]` → `192.0.2.1`, `[IPv6:2001:db8::1]` → `2001:db8::1`.
    static func stripBrackets(_ name: String) -> String {
        guard name.hasPrefix("["), name.hasSuffix("]"), name.count >= 2 else { return name }
        var inner = String(name.dropFirst().dropLast())
        if inner.lowercased().hasPrefix("ipv6:") { inner = String(inner.dropFirst(5)) }
        return inner
    }

    static func kind(of error: DNSLookupError) -> String {
        switch error {
        case .nxdomain: "NXDOMAIN"
        case .nodata: "NODATA"
        case .servfail: "SERVFAIL"
        case .refused: "REFUSED"
        case .timeout: "timeout"
        case .other(_, _, let reason): reason
        case .bogus: error.shortName
        }
    }
}
