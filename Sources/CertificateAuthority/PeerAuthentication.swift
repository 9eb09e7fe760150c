import Foundation
@_spi(FixedExpiryValidationTime) import X509

/// What a sender concluded about the certificate a server presented, in Postfix's terms
/// (src/tls/tls.h `TLS_CERT_IS_TRUSTED`, `TLS_CERT_IS_MATCHED`).
public struct PeerVerdict: Sendable, Hashable {
    /// The chain leads to an authority the sender trusts and every certificate in it is valid now.
    public var isTrusted: Bool
    /// The certificate is the one the level asks for: trusted and naming the host or domain
    /// (`verify`, `secure`), or matching a TLSA record (`dane`). Only levels that match set it.
    public var isMatched: Bool
    /// Why it is not trusted or not matched, as Postfix logs it after `certificate verification
    /// failed for HOST[ADDR]:25: ` (src/tls/tls_verify.c `tls_log_verify_error`), nil when nothing failed.
    public var failure: String?

    public init(isTrusted: Bool, isMatched: Bool, failure: String?) {
        self.isTrusted = isTrusted
        self.isMatched = isMatched
        self.failure = failure
    }
}

/// How a sender checks a server's certificate. `PKIXAuthentication` checks it against trusted
/// authorities and names; a DANE check (RFC 7672) is another conformer, given the TLSA records.
public protocol PeerAuthentication: Sendable {
    /// `chain` is what the server presented, its own certificate first.
    func verify(chain: [Certificate], at time: Date) async -> PeerVerdict
}

/// What name a certificate must carry (Postfix `smtp_tls_verify_cert_match`,
/// `smtp_tls_secure_cert_match`).
public enum NameMatch: Sendable, Hashable {
    /// `hostname`: the MX host name itself (a `*.` wildcard covers one label).
    case hostname(String)
    /// `nexthop`: the next-hop domain itself.
    case nexthop(String)
    /// `dot-nexthop`: any name below the next-hop domain.
    case dotNexthop(String)
}

/// The check of Postfix's certificate-verifying levels: the chain through swift-certificates'
/// RFC 5280 `Verifier` against `trustAnchors`, then the names (none: the chain alone, as `may` and
/// `encrypt` log Trusted).
public struct PKIXAuthentication: PeerAuthentication {
    public var trustAnchors: [Certificate]
    /// Empty: no name is checked and nothing is ever matched.
    public var names: [NameMatch]

    public init(trustAnchors: [Certificate], names: [NameMatch]) {
        self.trustAnchors = trustAnchors
        self.names = names
    }

    public func verify(chain: [Certificate], at time: Date) async -> PeerVerdict {
        guard let leaf = chain.first else {
            return PeerVerdict(isTrusted: false, isMatched: false, failure: "no certificate presented")
        }
        var verifier = Verifier(rootCertificates: CertificateStore(trustAnchors)) {
            RFC5280Policy(fixedExpiryValidationTime: time)
        }
        let result = await verifier.validate(leaf: leaf, intermediates: CertificateStore(Array(chain.dropFirst())))
        guard case .validCertificate = result else {
            return PeerVerdict(
                isTrusted: false, isMatched: false,
                failure: Self.chainFailure(chain, anchors: trustAnchors, at: time, result: result))
        }
        guard !names.isEmpty else { return PeerVerdict(isTrusted: true, isMatched: false, failure: nil) }
        if CertificateNames(leaf).matches(names) { return PeerVerdict(isTrusted: true, isMatched: true, failure: nil) }
        // OpenSSL's X509_V_ERR_HOSTNAME_MISMATCH is 62; tls_verify.c logs it as "num=%d:%s".
        return PeerVerdict(isTrusted: true, isMatched: false, failure: "num=62:hostname mismatch")
    }

    /// The first fault OpenSSL's chain check would report, worded as tls_verify.c logs it.
    static func chainFailure(
        _ chain: [Certificate], anchors: [Certificate], at time: Date, result: CertificateValidationResult
    ) -> String {
        let leaf = chain[0]
        let issuers = anchors + chain.dropFirst()
        let issuer = issuers.first {
            $0.subject == leaf.issuer && $0.publicKey.isValidSignature(leaf.signature, for: leaf)
        }
        if issuer == nil {
            if leaf.issuer == leaf.subject, leaf.publicKey.isValidSignature(leaf.signature, for: leaf) {
                // X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT.
                return "self-signed certificate"
            }
            // X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, with X509_NAME_oneline of the issuer.
            return "untrusted issuer \(Self.oneline(leaf.issuer))"
        }
        if let issuer, !anchors.contains(issuer) {
            // A presented issuer that is no trusted authority: X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN
            // for a root, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY above it.
            return "untrusted issuer \(Self.oneline(issuer.issuer))"
        }
        // X509_V_ERR_CERT_NOT_YET_VALID and X509_V_ERR_CERT_HAS_EXPIRED ("server certificate ...").
        if time < leaf.notValidBefore { return "certificate not yet valid" }
        if time > leaf.notValidAfter { return "certificate has expired" }
        if case .couldNotValidate(let failures) = result, let first = failures.first {
            return "num=0:\(first.policyFailureReason)"
        }
        return "num=0:certificate verification failed"
    }

    /// `X509_NAME_oneline`: `/O=mxharness/CN=...`.
    static func oneline(_ name: DistinguishedName) -> String {
        name.map { rdn in "/" + rdn.map { "\($0)" }.joined(separator: "+") }.joined()
    }
}

/// The DNS names a certificate is for: its subjectAltName dNSNames, or its common name when it has
/// none (OpenSSL `X509_check_host` without `X509_CHECK_FLAG_NEVER_CHECK_SUBJECT`).
struct CertificateNames {
    let names: [String]

    init(_ certificate: Certificate) {
        let alternatives = (try? certificate.extensions.subjectAlternativeNames) ?? nil
        let dns =
            alternatives?.compactMap { name -> String? in
                if case .dnsName(let text) = name { return text }
                return nil
            } ?? []
        if !dns.isEmpty {
            names = dns.map(Self.canonical)
        } else {
            names = certificate.subject.flatMap { $0 }.filter { $0.type == .RDNAttributeType.commonName }
                .map { Self.canonical(String(describing: $0.value)) }
        }
    }

    static func canonical(_ name: String) -> String {
        var name = name.lowercased()
        while name.hasSuffix(".") { name.removeLast() }
        return name
    }

    func matches(_ rules: [NameMatch]) -> Bool {
        rules.contains { rule in names.contains { Self.matches($0, rule) } }
    }

    static func matches(_ presented: String, _ rule: NameMatch) -> Bool {
        switch rule {
        case .hostname(let host), .nexthop(let host):
            let host = canonical(host)
            if presented == host { return true }
            // RFC 6125 6.4.3: `*.example.test` covers exactly one label.
            guard presented.hasPrefix("*."), let dot = host.firstIndex(of: ".") else { return false }
            return host[host.index(after: dot)...] == presented.dropFirst(2)
        case .dotNexthop(let domain):
            let domain = canonical(domain)
            let name = presented.hasPrefix("*.") ? String(presented.dropFirst(2)) : presented
            return name.hasSuffix("." + domain) || (presented.hasPrefix("*.") && name == domain)
        }
    }
}
