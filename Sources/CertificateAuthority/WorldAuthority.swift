import Crypto
import DNSCore
import Foundation
import SwiftASN1
import Synchronization
import X509

/// The certificate authority of a run: every world's receivers get their certificates from it, and
/// every sender of the run trusts it as it trusts the public authorities. A second authority that
/// nobody trusts issues the `unknown-ca` certificates.
///
/// Keys are made once, when the authority is: the two authorities' and one key that every
/// receiver certificate carries. A certificate is issued once per (kind, names, addresses) and
/// kept, so a case pays for no key generation and, after the first case with the same receiver,
/// for no signature either.
public final class WorldAuthority: Sendable {
    /// The authority senders trust (Postfix's `smtp_tls_CAfile`, Exim's `tls_verify_certificates`).
    public let root: Certificate
    /// `root` as PEM, the file a real sender is given.
    public let rootPEM: String
    private let rootKey: Certificate.PrivateKey
    /// The authority nobody trusts.
    public let foreignRoot: Certificate
    private let foreignKey: Certificate.PrivateKey
    /// The key of every receiver certificate.
    private let leafKey: Certificate.PrivateKey
    private let leafKeyPEM: String
    /// When the run began: every validity period is counted from here.
    public let now: Date
    private let issued = Mutex<[IssueKey: IssuedCertificate]>([:])

    private struct IssueKey: Hashable {
        var kind: CertificateKind
        var names: [String]
        var addresses: [IPAddress]
    }

    /// `name` appears in both authorities' names, so a certificate's issuer tells which run made it.
    public init(name: String = "mxharness", now: Date = Date()) throws {
        self.now = now
        let leaf = P256.Signing.PrivateKey()
        rootKey = Certificate.PrivateKey(P256.Signing.PrivateKey())
        foreignKey = Certificate.PrivateKey(P256.Signing.PrivateKey())
        leafKey = Certificate.PrivateKey(leaf)
        leafKeyPEM = leaf.pemRepresentation
        root = try Self.authority(commonName: "\(name) world CA", key: rootKey, now: now)
        foreignRoot = try Self.authority(commonName: "\(name) unknown CA", key: foreignKey, now: now)
        rootPEM = try root.serializeAsPEM().pemString + "\n"
    }

    /// The receiver's certificate of `kind` for `names` (DNS names) and `addresses`.
    public func certificate(_ kind: CertificateKind, names: [String], addresses: [IPAddress]) throws
        -> IssuedCertificate
    {
        let key = IssueKey(kind: kind, names: names.map(DNSName.normalize), addresses: addresses)
        if let cached = issued.withLock({ $0[key] }) { return cached }
        let made = try issue(key)
        return issued.withLock { cache in
            if let raced = cache[key] { return raced }
            cache[key] = made
            return made
        }
    }

    private func issue(_ key: IssueKey) throws -> IssuedCertificate {
        let day: TimeInterval = 86_400
        var names = key.names, addresses = key.addresses
        var notBefore = now - day, notAfter = now + 365 * day
        var issuer = root.subject, issuerKey = rootKey
        var chain = [root]
        switch key.kind {
        case .valid:
            break
        case .expired:
            // "expired ended yesterday" (scenario format 1.2).
            (notBefore, notAfter) = (now - 60 * day, now - day)
        case .notYetValid:
            (notBefore, notAfter) = (now + day, now + 366 * day)
        case .wrongName:
            names = [CertificateKind.wrongHostName]
            addresses = []
        case .unknownCA:
            issuer = foreignRoot.subject
            issuerKey = foreignKey
            chain = [foreignRoot]
        case .selfSigned:
            chain = []
        }
        let subject = try DistinguishedName { CommonName(names.first ?? addresses.first.map { "\($0)" } ?? "mx") }
        if key.kind == .selfSigned {
            issuer = subject
            issuerKey = leafKey
        }
        var alternatives: [GeneralName] = names.map { .dnsName($0) }
        alternatives += addresses.map { .ipAddress(ASN1OctetString(contentBytes: ArraySlice($0.bytes))) }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true))
            try ExtendedKeyUsage([.serverAuth, .clientAuth])
            SubjectAlternativeNames(alternatives)
        }
        let leaf = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: leafKey.publicKey,
            notValidBefore: notBefore, notValidAfter: notAfter, issuer: issuer, subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions, issuerPrivateKey: issuerKey)
        return IssuedCertificate(kind: key.kind, certificate: leaf, intermediates: chain, privateKeyPEM: leafKeyPEM)
    }

    private static func authority(commonName: String, key: Certificate.PrivateKey, now: Date) throws -> Certificate {
        let name = try DistinguishedName {
            OrganizationName("mxharness")
            CommonName(commonName)
        }
        return try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: key.publicKey,
            notValidBefore: now - 2 * 86_400, notValidAfter: now + 3650 * 86_400, issuer: name, subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: key)
    }

    /// Writes the trusted authority as `world-ca.pem` into `directory` and returns its path.
    public func writeRoot(to directory: String) throws -> String {
        let path = directory + "/world-ca.pem"
        try Data(rootPEM.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }
}

/// The authority of one run, made when a case first needs a certificate (a run without TLS makes
/// no keys at all) and then shared by every case of the run.
public final class RunAuthority: Sendable {
    private let made = Mutex<WorldAuthority?>(nil)

    public init() {}

    public func authority() throws -> WorldAuthority {
        try made.withLock { made in
            if let made { return made }
            let authority = try WorldAuthority()
            made = authority
            return authority
        }
    }
}
