import CertificateAuthority
import DNSCore
import Scenario

/// One certificate of a receiver, as the run's authority issued it for `receiver.tls`, with the
/// addresses that present it: what each real receiver kind writes into its own configuration.
public struct ReceiverCertificate: Sendable, Hashable {
    /// The leaf, then the certificates after it, PEM.
    public var chainPEM: String
    public var keyPEM: String
    public var addresses: [IPAddress]

    public init(chainPEM: String, keyPEM: String, addresses: [IPAddress]) {
        self.chainPEM = chainPEM
        self.keyPEM = keyPEM
        self.addresses = addresses
    }
}

extension ReceiverSpec {
    /// The certificates `tls` asks for, the first one the receiver's default, issued by the run's
    /// authority (which keeps them, so every case with the same receiver gets the same files and
    /// may share an instance); nil without STARTTLS or when the authority cannot issue them.
    public func issuedCertificates(authority: RunAuthority) -> [ReceiverCertificate]? {
        guard tls.starttls, let authority = try? authority.authority() else { return nil }
        var certificates: [ReceiverCertificate] = []
        for group in tls.certificates(hostname: hostname, addresses: addresses) {
            guard let issued = try? authority.certificate(group.kind, names: group.names, addresses: group.addresses)
            else { return nil }
            certificates.append(
                ReceiverCertificate(chainPEM: issued.chainPEM, keyPEM: issued.privateKeyPEM, addresses: group.addresses)
            )
        }
        return certificates
    }
}
