import DNSCore
import SMTPProtocol
import SPF

/// Evaluates a `ReceiverPolicy` for SMTP sessions, with every lookup through a `DNSLookup`.
public struct PolicyEngine: Sendable {
    public typealias SPFCheck = @Sendable (_ ip: IPAddress, _ mailFrom: String, _ helo: String) async -> SPFVerdict

    /// One reference for all of it: every connection's opening and session holds the engine.
    private final class Storage: Sendable {
        let policy: ReceiverPolicy
        let lookup: any DNSLookup
        let spf: SPFCheck
        let identities = ClientIdentityMemo()
        /// Whether the policy has no check for IPv4, for IPv6 clients; asked for every connection.
        let checksNothing: (ipv4: Bool, ipv6: Bool)
        /// Whether some check for IPv4, for IPv6 clients reads the message.
        let checksMessage: (ipv4: Bool, ipv6: Bool)

        init(policy: ReceiverPolicy, lookup: any DNSLookup, spf: @escaping SPFCheck) {
            self.policy = policy
            self.lookup = lookup
            self.spf = spf
            self.checksNothing = (policy.checks(for: .ipv4).isEmpty, policy.checks(for: .ipv6).isEmpty)
            self.checksMessage = (policy.checksMessage(for: .ipv4), policy.checksMessage(for: .ipv6))
        }
    }

    private let storage: Storage
    public var policy: ReceiverPolicy { storage.policy }
    public var lookup: any DNSLookup { storage.lookup }
    var spf: SPFCheck { storage.spf }
    var identities: ClientIdentityMemo { storage.identities }

    /// The policy runs no check for clients of `family`.
    func checksNothing(for family: AddressFamily) -> Bool {
        family == .ipv4 ? storage.checksNothing.ipv4 : storage.checksNothing.ipv6
    }

    /// Some check for clients of `family` reads the message.
    func checksMessage(for family: AddressFamily) -> Bool {
        family == .ipv4 ? storage.checksMessage.ipv4 : storage.checksMessage.ipv6
    }

    /// An engine whose SPF checks use `SPFEvaluator` with `receiver` as the `%{r}` name.
    public init(policy: ReceiverPolicy, lookup: any DNSLookup, receiver: String) {
        let evaluator = SPFEvaluator(lookup: lookup, receiver: receiver)
        self.init(
            policy: policy, lookup: lookup,
            spf: { ip, mailFrom, helo in
                await evaluator.evaluate(ip: ip, mailFrom: mailFrom, helo: helo)
            })
    }

    /// An engine with its own SPF function (tests use it to feed a verdict).
    public init(policy: ReceiverPolicy, lookup: any DNSLookup, spf: @escaping SPFCheck) {
        self.storage = Storage(policy: policy, lookup: lookup, spf: spf)
    }

    /// A session for one client connection. When the lookup already holds every answer the
    /// connect question needs, the session starts with its PTR and FCrDNS findings made, and
    /// connect is answered at once (`immediateVerdict`).
    public func session(client: IPAddress) -> PolicySession {
        session(client: client, now: .now)
    }

    func session(client: IPAddress, now: ContinuousClock.Instant) -> PolicySession {
        opening(client: client, now: now).session()
    }

    /// What is known of a connection before any question, and the answers that need no session:
    /// a server makes the `PolicySession` (an actor) only when a question needs one, which with
    /// a policy of no checks and the client's identity held is never.
    public func opening(client: IPAddress) -> PolicyOpening {
        opening(client: client, now: .now)
    }

    func opening(client: IPAddress, now: ContinuousClock.Instant) -> PolicyOpening {
        let identity = identities.identity(of: client, now: now) {
            ClientIdentityWalk.fromHeldAnswers(client: client, lookup: lookup)
        }
        return PolicyOpening(engine: self, client: client, identity: identity)
    }
}

/// A connection's policy before its first question: see `PolicyEngine.opening(client:)`.
public struct PolicyOpening: Sendable {
    public let engine: PolicyEngine
    public let client: IPAddress
    let identity: ClientIdentityMemo.Entry?
    /// The policy runs no check for the client's family.
    let checksNothing: Bool
    /// Some check for the client's family reads the message (answered at end of data).
    let checksMessage: Bool
    let rejectAt: RejectStage

    init(engine: PolicyEngine, client: IPAddress, identity: ClientIdentityMemo.Entry?) {
        self.engine = engine
        self.client = client
        self.identity = identity
        self.checksNothing = engine.checksNothing(for: client.family)
        self.checksMessage = engine.checksMessage(for: client.family)
        self.rejectAt = engine.policy.rejectAt
    }

    /// The PTR and FCrDNS findings made from answers the lookup held; nil when connect must look
    /// them up.
    public var initialFindings: PolicyFindings? { identity?.findings }

    /// `.proceed` when `PolicySession.answer(question)` would proceed without a lookup and without
    /// changing `findings` or any later answer, so the server can go on at once; nil when the
    /// question must go to the session. That is: RCPT or end of data when checks are answered at
    /// the other stage (checks that read the message are always answered at end of data), and
    /// everything but connect when the policy has no check for the client's
    /// family. Connect needs the session (PTR and FCrDNS are looked up whatever the policy) unless
    /// `initialFindings` has them.
    public func immediateVerdict(for question: SMTPPolicyQuestion) -> SMTPPolicyVerdict? {
        switch question {
        case .connect:
            // Checks answered at the greeting need the session unless there are none for this family.
            if rejectAt == .greeting, !checksNothing { return nil }
            return identity != nil ? .proceed : nil
        case .helo, .mail:
            // They note the HELO name or sender for the checks and reset their decision (and
            // answer them with reject_at: helo or mail).
            return checksNothing ? .proceed : nil
        case .rcpt:
            return rejectAt != .rcpt || checksNothing ? .proceed : nil
        case .endOfData:
            return (rejectAt != .data && !checksMessage) || checksNothing ? .proceed : nil
        }
    }

    /// The session for the questions `immediateVerdict` leaves; questions answered at once before
    /// it is made changed nothing it would have kept.
    public func session() -> PolicySession {
        PolicySession(opening: self)
    }
}

/// The policy for one connection: answers the SMTP server's questions and keeps its findings.
///
/// Postfix's `smtpd_delay_reject = yes` is the model for `reject_at: rcpt`: client, HELO and
/// sender checks run when the first RCPT arrives and are answered there; with `reject_at: data`
/// they are answered after the final dot, with `helo` and `mail` at EHLO/HELO and MAIL FROM. PTR and its forward confirmation are looked up at
/// connect whatever the policy, as Postfix does, so the decision record always has them.
public actor PolicySession {
    public nonisolated var engine: PolicyEngine { opening.engine }
    public nonisolated var client: IPAddress { opening.client }
    public internal(set) var findings: PolicyFindings
    var helo = ""
    var mailFrom = ""
    /// The decision for the current HELO and MAIL FROM, once made.
    private var decision: (check: Check, reply: SMTPReply)??
    /// What was known before the first question.
    public nonisolated let opening: PolicyOpening
    /// The findings made before the first question (PTR and FCrDNS from answers the lookup held);
    /// nil when connect must look them up.
    public nonisolated var initialFindings: PolicyFindings? { opening.initialFindings }

    init(opening: PolicyOpening) {
        self.opening = opening
        self.findings = opening.initialFindings ?? PolicyFindings(client: opening.client)
    }

    /// `PolicyOpening.immediateVerdict(for:)`.
    public nonisolated func immediateVerdict(for question: SMTPPolicyQuestion) -> SMTPPolicyVerdict? {
        opening.immediateVerdict(for: question)
    }

    var policy: ReceiverPolicy { engine.policy }
    var lookup: any DNSLookup { engine.lookup }

    /// The verdict for one question of the SMTP server state machine.
    public func answer(_ question: SMTPPolicyQuestion) async -> SMTPPolicyVerdict {
        switch question {
        case .connect:
            await lookUpClient()
            guard policy.rejectAt == .greeting, let (check, reply) = await evaluate() else { return .proceed }
            // Policy map 1.1: the failure is the reply to the connection itself, then it closes.
            return .replyAndClose(reply, cause: check.name)
        case .helo(let name, _):
            helo = name
            resetDecision()
            // Format 1.2, Postfix's smtpd_delay_reject = no with smtpd_helo_restrictions: the
            // failure answers EHLO (and the HELO a client falls back to), no envelope yet.
            guard policy.rejectAt == .helo else { return .proceed }
            mailFrom = ""
            return await verdict()
        case .mail(let reversePath, let heloName):
            if let heloName { helo = heloName }
            mailFrom = reversePath
            resetDecision()
            // smtpd_delay_reject = no with smtpd_sender_restrictions: the failure answers MAIL FROM.
            guard policy.rejectAt == .mail else { return .proceed }
            return await verdict()
        case .rcpt(_, let reversePath, let heloName):
            guard policy.rejectAt == .rcpt else { return .proceed }
            if let heloName { helo = heloName }
            if reversePath != mailFrom { mailFrom = reversePath; resetDecision() }
            return await verdict()
        case .endOfData(let message):
            guard policy.rejectAt == .data || opening.checksMessage else { return .proceed }
            if let heloName = message.helo { helo = heloName }
            if message.reversePath != mailFrom { mailFrom = message.reversePath; resetDecision() }
            if policy.rejectAt == .data, let (check, reply) = await evaluate() {
                return .reply(reply, cause: check.name)
            }
            guard let (check, reply) = await evaluateMessage(message) else { return .proceed }
            return .reply(reply, cause: check.name)
        }
    }

    /// Runs the checks for the current HELO and MAIL FROM (once) and returns the first failure.
    /// Checks that read the message are left to `evaluateMessage`.
    public func evaluate() async -> (check: Check, reply: SMTPReply)? {
        if let decision { return decision }
        findings.checks = []
        var result: (Check, SMTPReply)?
        for check in policy.checks(for: client.family) where !check.needsMessage {
            let (outcome, detail) = await run(check)
            let reply = outcome.decides ? policy.reply(for: check, outcome: outcome, client: client, helo: helo) : nil
            findings.checks.append(CheckRecord(check: check.name, outcome: outcome, detail: detail, reply: reply))
            if let reply {
                result = (check, reply)
                break
            }
        }
        findings.decidingCheck = result?.0.name
        findings.decidingReply = result?.1
        decision = .some(result)
        return result
    }

    private func verdict() async -> SMTPPolicyVerdict {
        guard let (check, reply) = await evaluate() else { return .proceed }
        return .reply(reply, cause: check.name)
    }

    private func resetDecision() {
        decision = nil
        findings.spf = nil
        findings.dkim = nil
        findings.dmarc = nil
    }

    // MARK: Checks

    private func run(_ check: Check) async -> (CheckOutcome, String) {
        switch check {
        case .ptr:
            let ptr = await ptrFinding()
            if !ptr.names.isEmpty { return (.pass, "PTR \(ptr.names.joined(separator: ", "))") }
            return (ptr.isTemporary ? .temporary : .fail, "PTR lookup: \(ptr.error ?? "no PTR")")
        case .fcrdns:
            let fcrdns = await fcrdnsFinding()
            if let name = fcrdns.confirmedName {
                return (.pass, fcrdns.reason.map { "\(name): \($0)" } ?? "\(name) resolves to \(client)")
            }
            return (fcrdns.isTemporary ? .temporary : .fail, fcrdns.reason ?? "not confirmed")
        case .heloValid:
            return Self.isValidHELO(helo)
                ? (.pass, "valid") : (.fail, "\"\(helo)\" is neither a hostname nor an address literal")
        case .heloFQDN:
            return Self.isFullyQualified(helo)
                ? (.pass, "fully qualified") : (.fail, "\"\(helo)\" is not fully qualified")
        case .heloResolves:
            return await heloResolves()
        case .heloMatches:
            return await heloMatches()
        case .spf, .spfPass:
            let verdict = await spfVerdict()
            return (check.outcome(of: verdict), verdict.description)
        case .dkim, .dmarc, .spfOrDKIM:
            // `evaluate()` leaves these to `evaluateMessage(_:)`, which has the message.
            return (.ignored, "needs the message")
        case .dnsbl(let zone):
            let query = client.reversedLabels.joined(separator: ".") + "." + zone
            var entry = DNSBLFinding(zone: zone, query: query, answers: [], error: nil)
            defer { findings.dnsbl.removeAll { $0.zone == zone }; findings.dnsbl.append(entry) }
            do {
                entry.answers = try await lookup.query(query, .a).compactMap(\.address).map(\.description)
                guard entry.isListed else { return (.pass, "\(query): no A record") }
                return (.fail, "\(query) A \(entry.answers.joined(separator: ", "))")
            } catch {
                if error.isTemporary {
                    entry.error = error.shortName
                    return (.ignored, "\(query): \(error.shortName), ignored")
                }
                return (.pass, "\(query): \(error.shortName)")
            }
        }
    }

    private func lookUpClient() async {
        _ = await fcrdnsFinding()
    }

    private func ptrFinding() async -> PTRFinding {
        if let ptr = findings.ptr { return ptr }
        await identify()
        return findings.ptr!
    }

    /// Like Postfix's `reject_unknown_client_hostname`: some PTR name must have an address record
    /// of the client's own family (A for IPv4, AAAA for IPv6) equal to the client address.
    private func fcrdnsFinding() async -> FCrDNSFinding {
        if let fcrdns = findings.fcrdns { return fcrdns }
        await identify()
        return findings.fcrdns!
    }

    private func identify() async {
        let walk = await ClientIdentityWalk.run(client: client, lookup: lookup)
        findings.ptr = walk.ptr
        findings.fcrdns = walk.fcrdns
    }

    func spfVerdict() async -> SPFVerdict {
        if let spf = findings.spf { return spf }
        let verdict = await engine.spf(client, mailFrom, helo)
        findings.spf = verdict
        return verdict
    }

    /// Postfix `reject_unknown_helo_hostname`: the name has an A, AAAA or MX record; address
    /// literals are not looked up.
    private func heloResolves() async -> (CheckOutcome, String) {
        if Self.literalAddress(helo) != nil { return (.pass, "address literal") }
        var errors: [String] = []
        var temporary = false
        for type in [RecordType.a, .aaaa, .mx] {
            do {
                let records = try await lookup.query(helo, type)
                if !records.isEmpty {
                    return (.pass, "\(helo) \(type): \(records.map(\.description).joined(separator: ", "))")
                }
            } catch {
                temporary = temporary || error.isTemporary
                errors.append("\(type): \(error.shortName)")
                // NXDOMAIN answers for every type at once.
                if case .nxdomain = error { break }
            }
        }
        return (temporary ? .temporary : .fail, "\(helo) " + errors.joined(separator: ", "))
    }

    /// The HELO is the client's address literal, or a name with an address record (of the
    /// client's family) equal to the client address.
    private func heloMatches() async -> (CheckOutcome, String) {
        if let literal = Self.literalAddress(helo) {
            return literal == client
                ? (.pass, "address literal of the client") : (.fail, "address literal \(literal) is not \(client)")
        }
        do {
            let addresses = try await lookup.addresses(of: helo, family: client.family)
            if addresses.contains(client) { return (.pass, "\(helo) resolves to \(client)") }
            return (
                .fail,
                "\(helo) \(RecordType.address(client.family)): \(addresses.map(\.description).joined(separator: ", "))"
            )
        } catch {
            return (
                error.isTemporary ? .temporary : .fail,
                "\(helo) \(RecordType.address(client.family)): \(error.shortName)"
            )
        }
    }

    // MARK: HELO syntax

    /// The address of `[192.0.2.1]`, `[IPv6:2001:db8::1]` or a bare address, else nil.
    public static func literalAddress(_ helo: String) -> IPAddress? {
        if helo.hasPrefix("["), helo.hasSuffix("]") {
            let inner = helo.dropFirst().dropLast()
            if inner.lowercased().hasPrefix("ipv6:") {
                let text = inner.dropFirst(5)
                guard let address = IPAddress(text), address.family == .ipv6 else { return nil }
                return address
            }
            guard let address = IPAddress(inner), address.family == .ipv4 else { return nil }
            return address
        }
        return IPAddress(helo)
    }

    /// Postfix `reject_invalid_helo_hostname`: a valid hostname or an address literal (RFC 5321 4.1.3).
    public static func isValidHELO(_ helo: String) -> Bool {
        if literalAddress(helo) != nil { return true }
        guard !helo.hasPrefix("["), DNSName.isValidHostname(helo) else { return false }
        // Postfix's valid_hostname() refuses an all-numeric last label ("numeric domain name").
        let last = DNSName.normalize(helo).split(separator: ".").last ?? ""
        return !last.allSatisfy(\.isNumber)
    }

    /// Postfix `reject_non_fqdn_helo_hostname`: the name has a dot inside it; address literals pass.
    public static func isFullyQualified(_ helo: String) -> Bool {
        if literalAddress(helo) != nil { return true }
        return DNSName.normalize(helo).contains(".")
    }
}
