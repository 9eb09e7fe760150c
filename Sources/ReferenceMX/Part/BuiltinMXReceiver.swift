import CertificateAuthority
import DNSCore
import Foundation
import Runner
import Scenario

/// The built-in MX (`receiver.target: builtin`): SwiftNIO serving the scenario's policy, a new one
/// for every case.
public struct BuiltinMXReceivers: ReceiverKind {
    public var target: ReceiverTarget { .builtin }
    /// Written to answer as Postfix's smtpd does.
    public var mirrors: ReceiverTarget? { .postfix }
    public var displayName: String { "the built-in MX" }

    public init() {}

    public func unsupportedReason(for scenario: ScenarioCase, settings: RunConfiguration) -> String? {
        // Its own SPF evaluator answers `spf` and `spf-pass` as policyd-spf does when a case lists
        // it (its codes, `SPFReplies.policydSPF`), the model of Postfix with policyd-spf that
        // receiver parity holds to the real one; rspamd is the real one, asked over HTTP.
        if scenario.receiver.engines.contains(.rspamd), let reason = BuiltinMXRspamd.setup.missingReason {
            return reason
        }
        return unrunEngines(of: scenario, on: "the built-in MX", runs: [.policydSPF, .rspamd])
    }

    public func makeReceiver(for scenario: ScenarioCase, settings: RunConfiguration) -> any Receiver {
        var policy = scenario.receiver.policy
        if scenario.receiver.engines.contains(.policydSPF) { policy.spfReplies = .policydSPF }
        var configuration = MXConfiguration(
            hostname: scenario.receiver.hostname, policy: policy,
            bareNewline: scenario.receiver.bareNewline ?? .normalize)
        configuration.requiresProxyHeader = scenario.receiver.proxyProtocol == .haproxy
        configuration.xclientHosts = scenario.receiver.xclientHosts
        return BuiltinMXReceiver(configuration: configuration, authority: settings.authority)
    }
}

struct BuiltinMXReceiver: Receiver {
    let configuration: MXConfiguration
    let authority: RunAuthority
    /// Its sockets close with `stop`; nothing else of it is in the namespace.
    var runsInWarmWorlds: Bool { true }

    func start(in context: CaseContext) async throws -> any RunningReceiver {
        var configuration = configuration
        let receiver = context.scenario.receiver
        if receiver.tls.starttls {
            let authority = try authority.authority()
            let protocols = receiver.tls.protocols ?? .tls1 ... .tls13
            var tls: MXTLSConfiguration?
            // The first certificate is the MX's own; others are presented on the addresses
            // `receiver.tls.listeners` gives them.
            for group in receiver.tls.certificates(hostname: receiver.hostname, addresses: receiver.addresses) {
                let certificate = try authority.certificate(group.kind, names: group.names, addresses: group.addresses)
                if tls == nil {
                    tls = try MXTLSConfiguration(
                        chainPEM: certificate.chainPEM, keyPEM: certificate.privateKeyPEM, lowest: protocols.lowerBound,
                        highest: protocols.upperBound, required: receiver.tls.required)
                } else {
                    try tls?.present(
                        chainPEM: certificate.chainPEM, keyPEM: certificate.privateKeyPEM, on: group.addresses,
                        lowest: protocols.lowerBound, highest: protocols.upperBound)
                }
            }
            configuration.tls = tls
        }
        // rspamd first, so the MX asks a scanner that listens from its first message on.
        var rspamd: BuiltinMXRspamd?
        if receiver.engines.contains(.rspamd) {
            rspamd = try await BuiltinMXRspamd.start(in: context)
            configuration.messageScanner = rspamd
        }
        let mx = ReferenceMX(
            configuration: configuration, lookup: context.receiverResolver,
            eventLoopGroup: context.eventLoopGroup,
            logger: context.logger)
        do {
            try await mx.start(listeningOn: context.scenario.receiver.addresses, port: 25, in: context.namespace)
        } catch {
            await mx.stop()
            await rspamd?.stop()
            throw error
        }
        return RunningBuiltinMX(mx: mx, rspamd: rspamd)
    }
}

/// The built-in MX listening for one case, and the rspamd it asks when the case lists it.
struct RunningBuiltinMX: RunningReceiver {
    let mx: ReferenceMX
    let rspamd: BuiltinMXRspamd?

    func evidence(of clients: [IPAddress]) async -> any ReceiverEvidence {
        // Stopping closes the listeners and waits for every session's record.
        await mx.stop()
        await rspamd?.stop()
        return BuiltinMXEvidence(
            sessions: mx.sessions, messagesAccepted: mx.messageCount, engines: rspamd?.engines ?? [])
    }

    func stop(clean: Bool) async {
        await mx.stop()
        await rspamd?.stop()
    }
}

/// The built-in MX's evidence: its record of each session (what it saw and why it decided).
public struct BuiltinMXEvidence: ReceiverEvidence {
    public var sessions: [SessionRecord]
    public var messagesAccepted: Int?
    /// What rspamd made of each message, when it ran beside the MX.
    public var engines: [EngineVerdict]

    public init(sessions: [SessionRecord], messagesAccepted: Int?, engines: [EngineVerdict] = []) {
        self.sessions = sessions
        self.messagesAccepted = messagesAccepted
        self.engines = engines
    }

    public var log: String { "" }
    public var decisions: [String] { sessions.map(\.summary) }
    public var records: [any EvidenceRecord] { sessions }
}

extension SessionRecord: EvidenceRecord {}

extension CaseResult {
    /// The built-in MX's record of each session, when it was the receiver.
    public var mxSessions: [SessionRecord] { (evidence as? BuiltinMXEvidence)?.sessions ?? [] }
}
