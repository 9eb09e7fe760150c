/// The words of STARTTLS (RFC 3207) every part of mxharness shares: the sender's security level,
/// protocol versions, and what one session's TLS was, in Postfix's terms.

/// Postfix's `smtp_tls_security_level` (`sender.tls`), in Postfix's order of strength
/// (src/tls/tls.h: none < may < encrypt < dane < verify < secure).
public enum TLSSecurityLevel: String, Sendable, Hashable, CaseIterable, Codable, Comparable, CustomStringConvertible {
    /// Never STARTTLS.
    case none
    /// STARTTLS when offered; plaintext when it is not or the server refuses it.
    case may
    /// TLS or no delivery; the certificate is not checked.
    case encrypt
    /// DANE (RFC 7672): the TLSA records decide; without usable ones, `may`.
    case dane
    /// TLS with a certificate trusted and naming the MX host (`smtp_tls_verify_cert_match = hostname`).
    case verify
    /// TLS with a certificate trusted and naming the next-hop domain (`nexthop, dot-nexthop`).
    case secure

    public var description: String { rawValue }

    private var strength: Int {
        switch self {
        case .none: 0
        case .may: 1
        case .encrypt: 2
        case .dane: 5
        case .verify: 7
        case .secure: 8
        }
    }

    public static func < (lhs: TLSSecurityLevel, rhs: TLSSecurityLevel) -> Bool { lhs.strength < rhs.strength }

    /// tls.h `TLS_REQUIRED(l)`: above `may`, no delivery without TLS.
    public var requiresTLS: Bool { self > .may }

    /// tls.h `TLS_MUST_MATCH(l)`: above `encrypt`, the certificate must match.
    public var mustMatch: Bool { self > .encrypt }
}

/// A TLS protocol version, by the names Postfix's `smtpd_tls_protocols` uses.
public enum TLSProtocolVersion: String, Sendable, Hashable, CaseIterable, Codable, Comparable, CustomStringConvertible {
    case tls1 = "TLSv1"
    case tls11 = "TLSv1.1"
    case tls12 = "TLSv1.2"
    case tls13 = "TLSv1.3"

    public var description: String { rawValue }

    public static func < (lhs: TLSProtocolVersion, rhs: TLSProtocolVersion) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// The version a TLS record or hello names in its two version bytes (RFC 8446 appendix B).
    public init?(wireValue: UInt16) {
        switch wireValue {
        case 0x0301: self = .tls1
        case 0x0302: self = .tls11
        case 0x0303: self = .tls12
        case 0x0304: self = .tls13
        default: return nil
        }
    }
}

/// What a TLS client concluded about the server's certificate, the first word of Postfix's
/// `... TLS connection established to ...` (src/tls/tls_misc.c `tls_log_summary`).
public enum TLSPeerTrust: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    /// No certificate at all (an anonymous cipher).
    case anonymous = "Anonymous"
    /// A certificate no trusted authority vouches for, or one not valid now.
    case untrusted = "Untrusted"
    /// A trusted chain, its names not checked or not matching.
    case trusted = "Trusted"
    /// A trusted chain naming the host or domain the level asks for (or a matching TLSA record).
    case verified = "Verified"

    public var description: String { rawValue }
}

/// One session's TLS, as both ends log it.
public struct TLSSessionFacts: Sendable, Hashable, Codable, CustomStringConvertible {
    public var version: TLSProtocolVersion?
    /// The cipher suite by its OpenSSL name (`TLS_AES_256_GCM_SHA384`, `ECDHE-ECDSA-AES128-GCM-SHA256`).
    public var cipher: String?
    /// The sender's verdict on the certificate; nil on the server's side.
    public var trust: TLSPeerTrust?

    public init(version: TLSProtocolVersion?, cipher: String?, trust: TLSPeerTrust? = nil) {
        self.version = version
        self.cipher = cipher
        self.trust = trust
    }

    /// `TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 (128/128 bits)`, as Postfix logs it.
    public var description: String {
        var text = version?.rawValue ?? "TLS"
        if let cipher {
            text += " with cipher \(cipher)"
            if let bits = TLSCipherSuite.bits(ofName: cipher) { text += " (\(bits)/\(bits) bits)" }
        }
        return text
    }
}
