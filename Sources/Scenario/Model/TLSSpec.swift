import CertificateAuthority
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

    public init(
        starttls: Bool = false, required: Bool = false, certificate: CertificateKind = .valid, names: [String]? = nil,
        protocols: ClosedRange<TLSProtocolVersion>? = nil
    ) {
        self.starttls = starttls
        self.required = required
        self.certificate = certificate
        self.names = names
        self.protocols = protocols
    }

    /// What the format says when `receiver.tls` is not given: no TLS.
    public static let off = ReceiverTLSSpec()

    /// The versions as the format lists them: `[TLSv1.2, TLSv1.3]`.
    public static func names(of range: ClosedRange<TLSProtocolVersion>) -> [String] {
        TLSProtocolVersion.allCases.filter { range.contains($0) }.map(\.rawValue)
    }
}
