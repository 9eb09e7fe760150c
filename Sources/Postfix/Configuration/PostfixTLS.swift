import DNSCore
import SMTPProtocol

/// STARTTLS on a Postfix receiver (`receiver.tls`): `smtpd_tls_security_level` `may` or, when TLS
/// is required, `encrypt` (a plaintext MAIL gets `530 5.7.0 Must issue a STARTTLS command first`,
/// src/smtpd/smtpd.c), the world's certificates as `smtpd_tls_chain_files` (one PEM file each:
/// the key, then the leaf and its chain, postconf(5)), the accepted versions as
/// `smtpd_tls_protocols` and `smtpd_tls_mandatory_protocols`, and `smtpd_tls_loglevel = 1` so the
/// log says `... TLS connection established from ...`.
///
/// A receiver whose addresses present different certificates (`receiver.tls.listeners`) gets one
/// smtpd service per address in master.cf, each with `-o smtpd_tls_chain_files` naming its own
/// file: Postfix sends no SNI and selects nothing by it on the server side unless told to
/// (`tls_server_sni_maps`), so the address a client reached is what tells the listeners apart.
public struct PostfixTLS: Sendable, Hashable {
    /// `encrypt` rather than `may`.
    public var required: Bool
    /// The lowest and highest version accepted; nil leaves Postfix's default (`>=TLSv1`).
    public var protocols: ClosedRange<TLSProtocolVersion>?
    /// The certificates, each with the addresses that present it; the first one is main.cf's.
    public var certificates: [Certificate]

    public struct Certificate: Sendable, Hashable {
        /// The private key, then the leaf and the certificates after it, PEM.
        public var keyAndChainPEM: String
        public var addresses: [IPAddress]

        public init(keyAndChainPEM: String, addresses: [IPAddress]) {
            self.keyAndChainPEM = keyAndChainPEM
            self.addresses = addresses
        }
    }

    public init(required: Bool, protocols: ClosedRange<TLSProtocolVersion>?, certificates: [Certificate]) {
        self.required = required
        self.protocols = protocols
        self.certificates = certificates
    }

    /// Parameters that name a server certificate or key: a base or site main.cf's are replaced by
    /// the world's (every one emptied but `smtpd_tls_chain_files`).
    public static let certificateParameters = [
        "smtpd_tls_chain_files", "smtpd_tls_cert_file", "smtpd_tls_key_file", "smtpd_tls_eccert_file",
        "smtpd_tls_eckey_file",
        "smtpd_tls_dcert_file", "smtpd_tls_dkey_file",
    ]

    /// Where certificate `index` is written.
    static func chainFile(_ index: Int, paths: PostfixPaths) -> String {
        paths.tableDirectory + "/tls-chain-\(index).pem"
    }

    /// `-o` options of a site's port-25 smtpd (and postscreen's `pass` smtpd), after its own: a
    /// site's `-o smtpd_tls_cert_file=...` would beat main.cf's world certificate.
    static func siteSmtpdOptions(paths: PostfixPaths) -> [String: String] {
        var options: [String: String] = [:]
        for name in certificateParameters { options[name] = "" }
        options["smtpd_tls_chain_files"] = chainFile(0, paths: paths)
        return options
    }

    /// Files holding a private key, written readable by root alone (smtpd reads them before it
    /// drops privileges).
    public static func isPrivate(_ path: String) -> Bool {
        path.hasSuffix(".pem") && path.contains("/tls-chain-")
    }

    /// The main.cf layer.
    func mainCF(paths: PostfixPaths) -> MainCF {
        var main = MainCF()
        main["smtpd_tls_security_level"] = required ? "encrypt" : "may"
        for name in Self.certificateParameters { main[name] = "" }
        main["smtpd_tls_chain_files"] = Self.chainFile(0, paths: paths)
        main["smtpd_tls_loglevel"] = "1"
        if let protocols {
            // Postfix 3.6 and later take a range (postconf(5) smtpd_tls_protocols).
            let range = ">=\(protocols.lowerBound.rawValue), <=\(protocols.upperBound.rawValue)"
            main["smtpd_tls_protocols"] = range
            main["smtpd_tls_mandatory_protocols"] = range
        }
        return main
    }

    /// The files to write: each certificate's key and chain, by path.
    func files(paths: PostfixPaths) -> [String: String] {
        var files: [String: String] = [:]
        for (index, certificate) in certificates.enumerated() {
            files[Self.chainFile(index, paths: paths)] = certificate.keyAndChainPEM
        }
        return files
    }

    /// One port-25 service per address with its own certificate when the addresses do not all
    /// present the same one; nil: one service on every address, main.cf's certificate.
    func services(paths: PostfixPaths) -> [MasterCF.Service]? {
        guard certificates.count > 1 else { return nil }
        var services: [MasterCF.Service] = []
        for (index, certificate) in certificates.enumerated() {
            for address in certificate.addresses {
                let host = address.family == .ipv6 ? "[\(address)]" : "\(address)"
                services.append(
                    MasterCF.Service(
                        name: "\(host):25",
                        options: index == 0 ? [:] : ["smtpd_tls_chain_files": Self.chainFile(index, paths: paths)]))
            }
        }
        return services
    }
}
