import NIOSSL
import SMTPProtocol
import STARTTLS

/// STARTTLS on the built-in MX: its certificate (in a context made once for the MX), whether TLS
/// is required, and how long a handshake may take.
public struct MXTLSConfiguration: Sendable {
    /// The certificate, key and protocol versions, shared by every session.
    public let context: NIOSSLContext
    /// `530 5.7.0 Must issue a STARTTLS command first` before TLS (`smtpd_tls_security_level = encrypt`).
    public var required: Bool
    /// Postfix `smtpd_starttls_timeout` (default 300s).
    public var handshakeTimeout: Duration

    public init(context: NIOSSLContext, required: Bool = false, handshakeTimeout: Duration = .seconds(300)) {
        self.context = context
        self.required = required
        self.handshakeTimeout = handshakeTimeout
    }

    /// A certificate chain (leaf first) and key as PEM, accepting `lowest` through `highest`.
    public init(
        chainPEM: String, keyPEM: String, lowest: TLSProtocolVersion = .tls1, highest: TLSProtocolVersion = .tls13,
        required: Bool = false, handshakeTimeout: Duration = .seconds(300)
    ) throws {
        let context = try TLSContexts.server(chainPEM: chainPEM, keyPEM: keyPEM, lowest: lowest, highest: highest)
        self.init(context: context, required: required, handshakeTimeout: handshakeTimeout)
    }

    var serverSettings: SMTPServerTLSSettings {
        SMTPServerTLSSettings(required: required, handshakeTimeout: handshakeTimeout)
    }
}
