import DNSCore
import Policy
import SMTPProtocol

/// What the MX does when a PROXY header or XCLIENT names the client, as Postfix does on each path:
/// after a PROXY header the named address is checked as a direct client would be (its PTR and
/// forward confirmation looked up in DNS); after XCLIENT nothing is looked up for its name, which
/// is taken from `NAME=` or, without it, kept from the proxy.
enum ClientIdentification {
    /// The policy opening for the new client, with the record updated to name both the proxy and
    /// the client, and a transcript note.
    static func opening(for identity: SMTPClientIdentity, engine: PolicyEngine, recorder: SessionRecorder) -> (
        PolicyOpening, String
    ) {
        switch identity {
        case .proxyHeader(let header):
            guard let source = header.source, let client = IPAddress(bytes: source.address) else {
                // The machine names a client only for a header that has one.
                let current = recorder.update { $0.client } ?? IPAddress(literal: "0.0.0.0")
                return (engine.opening(client: current), "PROXY v\(header.version) header without a client")
            }
            let path = "proxy-v\(header.version)"
            let proxy = recorder.update { record -> IPAddress? in
                let proxy = record.proxy ?? record.client
                record.proxy = proxy
                record.identityPath = path
                record.client = client
                record.clientPort = Int(source.port)
                record.family = client.family
                record.findings = nil
                return proxy
            }
            let opening = engine.opening(client: client)
            if let findings = opening.initialFindings { recorder.update { $0.findings = findings } }
            return (
                opening,
                "PROXY v\(header.version) header from \(proxy.map(\.description) ?? "?"): client \(client) port \(source.port)"
            )
        case .xclient(let command):
            let name: VouchedName =
                switch command.name {
                case .verified(let host): .verified(host)
                case .unavailable: .unavailable
                case .temporarilyUnavailable: .temporarilyUnavailable
                case nil: .kept
                }
            let (client, proxy, before) = recorder.update { record -> (IPAddress, IPAddress?, PolicyFindings?) in
                let proxy = record.proxy ?? record.client
                let client =
                    command.address.flatMap { IPAddress(bytes: $0) } ?? record.client ?? IPAddress(literal: "0.0.0.0")
                record.proxy = proxy
                record.identityPath = "xclient"
                record.client = client
                record.family = client.family
                return (client, proxy, record.findings)
            }
            let opening = engine.opening(client: client, vouched: name, before: before)
            recorder.update { $0.findings = opening.initialFindings }
            let named = command.name.map { "NAME=\($0)" } ?? "no NAME (the proxy's name kept)"
            return (
                opening,
                "XCLIENT from \(proxy.map(\.description) ?? "?"): client \(client), \(named), no DNS lookup for its name"
            )
        }
    }
}
