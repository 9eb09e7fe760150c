import CertificateAuthority
import DNSCore
import SMTPProtocol

/// `receiver.tls`: STARTTLS on the receiver and the certificate it presents.
public struct ReceiverTLSSpec: Sendable, Hashable {
    /// STARTTLS is advertised (Postfix `smtpd_tls_security_level = may`).
    public var starttls: Bool
    /// Plaintext MAIL gets `530 5.7.0 Must issue a STARTTLS command first` (`encrypt`).
    public var required: Bool
    public var certificate: CertificateKind
    /// The certificate's DNS names; nil: `receiver.hostname`.
    public var names: [String]?
    /// The versions accepted, lowest to highest; nil: TLSv1 to TLSv1.3 (Postfix's `>=TLSv1`).
    public var protocols: ClosedRange<TLSProtocolVersion>?
    /// `receiver.tls.listeners` (mxharness's extension): addresses that present a certificate of
    /// their own; every other address presents `certificate` for `names`.
    public var listeners: [ReceiverTLSListener]

    public init(
        starttls: Bool = false, required: Bool = false, certificate: CertificateKind = .valid, names: [String]? = nil,
        protocols: ClosedRange<TLSProtocolVersion>? = nil, listeners: [ReceiverTLSListener] = []
    ) {
        self.starttls = starttls
        self.required = required
        self.certificate = certificate
        self.names = names
        self.protocols = protocols
        self.listeners = listeners
    }

    /// What the format says when `receiver.tls` is not given: no TLS.
    public static let off = ReceiverTLSSpec()

    /// The certificates a receiver named `hostname` listening on `addresses` presents, each with
    /// the addresses that present it (in the order of `addresses`): one for all of them unless
    /// `listeners` gives some their own. A certificate is issued for its names and the addresses
    /// that present it.
    public func certificates(hostname: String, addresses: [IPAddress]) -> [ListenerCertificate] {
        var groups: [ListenerCertificate] = []
        for address in addresses {
            let listener = listeners.first { $0.address == address }
            let kind = listener?.certificate ?? certificate
            let names = listener?.names ?? self.names ?? [hostname]
            if let index = groups.firstIndex(where: { $0.kind == kind && $0.names == names }) {
                groups[index].addresses.append(address)
            } else {
                groups.append(ListenerCertificate(kind: kind, names: names, addresses: [address]))
            }
        }
        return groups
    }

    /// The versions as the format lists them: `[TLSv1.2, TLSv1.3]`.
    public static func names(of range: ClosedRange<TLSProtocolVersion>) -> [String] {
        TLSProtocolVersion.allCases.filter { range.contains($0) }.map(\.rawValue)
    }
}

/// One entry of `receiver.tls.listeners`: what the receiver presents on one of its addresses, where
/// it differs from the rest (an MX whose IPv6 listener has another certificate; the first of two MX
/// hosts with an expired one). A receiver tells its listeners apart by the address a client
/// connected to, as a real MTA does: Postfix and Exim send no SNI by default, so the MX name the
/// client looked up never reaches the server.
public struct ReceiverTLSListener: Sendable, Hashable {
    /// One of `receiver.addresses`.
    public var address: IPAddress
    /// nil: `receiver.tls.certificate`.
    public var certificate: CertificateKind?
    /// nil: `receiver.tls.names` (itself defaulting to `receiver.hostname`).
    public var names: [String]?

    public init(address: IPAddress, certificate: CertificateKind? = nil, names: [String]? = nil) {
        self.address = address
        self.certificate = certificate
        self.names = names
    }
}

/// A certificate the receiver presents, and on which of its addresses.
public struct ListenerCertificate: Sendable, Hashable {
    public var kind: CertificateKind
    /// Its DNS names.
    public var names: [String]
    /// Where it is presented (and the IP addresses it is issued for).
    public var addresses: [IPAddress]

    public init(kind: CertificateKind, names: [String], addresses: [IPAddress]) {
        self.kind = kind
        self.names = names
        self.addresses = addresses
    }
}
