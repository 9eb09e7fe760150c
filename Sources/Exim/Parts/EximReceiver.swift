import CertificateAuthority
import DNSCore
import Foundation
import Runner
import Sandbox
import Scenario

/// A real Exim as the receiver (`receiver.target: exim`): the policy as ACLs with the scenario's
/// `receiver.exim`, or the user's `--exim-config`; a private daemon in every case's namespace.
public struct EximReceivers: ReceiverKind {
    public var target: ReceiverTarget { .exim }
    public var resolvesThroughNamespaceResolvConf: Bool { true }
    public var displayName: String { "Exim" }
    public var scenarioKeys: [ScenarioKey] { [EximSiteSettings.scenarioKey] }
    /// A user's own Exim configuration (`--exim-config`): its text, run instead of the one the
    /// harness writes from the policy (the harness still owns addresses, spool and logs).
    public var configurationText: String?

    public init(configurationText: String? = nil) {
        self.configurationText = configurationText
    }

    public func configuration(for scenario: ScenarioCase, settings: RunConfiguration) -> EximConfiguration {
        var configuration = EximConfiguration(
            hostname: scenario.receiver.hostname, addresses: scenario.receiver.addresses,
            domains: scenario.recipientDomains,
            policy: scenario.receiver.policy, site: scenario.receiver.exim)
        configuration.baseText = configurationText
        configuration.tls = Self.tls(for: scenario.receiver, authority: settings.authority)
        return configuration
    }

    /// `receiver.tls` as Exim settings, with the certificates the run's authority issues.
    static func tls(for receiver: ReceiverSpec, authority: RunAuthority) -> EximTLS? {
        guard let certificates = receiver.issuedCertificates(authority: authority) else { return nil }
        return EximTLS(required: receiver.tls.required, protocols: receiver.tls.protocols, certificates: certificates)
    }

    public func unsupportedReason(for scenario: ScenarioCase, settings: RunConfiguration) -> String? {
        if let reason = untranslatedFeature(of: scenario, on: "Exim") { return reason }
        switch EximInstallation.find() {
        case .failure(let unavailable): return unavailable.reason
        case .success(let installation):
            return configuration(for: scenario, settings: settings).unsupportedReason(hasSPF: installation.hasSPF)
        }
    }

    public func unavailableReason(settings: RunConfiguration) -> String? {
        if case .failure(let unavailable) = EximInstallation.find() { return unavailable.reason }
        // The daemon switches to its own user (exim_user), which a user namespace does not map.
        return geteuid() == 0 && !UserNamespace.isInside
            ? nil : "the Exim receiver needs root (its daemon runs as Debian-exim): run mxharness as root (sudo)"
    }

    public func makeReceiver(for scenario: ScenarioCase, settings: RunConfiguration) -> any Receiver {
        EximReceiver(configuration: configuration(for: scenario, settings: settings))
    }
}

struct EximReceiver: Receiver {
    let configuration: EximConfiguration

    func start(in context: CaseContext) async throws -> any RunningReceiver {
        let installation: EximInstallation
        switch EximInstallation.find() {
        case .failure(let unavailable): throw CaseSkipped(reason: unavailable.reason)
        case .success(let found): installation = found
        }
        return try await RunningCaseDaemon.start(unsupported: { ($0 as? EximUnsupported)?.reason }) {
            try await EximInstance.start(
                configuration, installation: installation, in: context.namespace, caseDirectory: context.directory,
                resolver: context.receiverResolvConf,
                logger: context.logger)
        }
    }
}

extension EximInstance: CaseDaemon {}
