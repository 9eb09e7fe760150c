/// What a receiver's certificate is like (`receiver.tls.certificate`): issued properly by the
/// world's authority, or wrong in one of the ways that make a verifying sender defer mail.
public enum CertificateKind: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    /// Issued by the world's authority for the receiver's names and addresses, valid now.
    case valid
    /// Issued properly, but its validity ended yesterday.
    case expired
    /// Issued properly, but its validity starts tomorrow.
    case notYetValid = "not-yet-valid"
    /// Issued properly for another host's name (and none of the receiver's addresses).
    case wrongName = "wrong-name"
    /// Its own issuer: no authority vouches for it.
    case selfSigned = "self-signed"
    /// Issued by another authority that no sender trusts.
    case unknownCA = "unknown-ca"

    public var description: String { rawValue }

    /// The name a `wrong-name` certificate carries instead of the receiver's: under `.test`, outside
    /// every scenario's domains, so neither `verify` (the MX name) nor `secure` (the recipient
    /// domain and its subdomains) can match it.
    public static let wrongHostName = "another-host.wrong-name.test"
}
