import DNSCore
import NIOSSL
import SMTPProtocol
import STARTTLS

/// STARTTLS on the built-in MX: its certificate (in a context made once for the MX), whether TLS
/// is required, and how long a handshake may take.
public struct MXTLSConfiguration: Sendable {
    /// The certificate, key and protocol versions, shared by every session.
    public let context: NIOSSLContext
    /// Listening addresses that present another certificate (`receiver.tls.listeners`): a session
    /// gets the context of the address the client connected to, as a real MTA with one listener
    /// per address does.
    public var listenerContexts: [IPAddress: NIOSSLContext] = [:]
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

    /// `chainPEM` and `keyPEM` are presented on `addresses` instead of the MX's own certificate.
    public mutating func present(
        chainPEM: String, keyPEM: String, on addresses: [IPAddress], lowest: TLSProtocolVersion = .tls1,
        highest: TLSProtocolVersion = .tls13
    ) throws {
        let context = try TLSContexts.server(chainPEM: chainPEM, keyPEM: keyPEM, lowest: lowest, highest: highest)
        for address in addresses { listenerContexts[address] = context }
    }

    /// The context for a session whose client connected to `address`.
    public func context(for address: IPAddress?) -> NIOSSLContext {
        address.flatMap { listenerContexts[$0] } ?? context
    }

    var serverSettings: SMTPServerTLSSettings {
        SMTPServerTLSSettings(required: required, handshakeTimeout: handshakeTimeout)
    }
}
