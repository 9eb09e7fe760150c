import CertificateAuthority
import Delivery
import SMTPProtocol

/// A real MTA as the case's sender: made when the case's namespace exists, stopped with the case.
public struct MTASender<MTA: SendingMTA>: Sender {
    let request: DeliveryRequest
    let settings: MTA.Settings
    /// `sender.tls` and the run's authority, which the MTA trusts (its CA file).
    let tls: (level: TLSSecurityLevel, authority: RunAuthority)?

    public init(
        request: DeliveryRequest, settings: MTA.Settings, tls: (level: TLSSecurityLevel, authority: RunAuthority)? = nil
    ) {
        self.request = request
        self.settings = settings
        self.tls = tls
    }

    /// The MTA in the case's namespace and folder, nothing started yet: it starts with `deliver`.
    public func start(in context: CaseContext) async throws -> any RunningSender {
        var request = request
        if let tls, tls.level != .none {
            request.tls = SenderTLS(
                level: tls.level, trustAnchors: [try tls.authority.authority().root],
                handshakeTimeout: request.replyTimeout)
        }
        let mta = MTA(
            namespaceName: context.namespace.name, caseDirectory: context.directory,
            resolverAddress: context.senderNameserver, dnsTimeout: context.settings.resolverTimeout,
            logger: context.logger)
        return RunningMTASender(mta: mta, request: request, settings: settings)
    }

    public var artifactFiles: [String: String] { MTA.artifactFiles }
}

/// A real MTA made for one case: it sends, and is stopped with the case.
struct RunningMTASender<MTA: SendingMTA>: RunningSender {
    let mta: MTA
    let request: DeliveryRequest
    let settings: MTA.Settings

    func deliver() async throws -> DeliveryReport {
        try await mta.deliver(request, settings: settings)
    }

    func stop() async {
        await mta.stop()
    }
}

/// Why a real MTA cannot send `sender.message.raw`: it takes the message through its own
/// submission path and sends it with its own line endings and end of data.
public func rawMessageReason(_ mta: String) -> String {
    "sender.message.raw is sent byte for byte by the built-in sender only: \(mta) sends a message with line endings and an end of data of its own"
}
