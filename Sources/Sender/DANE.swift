import CertificateAuthority
import DNSCore
import Delivery
import Foundation
import SMTPProtocol
import X509

/// What Postfix 3.7 makes of `smtp_tls_security_level = dane` for one MX address
/// (src/smtp/smtp_tls_policy.c `dane_init`, src/tls/tls_dane.c `tls_dane_resolve`, `dane_lookup`),
/// with `smtp_dns_support_level = dnssec` and `smtp_tls_dane_insecure_mx_policy` at its default,
/// which is `dane` when the global level is `dane`.
public enum DANEPolicy: Sendable, Hashable {
    /// DANE does not apply: the level used instead (`may` for "no TLSA records found" and a host
    /// whose addresses are not DNSSEC-validated; `encrypt` for "TLSA records unusable").
    case downgraded(TLSSecurityLevel, reason: String)
    /// The usable TLSA records decide; `halfDANE` when the MX RRset itself was insecure
    /// (tls.h `TLS_LEV_HALF_DANE`, logged as plain dane).
    case dane([TLSAAssociation], halfDANE: Bool)
    /// The TLSA lookup failed (SERVFAIL, a bogus answer, a timeout): this address is not tried,
    /// and the delivery defers with 4.7.5 when no other address takes it. `warning` is what
    /// Postfix logs (`warning: DANE TLSA lookup problem: ...`).
    case lookupError(reason: String, warning: String)
}

/// Looks up the DANE policy of MX addresses through the sender's resolver.
public struct DANEResolver: Sendable {
    let lookup: any DNSLookup

    public init(lookup: any DNSLookup) {
        self.lookup = lookup
    }

    /// `mxSecure`: whether the MX RRset the destination came from was validated; nil when there
    /// was none (a relay host, the implicit MX).
    public func policy(for destination: Destination, port: UInt16, mxSecure: Bool?) async -> DANEPolicy {
        // tls_dane_resolve: no TLSA lookup for a host whose address records are not validated.
        let addresses = await lookup.securedQuery(destination.host, .address(destination.family))
        guard addresses.security == .secure else {
            return .downgraded(.may, reason: "no TLSA records found")
        }
        let name = "_\(port)._tcp.\(DNSName.normalize(destination.host))"
        let answer = await lookup.securedQuery(name, .tlsa)
        switch answer.result {
        case .failure(let error) where error.isTemporary:
            // dns_lookup's text for a SERVFAIL, as Postfix words it (dns_strerror TRY_AGAIN).
            let warning =
                "DANE TLSA lookup problem: Host or domain name not found. Name service error for name=\(name) type=TLSA: Host not found, try again"
            return .lookupError(
                reason: "TLSA lookup error for \(DNSName.normalize(destination.host)):\(port)", warning: warning)
        case .failure:
            return .downgraded(.may, reason: "no TLSA records found")
        case .success(let records):
            // dane_lookup: an insecure answer counts as none.
            guard answer.security == .secure else { return .downgraded(.may, reason: "no TLSA records found") }
            let usable = records.compactMap(TLSAAssociation.init)
            guard !usable.isEmpty else { return .downgraded(.encrypt, reason: "TLSA records unusable") }
            return .dane(usable, halfDANE: mxSecure == false)
        }
    }
}

extension SenderTLS {
    /// This level with one destination's DANE policy applied: the DANE check with the usable
    /// TLSA records, or the level DANE fell back to (`may`, `encrypt`) with Postfix's own check.
    func applying(_ policy: DANEPolicy, destination: Destination, nexthop: String) -> SenderTLS {
        var tls = self
        switch policy {
        case .dane(let records, _):
            let check = DANECheck(records: records)
            tls.check = check
        case .downgraded(let level, _):
            tls.level = level
            tls.check = nil
        case .lookupError:
            break
        }
        return tls
    }
}

/// The DANE check of one destination: its TLSA records, with the MX host and the next-hop
/// domain as the names a DANE-TA chain may carry.
struct DANECheck: CertificateCheckProvider {
    let records: [TLSAAssociation]

    func authentication(
        level: TLSSecurityLevel, trustAnchors: [Certificate], destination: Destination, nexthop: String
    ) -> any PeerAuthentication {
        DANEAuthentication(records: records, names: [.hostname(destination.host), .nexthop(nexthop)])
    }
}
