import CertificateAuthority
import DNSCore
import Foundation
import Runner
import Sandbox
import Scenario

extension ReceiverTarget {
    /// A real OpenSMTPD as the receiver (`OpenSMTPDReceivers`).
    public static let opensmtpd = ReceiverTarget(named: "opensmtpd")
}

/// A real OpenSMTPD as the receiver (`receiver.target: opensmtpd`): the policy as built-in
/// filters, or the user's `--opensmtpd-config`; a private daemon in every case's namespace.
public struct OpenSMTPDReceivers: ReceiverKind {
    public var target: ReceiverTarget { .opensmtpd }
    public var resolvesThroughNamespaceResolvConf: Bool { true }
    public var displayName: String { "OpenSMTPD" }
    /// A user's own smtpd.conf (`--opensmtpd-config`): its text, run as it is.
    public var configurationText: String?

    public init(configurationText: String? = nil) {
        self.configurationText = configurationText
    }

    public func configuration(for scenario: ScenarioCase, settings: RunConfiguration) -> OpenSMTPDConfiguration {
        var configuration = OpenSMTPDConfiguration(
            hostname: scenario.receiver.hostname, addresses: scenario.receiver.addresses,
            domains: scenario.recipientDomains,
            policy: scenario.receiver.policy,
            world: OpenSMTPDFilters.WorldFacts(
                faults: !scenario.dns.faults.isEmpty || receiverSeesBogus(scenario),
                numericPTR: scenario.dns.records.contains {
                    if case .ptr(let name) = $0.data { IPAddress(DNSName.normalize(name)) != nil } else { false }
                }))
        configuration.baseText = configurationText
        configuration.tls = Self.tls(for: scenario.receiver, authority: settings.authority)
        return configuration
    }

    /// `receiver.tls` as OpenSMTPD settings, with the certificates the run's authority issues.
    static func tls(for receiver: ReceiverSpec, authority: RunAuthority) -> OpenSMTPDTLS? {
        guard let certificates = receiver.issuedCertificates(authority: authority) else { return nil }
        return OpenSMTPDTLS(
            required: receiver.tls.required, protocols: receiver.tls.protocols, certificates: certificates)
    }

    public func unsupportedReason(for scenario: ScenarioCase, settings: RunConfiguration) -> String? {
        if let reason = untranslatedFeature(of: scenario, on: "OpenSMTPD") { return reason }
        let installation: OpenSMTPDInstallation
        switch OpenSMTPDInstallation.find() {
        case .failure(let unavailable): return unavailable.reason
        case .success(let found): installation = found
        }
        if scenario.receiver.tls.starttls, let reason = installation.startTLSUnsupportedReason { return reason }
        let configuration = configuration(for: scenario, settings: settings)
        if scenario.receiver.tls.starttls && configuration.tls == nil {
            return "receiver.tls: the run's certificate authority could not issue the receiver's certificates"
        }
        return configuration.unsupportedReason
    }

    public func unavailableReason(settings: RunConfiguration) -> String? {
        if case .failure(let unavailable) = OpenSMTPDInstallation.find() { return unavailable.reason }
        // smtpd refuses to start unless root (privilege separation into its own users).
        return geteuid() == 0 && !UserNamespace.isInside
            ? nil : "the OpenSMTPD receiver needs root (smtpd runs only as root): run mxharness as root (sudo)"
    }

    public func makeReceiver(for scenario: ScenarioCase, settings: RunConfiguration) -> any Receiver {
        OpenSMTPDReceiver(configuration: configuration(for: scenario, settings: settings))
    }
}

struct OpenSMTPDReceiver: Receiver {
    let configuration: OpenSMTPDConfiguration

    func start(in context: CaseContext) async throws -> any RunningReceiver {
        let installation: OpenSMTPDInstallation
        switch OpenSMTPDInstallation.find() {
        case .failure(let unavailable): throw CaseSkipped(reason: unavailable.reason)
        case .success(let found): installation = found
        }
        return try await RunningCaseDaemon.start(unsupported: { ($0 as? OpenSMTPDUnsupported)?.reason }) {
            try await OpenSMTPDInstance.start(
                configuration, installation: installation, in: context.namespace, caseDirectory: context.directory,
                resolver: context.receiverResolvConf,
                logger: context.logger)
        }
    }
}

extension OpenSMTPDInstance: CaseDaemon {}

/// Whether the receiver's lookups meet SERVFAILs the world's faults do not list: a validating
/// receiver resolver in a signed world with a zone whose state makes its data bogus.
func receiverSeesBogus(_ scenario: ScenarioCase) -> Bool {
    scenario.receiver.resolver == .validating && scenario.dns.isSigned
        && scenario.dns.zones.contains { $0.state != .secure && $0.state != .insecure }
}
