import CertificateAuthority
import Delivery
import SMTPProtocol

/// A real MTA as the case's sender: made when the case's namespace exists, stopped with the case.
public final class MTASender<MTA: SendingMTA>: Sender, @unchecked Sendable {
    let request: DeliveryRequest
    let settings: MTA.Settings
    /// `sender.tls` and the run's authority, which the MTA trusts (its CA file).
    let tls: (level: TLSSecurityLevel, authority: RunAuthority)?
    private var mta: MTA?

    public init(
        request: DeliveryRequest, settings: MTA.Settings, tls: (level: TLSSecurityLevel, authority: RunAuthority)? = nil
    ) {
        self.request = request
        self.settings = settings
        self.tls = tls
    }

    public func deliver(in context: CaseContext) async throws -> DeliveryReport {
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
        self.mta = mta
        return try await mta.deliver(request, settings: settings)
    }

    public var artifactFiles: [String: String] { MTA.artifactFiles }

    public func stop() async {
        await mta?.stop()
    }
}

/// Why a real MTA cannot send `sender.message.raw`: it takes the message through its own
/// submission path and sends it with its own line endings and end of data.
public func rawMessageReason(_ mta: String) -> String {
    "sender.message.raw is sent byte for byte by the built-in sender only: \(mta) sends a message with line endings and an end of data of its own"
}
