import CertificateAuthority
import DNSCore
import DNSWorld
import Foundation
import Logging
import Policy
import Rspamd
import Runner
import Sandbox
import Scenario

/// A real Postfix as the receiver (`receiver.target: postfix`): main.cf from the scenario's policy
/// and `receiver.postfix` over the user's `--postfix-config` (`base`), or a site's whole folder
/// (`site`). In a run of many cases, cases whose configuration may be shared (`PostfixSharing`) run
/// on pooled instances (`PostfixPool`) unless `sharing` is off; every other case starts a Postfix
/// of its own.
public struct PostfixReceivers: ReceiverKind {
    public var target: ReceiverTarget { .postfix }
    public var resolvesThroughNamespaceResolvConf: Bool { true }
    public var displayName: String { "Postfix" }
    public var scenarioKeys: [ScenarioKey] { [PostfixSiteSettings.scenarioKey, PostfixDirectorySetting.scenarioKey] }
    /// `--postfix-config A.cf,B.cf` in a matrix: each main.cf is a column's `receiver.postfix`.
    public var configurationColumns: ConfigurationColumns? {
        ConfigurationColumns(option: "--postfix-config", fileKind: "main.cf", read: Self.configurationColumn(path:))
    }
    /// A user's own main.cf (`--postfix-config`), the base of every case's configuration.
    public var base: MainCF?
    /// A site's whole Postfix configuration directory (`--postfix-config-dir`); replaces each
    /// scenario's `receiver.postfix_dir`, as `--target` replaces `receiver.target`.
    public var site: PostfixSiteDirectory?
    /// Cases with the same configuration share one running instance when a run keeps a pool;
    /// false (`--fresh-postfix`) starts a new Postfix for every case.
    public var sharing: Bool
    /// Shared instances: a run's own (`ownsPool`), or one the caller keeps across runs.
    let pool: PostfixPool?
    let ownsPool: Bool

    /// `pool`: instances to share between cases across runs (the caller closes it); nil: a run
    /// makes a pool of its own when `sharing` is on.
    public init(base: MainCF? = nil, site: PostfixSiteDirectory? = nil, sharing: Bool = true, pool: PostfixPool? = nil)
    {
        self.base = base
        self.site = site
        self.sharing = sharing
        self.pool = pool
        self.ownsPool = false
    }

    private init(_ kind: PostfixReceivers, ownPool: PostfixPool) {
        self.base = kind.base
        self.site = kind.site
        self.sharing = kind.sharing
        self.pool = ownPool
        self.ownsPool = true
    }

    /// The Postfix receiver of a case: the scenario's policy and `receiver.postfix` over the user's
    /// main.cf, accepting mail for every recipient domain, with the identity keys
    /// (`receiver.proxy_protocol`, `receiver.xclient_hosts`; `PostfixIdentity`).
    public func configuration(for scenario: ScenarioCase, settings: RunConfiguration = RunConfiguration())
        -> PostfixConfiguration
    {
        var configuration = PostfixConfiguration(
            hostname: scenario.receiver.hostname, addresses: scenario.receiver.addresses,
            domains: scenario.recipientDomains,
            policy: scenario.receiver.policy, settings: scenario.receiver.postfix, base: base,
            site: site ?? scenario.receiver.postfixDirectory.map(PostfixSiteDirectory.cached(path:)),
            bareNewline: (scenario.receiver.bareNewline ?? .normalize).rawValue,
            identity: PostfixIdentity(
                upstreamProxyProtocol: scenario.receiver.proxyProtocol?.rawValue,
                xclientHosts: scenario.receiver.xclientHosts),
            tls: Self.tls(for: scenario.receiver, authority: settings.authority))
        if MilterChecks(policy: scenario.receiver.policy).isNeeded {
            configuration.worldKeyRecords = WorldKeyRecords(
                records: scenario.dns.records, faults: scenario.dns.faults, signed: scenario.dns.isSigned)
        }
        // policyd-spf answers every `spf` and `spf-pass` check, listed in `receiver.engines` or
        // not: it is how sites check SPF beside Postfix (spec 1.2, "Receivers with real policy
        // engines"), and Postfix has nothing else that does.
        configuration.engines = PostfixEngineSetup(
            runsPolicydSPF: true, policydSPF: Self.policydSPFInstallation,
            dnsTimeoutSeconds: ResolvConf.timeoutSeconds(for: settings.resolverTimeout))
        if Self.asksHeloMatches(scenario.receiver.policy) {
            configuration.heloClients = scenario.sender.addresses
            configuration.heloNameFamilies = Set(Self.heloNameAddresses(scenario).compactMap(\.data.address?.family))
        }
        if scenario.receiver.engines.contains(.rspamd) {
            configuration.rspamd = PostfixRspamdEngine(
                actions: Dictionary(
                    uniqueKeysWithValues: scenario.receiver.rspamd.scores.map { ($0.key.rawValue, $0.value) }),
                setup: Self.rspamdSetup)
        }
        return configuration
    }

    /// `receiver.tls` as Postfix settings, with the certificates the run's authority issues for
    /// the receiver (cached by the authority, so every case with the same receiver gets the same
    /// files and may share an instance); nil without STARTTLS or when no authority can be made.
    static func tls(for receiver: ReceiverSpec, authority: RunAuthority) -> PostfixTLS? {
        guard let issued = receiver.issuedCertificates(authority: authority) else { return nil }
        let certificates = issued.map { certificate in
            let key = certificate.keyPEM.hasSuffix("\n") ? certificate.keyPEM : certificate.keyPEM + "\n"
            return PostfixTLS.Certificate(keyAndChainPEM: key + certificate.chainPEM, addresses: certificate.addresses)
        }
        return PostfixTLS(
            required: receiver.tls.required, protocols: receiver.tls.protocols, certificates: certificates)
    }

    /// This machine's policyd-spf, looked up once.
    static let policydSPFInstallation = PolicydSPFInstallation.detect()

    /// This machine's rspamd and the cache its instances share, looked up once.
    static let rspamdSetup = RspamdSetup.detect()

    /// Root is `Preflight`'s question (a Postfix receiver makes the command need root).
    public func unavailableReason(settings: RunConfiguration) -> String? {
        let postfix = PostfixInstance.Options().postfixPath
        return PostfixInstance.isInstalled
            ? nil : "the Postfix receiver needs \(postfix): install Postfix (apt-get install postfix)"
    }

    public func unsupportedReason(for scenario: ScenarioCase, settings: RunConfiguration) -> String? {
        let configuration = configuration(for: scenario, settings: settings)
        return configuration.unsupportedReason ?? postfixMilterLimit(of: scenario)
            ?? Self.heloMatchesReason(scenario) ?? Self.engineReason(scenario, configuration)
    }

    static func asksHeloMatches(_ policy: ReceiverPolicy) -> Bool {
        (policy.ipv4 + policy.ipv6).contains(.heloMatches)
    }

    /// The A and AAAA records the world has for the case's HELO name.
    static func heloNameAddresses(_ scenario: ScenarioCase) -> [ResourceRecord] {
        let name = DNSName.normalize(scenario.sender.helo)
        return scenario.dns.records.filter { $0.owner == name && ($0.type == .a || $0.type == .aaaa) }
    }

    /// Why Postfix's `helo-matches` (`PolicyTranslation.heloMatchTable`) would not answer this
    /// world's HELO as the format does, or nil: it is exact for an address literal (or a bare
    /// address), and for a name with, in each family the sender has, one address record, or none
    /// while the other family has some, answered without error. smtpd_check.c has no result for
    /// "one of the name's addresses is the client's" (check_helo_a_access may not answer OK:
    /// forbid_allowlist()), and it skips a failed address lookup, so a name with several addresses
    /// in the client's family, or none at all, or behind a CNAME, a wildcard or a DNS fault, is
    /// skipped.
    static func heloMatchesReason(_ scenario: ScenarioCase) -> String? {
        guard asksHeloMatches(scenario.receiver.policy) else { return nil }
        let why = "check helo-matches on Postfix (check_helo_a_access with a table of the client's address)"
        // After a PROXY header smtpd's client is the address the header names, the sender's own
        // (smtpd_haproxy.c); after XCLIENT its HELO is the one sent after it, which the table
        // does not model.
        guard scenario.sender.identity != .xclient else {
            return "\(why) needs the sender's own address as the client's (sender.identity: socket, proxy-v1 or "
                + "proxy-v2): builtin only"
        }
        let helo = scenario.sender.helo
        if PolicySession.literalAddress(helo) != nil { return nil }
        if helo.hasPrefix("[") {
            return
                "\(why): HELO \(helo) is no address literal smtpd reads (valid_mailhost_addr), and it passes there unchecked: builtin only"
        }
        let name = DNSName.normalize(helo)
        let world = scenario.dns
        let families = heloNameAddresses(scenario).compactMap(\.data.address?.family)
        let aliased = world.records.contains { $0.owner == name && $0.type == .cname }
        let wildcard = world.records.contains {
            $0.owner.hasPrefix("*.") && name.hasSuffix(String($0.owner.dropFirst(1)))
        }
        let faulty = world.faults.contains { name == $0.name || name.hasSuffix("." + $0.name) }
        let bogus =
            world.isSigned && scenario.receiver.resolver == .validating
            && world.zones.contains { $0.state != .secure && $0.state != .insecure }
        let exact = scenario.sender.addresses.keys.allSatisfy { family in
            let own = families.filter { $0 == family }.count
            return own == 1 || (own == 0 && !families.isEmpty)
        }
        if aliased || wildcard || faulty || bogus {
            return
                "\(why): the HELO name is answered through a CNAME, a wildcard or a DNS fault, and smtpd skips a failed address lookup instead of deferring (smtpd_check.c check_server_access): builtin only"
        }
        guard exact else {
            return
                "\(why): the HELO name has no address record, or several in one family; smtpd can refuse an address that is not the client's but has no answer for \"one of them is\" (check_helo_a_access may not answer OK, smtpd_check.c forbid_allowlist): builtin only"
        }
        return nil
    }

    /// Why an engine the case needs cannot run (not installed), or one it lists is not one Postfix
    /// runs; nil when every one can.
    static func engineReason(_ scenario: ScenarioCase, _ configuration: PostfixConfiguration) -> String? {
        if let reason = spfPassNoneReason(scenario) { return reason }
        if scenario.receiver.engines.contains(.policydSPF)
            || PolicyTranslation.asksPolicydSPF(scenario.receiver.policy),
            let reason = configuration.engines.policydSPFInstallation.missingReason
        {
            return reason
        }
        if scenario.receiver.engines.contains(.rspamd), let reason = rspamdSetup.missingReason {
            return reason
        }
        return unrunEngines(of: scenario, on: "Postfix", runs: [.policydSPF, .rspamd])
    }

    /// Why Postfix cannot answer an `spf-pass` check the format's way, or nil: the format refuses
    /// every result but pass, and a domain that publishes no SPF record gives none (RFC 7208 4.5),
    /// which policyd-spf never refuses (its `SPF_Not_Pass`, also what `Reject_Not_Pass_Domains`
    /// applies, rejects fail, softfail and neutral: `spf_engine/__init__.py` `_get_resultcodes`).
    /// Only a world where that is certain is skipped: no `v=spf1` TXT record (nor a CNAME) at the
    /// checked domain (MAIL FROM's, the HELO name for `<>`), no fault over it, an unsigned world.
    static func spfPassNoneReason(_ scenario: ScenarioCase) -> String? {
        let policy = scenario.receiver.policy
        let asked = AddressFamily.allCases.contains { family in
            scenario.sender.addresses[family] != nil && (family == .ipv4 ? policy.ipv4 : policy.ipv6).contains(.spfPass)
        }
        guard asked, !scenario.dns.isSigned else { return nil }
        let mailFrom = scenario.sender.mailFrom
        let domain =
            mailFrom.isEmpty
            ? scenario.sender.helo
            : String(mailFrom[mailFrom.index(after: mailFrom.lastIndex(of: "@") ?? mailFrom.startIndex)...])
        guard !domain.hasPrefix("["), DNSName.isValidHostname(domain) else { return nil }
        let name = DNSName.normalize(domain)
        if scenario.dns.faults.contains(where: { DNSName.isSubdomain(name, of: $0.name) }) { return nil }
        let publishes = scenario.dns.records.contains { record in
            guard record.owner == name else { return false }
            if record.type == .cname { return true }  // the record may be behind it: left to run
            guard case .txt(let strings) = record.data else { return false }
            let text = String(decoding: strings.joined(), as: UTF8.self).lowercased()
            return text == "v=spf1" || text.hasPrefix("v=spf1 ")
        }
        guard !publishes else { return nil }
        return "check spf-pass on Postfix: \(name) publishes no SPF record, so its result is none, which the format's "
            + "spf-pass refuses and policyd-spf has no setting to refuse (SPF_Not_Pass and Reject_Not_Pass_Domains "
            + "refuse fail, softfail and neutral): builtin only"
    }

    /// What every Postfix receiver of a run is started with: resolv.conf's `timeout:` from the
    /// run's resolver timeout.
    static func options(_ settings: RunConfiguration) -> PostfixInstance.Options {
        PostfixInstance.Options(dnsTimeoutSeconds: ResolvConf.timeoutSeconds(for: settings.resolverTimeout))
    }

    /// `options`, with resolv.conf naming the world's validating twin when the case's receiver
    /// resolver validates in a signed world (`CaseContext.receiverNameserver`).
    static func options(_ settings: RunConfiguration, for scenario: ScenarioCase) -> PostfixInstance.Options {
        var options = options(settings)
        if scenario.dns.isSigned, scenario.receiver.resolver == .validating {
            options.nameserver = DNSWorld.validatingAddress.description
        }
        return options
    }

    /// Why a case whose configuration may be shared still gets an instance of its own: a pooled
    /// host's unbound is warm and must be able to load the case's world (`WarmDNSWorld.canLoad`),
    /// and has no validating twin.
    static func hostRefusal(for scenario: ScenarioCase) -> String? {
        if CaseContext.needsValidatingServer(scenario) {
            return
                "a validating resolver in a signed world needs the world's validating unbound, which pooled hosts lack"
        }
        return WarmDNSWorld.canLoad(scenario.dns)
            ? nil : "one fault's name lies under another's, which a warm unbound cannot load"
    }

    public func sharingKey(for scenario: ScenarioCase, settings: RunConfiguration) -> String? {
        guard pool != nil, Self.hostRefusal(for: scenario) == nil else { return nil }
        return configuration(for: scenario, settings: settings).sharingKey
    }

    public func makeReceiver(for scenario: ScenarioCase, settings: RunConfiguration) -> any Receiver {
        let configuration = configuration(for: scenario, settings: settings)
        if let pool, Self.hostRefusal(for: scenario) == nil, let key = configuration.sharingKey {
            return PooledPostfixReceiver(
                configuration: configuration, key: key, options: Self.options(settings), world: scenario.dns, pool: pool
            )
        }
        let reason =
            pool == nil
            ? "sharing is off" : configuration.sharingRefusal ?? Self.hostRefusal(for: scenario) ?? "not shareable"
        return PrivatePostfixReceiver(
            configuration: configuration, options: Self.options(settings, for: scenario), pool: pool,
            privateReason: reason,
            runsInWarmWorlds: !CaseContext.needsValidatingServer(scenario))
    }

    public func scopedToRun(jobs: Int, cases: [ScenarioCase], settings: RunConfiguration) -> any ReceiverKind {
        guard pool == nil, sharing,
            cases.contains(where: { (settings.target ?? $0.receiver.target ?? .builtin) == target })
        else { return self }
        return PostfixReceivers(self, ownPool: PostfixPool(capacity: jobs))
    }

    public func closeRun() async {
        if ownsPool, let pool { await pool.close() }
    }
}

/// Turns the configuration's "no Postfix equivalent" into a skip.
private func translated(_ error: any Error) -> any Error {
    if let error = error as? PostfixConfigurationError, let reason = error.unsupportedReason {
        return CaseSkipped(reason: reason)
    }
    return error
}

/// A Postfix started in the case's own namespace (a warm slot's, when the run keeps them) and
/// stopped with it.
struct PrivatePostfixReceiver: Receiver {
    let configuration: PostfixConfiguration
    let options: PostfixInstance.Options
    let pool: PostfixPool?
    let instanceUse: ReceiverInstanceUse?

    /// `PostfixInstance.stop` leaves no process of the instance and no `/etc/netns/NAME`; false
    /// when the case needs a fresh world's validating twin.
    let runsInWarmWorlds: Bool

    init(
        configuration: PostfixConfiguration, options: PostfixInstance.Options, pool: PostfixPool?,
        privateReason: String,
        runsInWarmWorlds: Bool = true
    ) {
        self.runsInWarmWorlds = runsInWarmWorlds
        self.configuration = configuration
        self.options = options
        self.pool = pool
        self.instanceUse = ReceiverInstanceUse(
            instance: PostfixInstanceNumbers.next(), reused: false, privateReason: privateReason)
    }

    func start(in context: CaseContext) async throws -> any RunningReceiver {
        if let pool { await pool.countPrivateInstance() }
        do {
            return RunningPrivatePostfix(
                postfix: try await PostfixInstance.start(
                    configuration, in: context.namespace, caseDirectory: context.directory, options: options,
                    logger: context.logger))
        } catch {
            throw translated(error)
        }
    }
}

/// A case's own Postfix, running.
struct RunningPrivatePostfix: RunningReceiver {
    let postfix: PostfixInstance

    func evidence(of clients: [IPAddress]) async -> any ReceiverEvidence {
        // Every session's `disconnect from` line written before the instance stops: an smtpd still
        // closing its milters (rspamd's) when master is stopped logs none, and the case's count of
        // accepted messages would be unknown. Then stopped, so every line of the case is in the log.
        _ = await postfix.settle(since: .start, timeout: .seconds(2))
        await postfix.stop()
        let lines = postfix.caseLog(clients: clients)
        let log = lines.joined(separator: "\n")
        // What the decision milter made of OpenDKIM's and OpenDMARC's results, after Postfix's lines,
        // then rspamd's score and symbols for each message it scanned.
        let decisions = postfix.milters?.decisionLines.map { "milter decision: " + $0 } ?? []
        let scans = postfix.rspamd?.scans ?? []
        let spf = PolicydSPFVerdicts.verdicts(in: lines)
        return LogEvidence(
            log: ([log] + decisions + scans.map(\.description)).filter { !$0.isEmpty }.joined(separator: "\n"),
            messagesAccepted: PostfixLog.messagesAccepted(inSessionLog: log), engines: spf + scans.map(\.verdict))
    }

    func failureEvidence() async -> (any ReceiverEvidence)? {
        LogEvidence(log: postfix.log.joined(separator: "\n"))
    }

    func stop(clean: Bool) async {
        await postfix.stop()
    }
}

/// A case on a pooled host: the host's namespace gets this case's client addresses (and loses the
/// previous case's), the host's warm unbound is loaded with the case's world, and only the log
/// lines after a mark taken at check-out are the case's. The host goes back to the pool when the
/// case ran cleanly and the instance has settled (`PostfixInstance.settle`, `isHealthy`);
/// otherwise it is stopped.
struct PooledPostfixReceiver: Receiver {
    let configuration: PostfixConfiguration
    let key: String
    let options: PostfixInstance.Options
    let world: WorldSpec
    let pool: PostfixPool

    func lend(clientAddresses: [IPAddress]) async throws -> LentReceiver? {
        let lease: (host: PostfixHost, reused: Bool, reloaded: Bool)
        do {
            lease = try await pool.checkOut(configuration, key: key, options: options)
        } catch {
            throw translated(error)
        }
        let running = LentPostfix(host: lease.host, mark: lease.host.instance.logMark(), pool: pool)
        do {
            try await lease.host.prepare(clients: clientAddresses, world: world)
        } catch {
            await running.stop(clean: false)
            throw error
        }
        return LentReceiver(
            namespace: lease.host.namespace, dns: lease.host.dns, running: running,
            instanceUse: ReceiverInstanceUse(
                instance: lease.host.number, reused: lease.reused, privateReason: nil, reloaded: lease.reloaded))
    }

    /// Not called: `lend` lends a running host or throws, and a lent receiver is not started.
    func start(in context: CaseContext) async throws -> any RunningReceiver {
        throw PooledStartError()
    }
}

/// A pooled receiver was asked to start instead of being lent (a defect of the runner, reported as
/// the case's error rather than a crash).
struct PooledStartError: Error, CustomStringConvertible {
    var description: String { "a pooled Postfix receiver is lent its host, never started in a case's own world" }
}

/// A pooled host lent to one case, from the log mark taken at check-out.
final class LentPostfix: RunningReceiver, @unchecked Sendable {
    let host: PostfixHost
    let mark: PostfixLogMark
    let pool: PostfixPool
    // Set by `evidence`, read by `stop`, both from the task that runs the case: the host may serve
    // the next case only when this one's smtpd processes ended and it stayed healthy.
    private var settledCleanly = false

    init(host: PostfixHost, mark: PostfixLogMark, pool: PostfixPool) {
        self.host = host
        self.mark = mark
        self.pool = pool
    }

    func evidence(of clients: [IPAddress]) async -> any ReceiverEvidence {
        // Every smtpd of this case gone (so none carries its caches into the next case) and its
        // log lines written, before they are read and before the host serves anyone else.
        let settled = await host.instance.settle(since: mark)
        settledCleanly = settled && host.instance.isHealthy(since: mark)
        let lines = host.instance.caseLog(clients: clients, since: mark)
        let log = lines.joined(separator: "\n")
        return LogEvidence(
            log: log, messagesAccepted: PostfixLog.messagesAccepted(inSessionLog: log),
            engines: PolicydSPFVerdicts.verdicts(in: lines))
    }

    func failureEvidence() async -> (any ReceiverEvidence)? {
        LogEvidence(log: host.instance.log(since: mark).lines.joined(separator: "\n"))
    }

    func stop(clean: Bool) async {
        await pool.checkIn(host, reusable: clean && settledCleanly)
    }
}

extension PostfixReceivers {
    /// A user's main.cf as a matrix column: its parameters (a later duplicate wins) become the
    /// column's `receiver.postfix`.
    static func configurationColumn(path: String) throws(ConfigurationFileError) -> ReceiverConfigurationFile {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigurationFileError(
                "\(path): cannot read the Postfix configuration: \(error.localizedDescription)")
        }
        let mainCF: MainCF
        do { mainCF = try MainCF.parse(text, source: path) } catch { throw ConfigurationFileError(error.description) }
        let count = mainCF.names.count
        return ReceiverConfigurationFile(
            path: path, key: PostfixSiteSettings.scenarioKey.name,
            settings: PostfixSiteSettings(
                Dictionary(mainCF.parameters.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })),
            summary: "Postfix main.cf \(path) (\(count) parameter\(count == 1 ? "" : "s"))")
    }
}
