import DNSCore
import Foundation
import SPF

/// The delivery whose DNS is captured: who connects, what it says, where the mail goes.
public struct CaptureRequest: Sendable, Hashable {
    public var client: IPAddress
    public var helo: String
    /// The envelope sender; `""` is the null sender (SPF then checks the HELO name).
    public var mailFrom: String
    public var rcptTo: [String]
    /// DNSBL zones the receiver consults (the client's listing is looked up in each).
    public var dnsblZones: [String]
    /// The receiver's name for SPF's `%{r}` (explanations only).
    public var receiverName: String

    public init(
        client: IPAddress, helo: String, mailFrom: String, rcptTo: [String], dnsblZones: [String] = [],
        receiverName: String = "mx.example.test"
    ) {
        self.client = client
        self.helo = helo
        self.mailFrom = mailFrom
        self.rcptTo = rcptTo
        self.dnsblZones = dnsblZones
        self.receiverName = receiverName
    }

    /// The SPF identity: the sender's domain, or the HELO name for the null sender (RFC 7208 2.4).
    var spfDomain: String {
        guard !mailFrom.isEmpty, let domain = ReplyText.domain(of: mailFrom) else { return DNSName.normalize(helo) }
        return domain
    }
}

/// A note of the capture: something the resolver did not answer with records, or that the walk
/// could not follow, kept as a comment next to the records.
public struct CaptureNote: Sendable, Hashable, CustomStringConvertible {
    /// The name the note is about ("" for the whole capture).
    public var name: String
    public var text: String

    public var description: String { name.isEmpty ? text : "\(name): \(text)" }
}

/// The DNSSEC state a resolver gave one captured answer: `secure` (it set the AD bit) or `bogus`
/// (it answered SERVFAIL with a DNSSEC extended error).
public struct CapturedSecurity: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var type: RecordType
    public var security: DNSSecurity
    /// How the resolver said it.
    public var detail: String

    public var description: String { "\(name) \(type): \(security) (\(detail))" }
}

/// What a resolver answered for everything a receiver (and the sending MTA) would look up for one delivery.
public struct CapturedWorld: Sendable {
    public var request: CaptureRequest
    /// The records answered, in the order they were found, without duplicates.
    public var records: [ResourceRecord]
    /// Names that failed (SERVFAIL, REFUSED, timeout) for every question about them.
    public var faults: [DNSFault]
    public var notes: [CaptureNote]
    /// Every question and its answer, in order.
    public var log: [CapturedAnswer]
    /// The recipient domain's mail exchangers as found (preference order), and the addresses of each.
    public var exchangers: [(name: String, addresses: [IPAddress])]
    /// SPF's verdict for this delivery over the captured answers, as the built-in MX would reach it.
    public var spfVerdict: String

    /// What the resolver said of the answers' DNSSEC, where it said anything (`CaptureSession`).
    public var security: [CapturedSecurity] = []

    /// As a `dns` section: the records and faults, `reverse: none` (PTRs are only those captured).
    public var world: WorldSpec { WorldSpec(records: records, faults: faults, reverse: .none) }
}

/// Walks everything a receiver would look up for a delivery, through any `DNSLookup`, and keeps
/// the answers: the client's PTR and each PTR name's A and AAAA (ptr, fcrdns, SPF `ptr` and `%{p}`),
/// the HELO name's A, AAAA and MX (helo-resolves, helo-matches), the SPF record of the sender's
/// domain and every include, redirect, a, mx, exists and exp it reaches (RFC 7208 5, 6), DNSBL
/// listings, and the recipient domain's MX and their addresses (the sending MTA's side).
/// It never connects anywhere but through the lookup it is given.
public enum DNSCapture {
    /// How many SPF records the walk reads at most (RFC 7208 4.6.4 allows 10 DNS terms per evaluation; a
    /// walk follows every branch, so it gets more room, but stays finite on loops and floods).
    static let maximumSPFRecords = 40
    static let maximumExchangers = 10

    public static func capture(
        _ request: CaptureRequest, lookup: any DNSLookup, now: Int = Int(Date().timeIntervalSince1970)
    ) async -> CapturedWorld {
        let recorder = RecordingLookup(lookup)
        var notes: [CaptureNote] = []

        // The client's PTR names and their addresses in both families.
        let ptrNames = (try? await recorder.reverseNames(of: request.client)) ?? []
        for name in ptrNames.prefix(10) {
            _ = try? await recorder.query(name, .a)
            _ = try? await recorder.query(name, .aaaa)
        }

        // The HELO name, unless it is an address literal.
        let helo = DNSName.normalize(request.helo)
        if !helo.hasPrefix("["), DNSName.isValidHostname(helo) {
            for type in [RecordType.a, .aaaa, .mx] { _ = try? await recorder.query(helo, type) }
        } else if !helo.hasPrefix("[") {
            notes.append(CaptureNote(name: request.helo, text: "the HELO is no valid host name: not looked up"))
        }

        // SPF: every branch of the record, not only the one evaluation takes.
        var walk = SPFWalk(request: request, lookup: recorder, now: now)
        await walk.walk(request.spfDomain, depth: 0)
        notes += walk.notes

        // DNSBL listings.
        for zone in request.dnsblZones {
            let name = (request.client.reversedLabels + [DNSName.normalize(zone)]).joined(separator: ".")
            _ = try? await recorder.query(name, .a)
            _ = try? await recorder.query(name, .txt)
        }

        // Where the mail goes: the recipient domain's MX and their addresses (RFC 5321 5.1).
        var exchangers: [(name: String, addresses: [IPAddress])] = []
        var domains: [String] = []
        for recipient in request.rcptTo {
            if let domain = ReplyText.domain(of: recipient), !domains.contains(domain) { domains.append(domain) }
        }
        for domain in domains {
            do {
                let mx = try await recorder.mailExchangers(of: domain).sorted { $0.preference < $1.preference }
                for (_, exchange) in mx.prefix(maximumExchangers) where exchange != "." && !exchange.isEmpty {
                    exchangers.append((exchange, await addresses(of: exchange, recorder)))
                }
            } catch {
                if case .nodata = error {
                    // No MX: the domain's own addresses are the implicit MX.
                    exchangers.append((domain, await addresses(of: domain, recorder)))
                }
            }
        }

        // The evaluation itself, so that whatever it asks (the validated name of %{p}) is kept too.
        let evaluator = SPFEvaluator(lookup: recorder, receiver: request.receiverName, clock: { now })
        let verdict = await evaluator.evaluate(ip: request.client, mailFrom: request.mailFrom, helo: request.helo)

        let log = recorder.log
        var world = WorldBuilder(log: log)
        world.build()
        return CapturedWorld(
            request: request, records: world.records, faults: world.faults, notes: world.notes + notes, log: log,
            exchangers: exchangers, spfVerdict: "\(verdict.result)")
    }

    private static func addresses(of name: String, _ lookup: RecordingLookup) async -> [IPAddress] {
        var out: [IPAddress] = []
        for family in [AddressFamily.ipv6, .ipv4] {
            out += (try? await lookup.addresses(of: name, family: family)) ?? []
        }
        return out
    }
}

/// Follows an SPF record's terms through the recording lookup (RFC 7208 5, 6), expanding macros
/// for this client and sender where that can be done without evaluating (RFC 7208 7).
struct SPFWalk {
    let request: CaptureRequest
    let lookup: RecordingLookup
    let now: Int
    var notes: [CaptureNote] = []
    var visited: Set<String> = []

    init(request: CaptureRequest, lookup: RecordingLookup, now: Int) {
        self.request = request
        self.lookup = lookup
        self.now = now
    }

    mutating func walk(_ domain: String, depth: Int) async {
        let domain = DNSName.normalize(domain)
        guard SPFDomain.isValidIdentity(domain) else {
            notes.append(CaptureNote(name: domain, text: "no valid SPF domain (RFC 7208 4.3): not looked up"))
            return
        }
        guard visited.insert(domain).inserted else { return }
        guard visited.count <= DNSCapture.maximumSPFRecords, depth <= 10 else {
            notes.append(
                CaptureNote(
                    name: domain,
                    text: "not followed: the SPF walk stops after \(DNSCapture.maximumSPFRecords) records or 10 levels")
            )
            return
        }
        let texts: [String]
        do {
            texts = try await lookup.texts(of: domain)
        } catch {
            return  // the answer (NXDOMAIN, NODATA, a failure) is in the log and becomes a comment or a fault
        }
        let spf = texts.filter(SPFRecord.isSPFRecord)
        guard spf.count == 1, let text = spf.first else {
            if spf.count > 1 {
                notes.append(CaptureNote(name: domain, text: "\(spf.count) SPF records: permerror (RFC 7208 4.5)"))
            }
            return
        }
        let record: SPFRecord
        do {
            record = try SPFRecord(parsing: text)
        } catch {
            notes.append(
                CaptureNote(name: domain, text: "the SPF record does not parse (\(error)): permerror; not followed"))
            return
        }
        for directive in record.directives {
            switch directive.mechanism {
            case .include(let spec):
                if let target = expand(spec, domain: domain, term: directive.text) {
                    await walk(target, depth: depth + 1)
                }
            case .a(let spec, _):
                if let target = spec.map({ expand($0, domain: domain, term: directive.text) }) ?? domain {
                    _ = try? await lookup.query(target, .a)
                    _ = try? await lookup.query(target, .aaaa)
                }
            case .mx(let spec, _):
                if let target = spec.map({ expand($0, domain: domain, term: directive.text) }) ?? domain {
                    let exchangers = (try? await lookup.mailExchangers(of: target)) ?? []
                    // RFC 7208 4.6.4: more than 10 MX names is a permerror; the first 10 are asked.
                    for (_, exchange) in exchangers.prefix(10) where exchange != "." {
                        _ = try? await lookup.query(exchange, .a)
                        _ = try? await lookup.query(exchange, .aaaa)
                    }
                }
            case .ptr(let spec):
                // The client's PTR names and their addresses are captured for every delivery.
                if let spec, spec.usesValidatedDomain {
                    notes.append(
                        CaptureNote(
                            name: domain,
                            text:
                                "\(directive.text): %{p} needs the client's validated name; the SPF evaluation below asks what it needs"
                        ))
                }
            case .exists(let spec):
                if let target = expand(spec, domain: domain, term: directive.text) {
                    _ = try? await lookup.query(target, .a)
                }
            case .all, .ip4, .ip6:
                break
            }
        }
        if let redirect = record.redirect, let target = expand(redirect.value, domain: domain, term: redirect.text) {
            await walk(target, depth: depth + 1)
        }
        if let explanation = record.explanation,
            let target = expand(explanation.value, domain: domain, term: explanation.text)
        {
            _ = try? await lookup.query(target, .txt)
        }
    }

    /// The DNS name a domain-spec expands to for this delivery, or nil (with a note) when it cannot.
    mutating func expand(_ spec: SPFMacroString, domain: String, term: String) -> String? {
        if spec.usesValidatedDomain {
            notes.append(
                CaptureNote(
                    name: domain,
                    text:
                        "\(term): %{p} needs the client's validated name (RFC 7208 7.3); the walk does not guess it, the SPF evaluation below asks what it needs"
                ))
            return nil
        }
        let sender = request.mailFrom.isEmpty ? "postmaster@\(DNSName.normalize(request.helo))" : request.mailFrom
        let at = sender.lastIndex(of: "@")
        let local = at.map { String(sender[..<$0]) } ?? "postmaster"
        let context = SPFMacroContext(
            localPart: local.isEmpty ? "postmaster" : local, senderDomain: request.spfDomain, domain: domain,
            client: SPFEvaluator.unmapped(request.client), helo: request.helo, receiver: request.receiverName,
            timestamp: now)
        guard let name = SPFDomain.queryName(fromExpansion: spec.expand(in: context)) else {
            notes.append(
                CaptureNote(
                    name: domain, text: "\(term) expands to no valid name for this delivery: nothing to look up"))
            return nil
        }
        return name
    }
}

/// Turns the captured answers into records, faults and comments that a replay answers the same way.
struct WorldBuilder {
    let log: [CapturedAnswer]
    var records: [ResourceRecord] = []
    var faults: [DNSFault] = []
    var notes: [CaptureNote] = []

    init(log: [CapturedAnswer]) {
        self.log = log
    }

    mutating func build() {
        var seen = Set<ResourceRecord>()
        for answer in log {
            guard case .records(let data) = answer.outcome else { continue }
            for item in data {
                // A CNAME question owns its own answer; any other answer belongs to the chain's end.
                let owner = answer.type == .cname ? answer.question : answer.owner
                let record = ResourceRecord(owner: owner, data: item)
                if seen.insert(record).inserted { records.append(record) }
            }
        }
        var owners: [String] = []
        for answer in log where !owners.contains(answer.owner) { owners.append(answer.owner) }
        for owner in owners {
            let about = log.filter { $0.owner == owner && !($0.type == .cname && $0.question != owner) }
            let failures = about.compactMap { answer -> (RecordType, DNSLookupError)? in
                if case .error(let error) = answer.outcome, error.isTemporary { return (answer.type, error) }
                return nil
            }
            let hasData = records.contains { $0.owner == owner }
            let below = records.filter { $0.owner != owner && DNSName.isSubdomain($0.owner, of: owner) }.map(\.owner)
            if let (_, first) = failures.first {
                let kind = Self.faultKind(first)
                let asked = failures.map { "\($0.0)" }.joined(separator: ", ")
                if let kind, !hasData, below.isEmpty {
                    faults.append(DNSFault(name: owner, kind: kind))
                    let others = about.filter {
                        if case .error(let e) = $0.outcome { return !e.isTemporary } else { return false }
                    }
                    if !others.isEmpty {
                        notes.append(
                            CaptureNote(
                                name: owner,
                                text:
                                    "\(kind) for \(asked) but \(others.map { "\($0.type)" }.joined(separator: ", ")) answered no data; the fault replays it for every type"
                            ))
                    }
                } else {
                    let why =
                        kind == nil
                        ? "the format has no fault for it"
                        : hasData ? "a fault would hide \(owner)'s records" : "a fault would hide \(below.first ?? "")"
                    notes.append(CaptureNote(name: owner, text: "\(asked): \(first) — not replayed (\(why))"))
                }
                continue
            }
            let nxdomain = about.contains {
                if case .error(.nxdomain) = $0.outcome { return true } else { return false }
            }
            if nxdomain, !hasData {
                notes.append(CaptureNote(name: owner, text: "NXDOMAIN (absent here too)"))
                continue
            }
            let nodata = about.compactMap { answer -> RecordType? in
                if case .error(.nodata(_, let type)) = answer.outcome, type != .cname { return type }
                return nil
            }
            if !nodata.isEmpty {
                let types = nodata.map(\.rawValue).joined(separator: ", ")
                if hasData || !below.isEmpty {
                    notes.append(CaptureNote(name: owner, text: "no \(types) record (NODATA)"))
                } else {
                    // A name with no record at all would be NXDOMAIN in the replay; a record below it
                    // keeps it in existence as an empty non-terminal (RFC 8020), answering NODATA as it did.
                    let marker = ResourceRecord(
                        owner: "_exists." + owner,
                        data: .txt([
                            Array("mxharness capture: \(owner) exists with no \(types) record".utf8.prefix(255))
                        ]))
                    if seen.insert(marker).inserted { records.append(marker) }
                    notes.append(
                        CaptureNote(
                            name: owner,
                            text:
                                "exists with no \(types) record (NODATA); _exists.\(owner) keeps it from being NXDOMAIN in the replay"
                        ))
                }
            }
        }
    }

    static func faultKind(_ error: DNSLookupError) -> DNSFaultKind? {
        switch error {
        case .servfail, .bogus: .servfail
        case .refused: .refused
        case .timeout: .timeout
        case .nxdomain, .nodata, .other: nil
        }
    }
}
