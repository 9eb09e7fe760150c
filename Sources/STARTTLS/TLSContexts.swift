import NIOCore
import NIOSSL
import SMTPProtocol

/// The NIOSSL side of STARTTLS for the built-in MX and the built-in sender.
public enum TLSContexts {
    /// A server context presenting `chainPEM` (leaf first) with `keyPEM`, accepting the protocol
    /// versions from `lowest` to `highest`.
    public static func server(
        chainPEM: String, keyPEM: String, lowest: TLSProtocolVersion = .tls1, highest: TLSProtocolVersion = .tls13
    ) throws -> NIOSSLContext {
        let chain = try NIOSSLCertificate.fromPEMBytes(Array(chainPEM.utf8)).map {
            NIOSSLCertificateSource.certificate($0)
        }
        let key = try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = nioVersion(lowest)
        configuration.maximumTLSVersion = nioVersion(highest)
        return try NIOSSLContext(configuration: configuration)
    }

    /// A client context whose certificate check is the caller's own (the handler's custom
    /// verification callback): BoringSSL checks nothing itself.
    public static func client(lowest: TLSProtocolVersion = .tls1, highest: TLSProtocolVersion = .tls13) throws
        -> NIOSSLContext
    {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = nioVersion(lowest)
        configuration.maximumTLSVersion = nioVersion(highest)
        // The custom callback replaces BoringSSL's checks; it is not called with `.none`.
        configuration.certificateVerification = .noHostnameVerification
        configuration.trustRoots = .certificates([])
        return try NIOSSLContext(configuration: configuration)
    }

    public static func nioVersion(_ version: TLSProtocolVersion) -> TLSVersion {
        switch version {
        case .tls1: .tlsv1
        case .tls11: .tlsv11
        case .tls12: .tlsv12
        case .tls13: .tlsv13
        }
    }

    public static func version(_ version: TLSVersion?) -> TLSProtocolVersion? {
        switch version {
        case .tlsv1: .tls1
        case .tlsv11: .tls11
        case .tlsv12: .tls12
        case .tlsv13: .tls13
        case nil: nil
        }
    }
}
