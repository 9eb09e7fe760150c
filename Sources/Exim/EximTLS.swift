import DNSCore
import Runner
import SMTPProtocol

/// STARTTLS on an Exim receiver (`receiver.tls`): `tls_advertise_hosts = *`, the world's
/// certificates as `tls_certificate` and `tls_privatekey` (PEM files in the case's folder, owned
/// by the Exim user, which reads them in the reception process), the accepted versions as a
/// GnuTLS priority string in `tls_require_ciphers` (Debian's Exim is built with GnuTLS), and, when
/// TLS is required, Postfix's `encrypt` answer to a plaintext MAIL from `acl_smtp_mail`: `530
/// 5.7.0 Must issue a STARTTLS command first` (src/smtpd/smtpd.c).
///
/// A receiver whose addresses present different certificates (`receiver.tls.listeners`) names
/// them by the address the client reached: both options are expanded per connection
/// (`${if match_ip{$received_ip_address}{...}}`), as Exim's specification suggests for a host with
/// several certificates (tls_certificate, chapter "Encrypted SMTP connections").
public struct EximTLS: Sendable, Hashable {
    public var required: Bool
    /// The lowest and highest version accepted; nil leaves GnuTLS's defaults.
    public var protocols: ClosedRange<TLSProtocolVersion>?
    /// The certificates, each with the addresses that present it; the first one is the default.
    public var certificates: [Certificate]

    public typealias Certificate = ReceiverCertificate

    public init(required: Bool, protocols: ClosedRange<TLSProtocolVersion>?, certificates: [Certificate]) {
        self.required = required
        self.protocols = protocols
        self.certificates = certificates
    }

    static func chainFile(_ index: Int, paths: EximPaths) -> String { paths.tlsDirectory + "/chain-\(index).pem" }
    static func keyFile(_ index: Int, paths: EximPaths) -> String { paths.tlsDirectory + "/key-\(index).pem" }

    /// The files to write, by path.
    public func files(paths: EximPaths) -> [String: String] {
        var files: [String: String] = [:]
        for (index, certificate) in certificates.enumerated() {
            files[Self.chainFile(index, paths: paths)] = certificate.chainPEM
            files[Self.keyFile(index, paths: paths)] =
                certificate.keyPEM.hasSuffix("\n") ? certificate.keyPEM : certificate.keyPEM + "\n"
        }
        return files
    }

    /// Main options.
    func mainOptions(paths: EximPaths) -> [(String, String)] {
        var options: [(String, String)] = [
            ("tls_advertise_hosts", "*"),
            ("tls_certificate", Self.select(certificates, paths: paths, file: Self.chainFile)),
            ("tls_privatekey", Self.select(certificates, paths: paths, file: Self.keyFile)),
        ]
        if let protocols {
            let versions = TLSProtocolVersion.allCases.filter { protocols.contains($0) }.map {
                "+VERS-\(Self.gnuTLSName($0))"
            }
            options.append(("tls_require_ciphers", "NORMAL:-VERS-ALL:" + versions.joined(separator: ":")))
        }
        return options
    }

    /// The file of certificate 0, or an expansion choosing by the address the client reached.
    static func select(_ certificates: [Certificate], paths: EximPaths, file: (Int, EximPaths) -> String) -> String {
        guard certificates.count > 1 else { return file(0, paths) }
        var expansion = file(0, paths)
        for index in certificates.indices.dropFirst().reversed() {
            let list = certificates[index].addresses.map(\.description).joined(separator: " ; ")
            expansion = "${if match_ip{$received_ip_address}{<; \(list)}{\(file(index, paths))}{\(expansion)}}"
        }
        return expansion
    }

    static func gnuTLSName(_ version: TLSProtocolVersion) -> String {
        switch version {
        case .tls1: "TLS1.0"
        case .tls11: "TLS1.1"
        case .tls12: "TLS1.2"
        case .tls13: "TLS1.3"
        }
    }

    /// The statement at the top of `acl_smtp_mail` when TLS is required.
    var mailStatement: String? {
        guard required else { return nil }
        return "  deny    !encrypted = *\n          message = 530 5.7.0 Must issue a STARTTLS command first\n"
    }
}
