import DNSCore
import Foundation
import Logging
import NIOCore
import Policy
import Rspamd
import Runner
import SMTPProtocol
import Sandbox
import Synchronization

/// `receiver.engines: [rspamd]` on the built-in MX: the real rspamd, a normal worker in the case's
/// namespace asked over its HTTP protocol at the end of DATA, as MTAs without milters ask it
/// (Haraka's rspamd plugin, Exim's `spamd_address ... variant=rspamd`). It is told what rspamd's
/// milter tells it for Postfix (`RspamdCheck`), and its action is answered as that milter has
/// Postfix answer it (`RspamdMilterReply`), so that the two receivers' verdicts compare.
final class BuiltinMXRspamd: MXMessageScanner {
    let daemon: RspamdDaemon
    let namespace: NetworkNamespace
    let eventLoopGroup: any EventLoopGroup
    let lookup: any DNSLookup
    /// The MX's name, which Postfix passes as `{daemon_name}` (`milter_macro_daemon_name =
    /// $myhostname`).
    let hostname: String
    /// How long a scan may take: the run's reply timeout (`RunConfiguration.replyTimeout`), as long
    /// as the sender waits for the reply to the end of DATA.
    let timeout: Duration
    private let verdicts = Mutex<[EngineVerdict]>([])

    private init(
        daemon: RspamdDaemon, namespace: NetworkNamespace, eventLoopGroup: any EventLoopGroup,
        lookup: any DNSLookup, hostname: String, timeout: Duration
    ) {
        self.daemon = daemon
        self.namespace = namespace
        self.eventLoopGroup = eventLoopGroup
        self.lookup = lookup
        self.hostname = hostname
        self.timeout = timeout
    }

    /// This machine's rspamd and the cache every instance shares, looked up once.
    static let setup = RspamdSetup.detect()

    /// Starts rspamd for the case: its folder under the case's, the world's resolver, the run's DNS
    /// timeout, the case's thresholds.
    static func start(in context: CaseContext) async throws -> BuiltinMXRspamd {
        let receiver = context.scenario.receiver
        let configuration = RspamdConfiguration(
            actions: Dictionary(uniqueKeysWithValues: receiver.rspamd.scores.map { ($0.key.rawValue, $0.value) }),
            dnsTimeoutSeconds: ResolvConf.timeoutSeconds(for: context.settings.resolverTimeout),
            nameserver: context.receiverNameserver.description, directory: context.directory + "/rspamd",
            cacheDirectory: setup.cacheDirectory, interface: .http)
        let daemon = try await RspamdDaemon.start(
            configuration, setup: setup, in: context.namespace, logger: context.logger)
        return BuiltinMXRspamd(
            daemon: daemon, namespace: context.namespace, eventLoopGroup: context.eventLoopGroup,
            lookup: context.receiverResolver, hostname: receiver.hostname,
            timeout: context.settings.replyTimeout)
    }

    func scan(_ message: SMTPMessage, session: MXScanSession) async -> MXScanVerdict {
        // Postfix's client name: the PTR name whose address records hold the client (or the name
        // XCLIENT gave), else `unknown`; looked up here when the policy had no need of it.
        var fcrdns = session.fcrdns
        if fcrdns == nil { fcrdns = await ClientIdentityWalk.run(client: session.client, lookup: lookup).fcrdns }
        let check = RspamdCheck(
            client: session.client.description, hostname: fcrdns?.confirmedName, helo: message.helo,
            mailFrom: message.reversePath, recipients: message.recipients, queueID: message.queueID,
            mtaName: hostname, tlsVersion: session.tls?.version?.rawValue, tlsCipher: session.tls?.cipher,
            message: message.data)
        switch await RspamdClient.check(check, in: namespace, eventLoopGroup: eventLoopGroup, timeout: timeout) {
        case .success(let result):
            let reply = RspamdMilterReply.reply(for: result)
            let verdict = EngineVerdict(
                engine: "rspamd", action: result.action, score: result.score, rejectScore: result.requiredScore,
                symbols: result.symbols.map { EngineVerdict.Symbol(name: $0.name, score: $0.score) },
                answered: reply != nil, messageID: message.queueID)
            verdicts.withLock { $0.append(verdict) }
            return MXScanVerdict(
                verdict: reply.map { .reply($0, cause: "rspamd") } ?? .proceed, note: verdict.description)
        case .failure(let error):
            // As Postfix with `milter_default_action = tempfail` when its milter fails.
            let verdict = EngineVerdict(
                engine: "rspamd", action: "unavailable", answered: true, messageID: message.queueID,
                text: "\(error)")
            verdicts.withLock { $0.append(verdict) }
            return MXScanVerdict(
                verdict: .reply(RspamdMilterReply.unavailable, cause: "rspamd"), note: "rspamd: \(error)")
        }
    }

    /// What rspamd made of each message, in order.
    var engines: [EngineVerdict] { verdicts.withLock { $0 } }

    func stop() async {
        await daemon.stop()
    }
}
