import CertificateAuthority
import DNSCore
import SMTPProtocol
import X509

/// STARTTLS for the delivery model: Postfix's `smtp_tls_security_level` and what it checks.
public struct SenderTLS: Sendable {
    public var level: TLSSecurityLevel
    /// The authorities the sender trusts (Postfix's `smtp_tls_CAfile`): the world's.
    public var trustAnchors: [Certificate]
    /// Postfix `smtp_starttls_timeout` (default 300s).
    public var handshakeTimeout: Duration
    /// How a server's certificate is checked for each destination; nil: Postfix's own rules
    /// (`PostfixCertificateCheck`). A DANE check is given here.
    public var check: (any CertificateCheckProvider)?

    public init(level: TLSSecurityLevel, trustAnchors: [Certificate], handshakeTimeout: Duration = .seconds(300)) {
        self.level = level
        self.trustAnchors = trustAnchors
        self.handshakeTimeout = handshakeTimeout
    }

    /// The lowest version the client accepts. At the levels that must match a certificate
    /// (verify, secure) Postfix 3.7 with OpenSSL 3 fails a handshake below TLSv1.2: seen here
    /// toward a server accepting TLSv1 and TLSv1.1 only, `warning: TLS library problem:
    /// ...:SSL routines::legacy sigalg disallowed or unsupported` and `Cannot start TLS: handshake
    /// failure`, while at may and encrypt the same server gave `Trusted TLS connection established
    /// ... TLSv1.1 with cipher ECDHE-ECDSA-AES256-SHA`, and Postfix's smtpd talked TLSv1.1 to
    /// Postfix at may with an anonymous cipher.
    public var lowestVersion: TLSProtocolVersion {
        sessionLevel.mustMatch ? .tls12 : .tls1
    }

    /// The level the sessions run at: `dane` without a DANE check (`check`, which needs DNSSEC
    /// lookups and TLSA records) is `may`, as Postfix downgrades it when DNSSEC lookups are off
    /// (smtp_tls_policy.c `dane_init`; seen here: delivered over TLS with an expired certificate).
    public var sessionLevel: TLSSecurityLevel {
        level == .dane && check == nil ? .may : level
    }

    /// `trustAnchors` as PEM, the CA file a real sender is given.
    public var trustAnchorsPEM: String {
        trustAnchors.compactMap { try? $0.serializeAsPEM().pemString + "\n" }.joined()
    }

    /// The check for one destination of a delivery to `nexthop`.
    package func authentication(for destination: Destination, nexthop: String) -> any PeerAuthentication {
        (check ?? PostfixCertificateCheck()).authentication(
            level: level, trustAnchors: trustAnchors, destination: destination, nexthop: nexthop)
    }
}

/// Makes the certificate check of one destination.
public protocol CertificateCheckProvider: Sendable {
    func authentication(
        level: TLSSecurityLevel, trustAnchors: [Certificate], destination: Destination, nexthop: String
    ) -> any PeerAuthentication
}

/// Postfix 3.7's checks: `verify` matches the MX host name (`smtp_tls_verify_cert_match =
/// hostname`), `secure` the next-hop domain and its subdomains (`smtp_tls_secure_cert_match =
/// nexthop, dot-nexthop`); `may` and `encrypt` only look whether the chain is trusted (Trusted or
/// Untrusted in the log, never Verified). `dane` reaches here only as the level DANE fell back to
/// (`DANEPolicy.downgraded`); its destinations with TLSA records get a `DANECheck`.
public struct PostfixCertificateCheck: CertificateCheckProvider {
    public init() {}

    public func authentication(
        level: TLSSecurityLevel, trustAnchors: [Certificate], destination: Destination, nexthop: String
    ) -> any PeerAuthentication {
        let names: [NameMatch]
        switch level {
        case .verify: names = [.hostname(destination.host)]
        case .secure: names = [.nexthop(nexthop), .dotNexthop(nexthop)]
        case .none, .may, .encrypt, .dane: names = []
        }
        return PKIXAuthentication(trustAnchors: trustAnchors, names: names)
    }
}

extension DeliveryRequest {
    /// The next-hop domain (Postfix's nexthop): the recipient domain for MX delivery, the relay host.
    package var nexthop: String {
        switch relay {
        case .mx: DNSName.normalize(recipients.first.map { String($0.split(separator: "@").last ?? "") } ?? "")
        case .host(let name): DNSName.normalize(name.trimmingCharacters(in: ["[", "]"]))
        }
    }
}
