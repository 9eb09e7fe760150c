import Crypto
import DNSCore
import Foundation
import SwiftASN1
import X509

/// One usable TLSA record (RFC 6698 2.1; RFC 7672 3.1: only DANE-TA(2) and DANE-EE(3) for SMTP).
public struct TLSAAssociation: Sendable, Hashable {
    public var usage: UInt8
    public var selector: UInt8
    public var matching: UInt8
    public var data: [UInt8]

    public init(usage: UInt8, selector: UInt8, matching: UInt8, data: [UInt8]) {
        self.usage = usage
        self.selector = selector
        self.matching = matching
        self.data = data
    }

    /// tls_dane.c `parse_tlsa_rr`: usages 2 and 3, selectors 0 and 1, matching types 0 (full), 1
    /// (SHA-256) and 2 (SHA-512), with data of the digest's length.
    public init?(_ record: RecordData) {
        guard case .tlsa(let usage, let selector, let matching, let data) = record, let bytes = data.bytes,
            usage == 2 || usage == 3, selector <= 1
        else { return nil }
        switch matching {
        case 0: guard !bytes.isEmpty else { return nil }
        case 1: guard bytes.count == 32 else { return nil }
        case 2: guard bytes.count == 64 else { return nil }
        default: return nil
        }
        self.init(usage: usage, selector: selector, matching: matching, data: bytes)
    }

    /// Whether `certificate` is the one this record names.
    public func matches(_ certificate: Certificate) -> Bool {
        var serializer = DER.Serializer()
        do {
            if selector == 0 {
                try serializer.serialize(certificate)
            } else {
                try serializer.serialize(certificate.publicKey)
            }
        } catch { return false }
        let selected = serializer.serializedBytes
        switch matching {
        case 0: return selected == data
        case 1: return Array(SHA256.hash(data: selected)) == data
        default: return Array(SHA512.hash(data: selected)) == data
        }
    }
}

/// The certificate check of a DANE destination (RFC 7672 3.1, tls_dane.c): a DANE-EE(3) record
/// matching the server's own certificate verifies it, with no name, date or chain check
/// (RFC 7672 3.1.1); a DANE-TA(2) record matching a certificate of the presented chain makes it
/// the trust anchor, and the chain from the leaf to it must be sound and name the MX host or
/// the next-hop domain (RFC 7672 3.2.2).
public struct DANEAuthentication: PeerAuthentication {
    public var records: [TLSAAssociation]
    /// The names a DANE-TA chain's leaf may carry: the TLSA base domain (the MX host) and the
    /// next-hop domain (smtp_tls_policy.c builds `matchargv` so).
    public var names: [NameMatch]

    public init(records: [TLSAAssociation], names: [NameMatch]) {
        self.records = records
        self.names = names
    }

    public func verify(chain: [Certificate], at time: Date) async -> PeerVerdict {
        guard let leaf = chain.first else {
            return PeerVerdict(isTrusted: false, isMatched: false, failure: "no certificate presented")
        }
        if records.contains(where: { $0.usage == 3 && $0.matches(leaf) }) {
            return PeerVerdict(isTrusted: true, isMatched: true, failure: nil)
        }
        for anchor in chain.dropFirst() where records.contains(where: { $0.usage == 2 && $0.matches(anchor) }) {
            let pkix = await PKIXAuthentication(trustAnchors: [anchor], names: names).verify(chain: chain, at: time)
            if pkix.isMatched { return pkix }
        }
        // OpenSSL's X509_V_ERR_DANE_NO_MATCH is 65 (tls_verify.c logs it as "num=%d:%s").
        return PeerVerdict(isTrusted: false, isMatched: false, failure: "num=65:no matching DANE TLSA records")
    }
}

/// What a TLSA record of a receiver's certificate holds (RFC 6698 2.1): the SHA-256 digests
/// DANE-EE(3) records name with selector 0 (the whole certificate) or 1 (its public key).
extension Certificate {
    /// SHA-256 of the DER SubjectPublicKeyInfo (`3 1 1`).
    public func publicKeySHA256() throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.serialize(publicKey)
        return Array(SHA256.hash(data: serializer.serializedBytes))
    }

    /// SHA-256 of the DER certificate (`3 0 1`).
    public func certificateSHA256() throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.serialize(self)
        return Array(SHA256.hash(data: serializer.serializedBytes))
    }
}
