import DNSCore
import Logging
import Sender

/// A real MTA that sends one case's message from the case's network namespace, resolving
/// through the case's unbound; its files live in the case's folder.
public protocol SendingMTA: AnyObject, Sendable {
    /// What a scenario sets on this MTA (`sender.postfix`, `sender.exim`).
    associatedtype Settings: Sendable

    /// `dnsTimeout`: how long a lookup may take (`--dns-timeout`), for the resolv.conf the MTA
    /// writes when the namespace has none.
    init(namespaceName: String, caseDirectory: String, resolverAddress: IPAddress, dnsTimeout: Duration, logger: Logger)
    /// Sends `request`'s message and reports what the MTA's own log says happened.
    func deliver(_ request: DeliveryRequest, settings: Settings) async throws -> DeliveryReport
    /// Leaves no process of the MTA and no file outside the case's folder; safe to call twice.
    func stop() async
}

/// What a scenario sets on the Exim sender: `sender.exim` transport options, and `sender.dkim` as
/// its `dkim_*` options.
public struct EximSenderSettings: Sendable {
    public var options: [String: String]
    public var signing: EximDKIMSigning?

    public init(options: [String: String] = [:], signing: EximDKIMSigning? = nil) {
        self.options = options
        self.signing = signing
    }
}

extension EximSendingMTA: SendingMTA {
    public func deliver(_ request: DeliveryRequest, settings: EximSenderSettings) async throws -> DeliveryReport {
        try await deliver(request, options: settings.options, signing: settings.signing)
    }
}

/// What a scenario sets on a real Postfix sender: `sender.postfix`, and `sender.dkim` as OpenDKIM's signing.
public struct PostfixSenderSettings: Sendable {
    public var main: [String: String]
    public var signing: OpenDKIMSigning?

    public init(main: [String: String] = [:], signing: OpenDKIMSigning? = nil) {
        self.main = main
        self.signing = signing
    }
}

extension PostfixSendingMTA: SendingMTA {
    public convenience init(namespaceName: String, caseDirectory: String, resolverAddress: IPAddress, dnsTimeout: Duration, logger: Logger) {
        var options = Options()
        options.dnsTimeoutSeconds = ResolvConf.timeoutSeconds(for: dnsTimeout)
        self.init(namespaceName: namespaceName, caseDirectory: caseDirectory, resolverAddress: resolverAddress, options: options, logger: logger)
    }

    /// Every address may be tried (smtp_mx_address_limit, 5 by default), each up to the connect
    /// timeout and a few reply timeouts, and DNS lookups before that.
    public func deliver(_ request: DeliveryRequest, settings: PostfixSenderSettings) async throws -> DeliveryReport {
        let perAddress = request.connectTimeout + request.replyTimeout * 2
        return try await deliver(request, settings: settings.main, signing: settings.signing, outcomeTimeout: .seconds(15) + perAddress * 5)
    }
}
