import DNSCore
import Logging
import Delivery

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
    /// The MTA's files worth keeping with a case's artifacts (`--artifacts`): their paths in the
    /// case's folder, and the names they get there.
    static var artifactFiles: [String: String] { get }
}
