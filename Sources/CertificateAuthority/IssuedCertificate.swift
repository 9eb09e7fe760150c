import Foundation
import X509

/// A receiver's certificate with its chain and private key, as PEM for real MTAs and as
/// `Certificate` values for the built-in MX and the sender's check.
public struct IssuedCertificate: Sendable {
    public let kind: CertificateKind
    /// The leaf (the receiver's own certificate).
    public let certificate: Certificate
    /// The certificates a server presents after the leaf (its issuer unless self-signed).
    public let intermediates: [Certificate]
    /// The leaf's key, PKCS#8 PEM (`BEGIN PRIVATE KEY`), which Postfix, Exim, OpenSMTPD and NIOSSL read.
    public let privateKeyPEM: String

    /// The leaf then its chain, PEM: Postfix's `smtpd_tls_cert_file`, Exim's `tls_certificate`.
    public var chainPEM: String {
        ([certificate] + intermediates).map { (try? $0.serializeAsPEM().pemString) ?? "" }.joined(separator: "\n")
            + "\n"
    }

    /// The leaf alone, PEM.
    public var certificatePEM: String {
        ((try? certificate.serializeAsPEM().pemString) ?? "") + "\n"
    }

    /// Writes `NAME.crt` (the chain) and `NAME.key` (mode 0600) into `directory`.
    public func write(to directory: String, name: String = "receiver") throws -> CertificateFiles {
        let files = CertificateFiles(chain: directory + "/\(name).crt", key: directory + "/\(name).key")
        try Data(chainPEM.utf8).write(to: URL(fileURLWithPath: files.chain))
        FileManager.default.createFile(
            atPath: files.key, contents: Data(privateKeyPEM.utf8), attributes: [.posixPermissions: 0o600])
        return files
    }
}

/// Where a certificate's PEM files were written.
public struct CertificateFiles: Sendable, Hashable {
    /// The leaf then its chain.
    public var chain: String
    /// The private key.
    public var key: String

    public init(chain: String, key: String) {
        self.chain = chain
        self.key = key
    }
}
