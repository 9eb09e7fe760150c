import CertificateAuthority
import DNSCore
import Scenario

/// A TLSA stand-in (`receiver-key`, `receiver-cert`, `authority-key`, `authority-cert`) that could
/// not be replaced: no receiver
/// address, or no certificate for it.
public struct TLSAPreparationError: Error, CustomStringConvertible {
    public var description: String
}

extension ScenarioCase {
    /// The scenario with every TLSA stand-in replaced by the SHA-256 digest of the certificate the
    /// receiver presents on the addresses of the TLSA record's host (`_25._tcp.HOST`): the key's
    /// SubjectPublicKeyInfo for `receiver-key`, the whole certificate for `receiver-cert`, and the
    /// same of the certificate's issuer (the one the receiver presents after it) for
    /// `authority-key` and `authority-cert`. A host without an address of the receiver gets the
    /// certificate of the receiver's first address.
    public func preparingTLSA(authority: RunAuthority) throws(TLSAPreparationError) -> ScenarioCase {
        guard
            dns.records.contains(where: {
                if case .tlsa(_, _, _, let data) = $0.data { data.bytes == nil } else { false }
            })
        else { return self }
        var prepared = self
        let groups = receiver.tls.certificates(hostname: receiver.hostname, addresses: receiver.addresses)
        for index in prepared.dns.records.indices {
            let record = prepared.dns.records[index]
            guard case .tlsa(let usage, let selector, let matching, let data) = record.data, data.bytes == nil else {
                continue
            }
            let host = record.owner.split(separator: ".").dropFirst(2).joined(separator: ".")
            let hostAddresses = Set(dns.effectiveRecords.filter { $0.owner == host }.compactMap(\.data.address))
            guard let group = groups.first(where: { !hostAddresses.isDisjoint(with: $0.addresses) }) ?? groups.first
            else {
                throw TLSAPreparationError(
                    description: "dns.records: \(record.owner) TLSA \(data): the receiver has no address")
            }
            do {
                let issued = try authority.authority().certificate(
                    group.kind, names: group.names, addresses: group.addresses)
                // The issuer as the receiver presents it (the chain after the leaf); a self-signed
                // certificate is its own issuer.
                let issuer = issued.intermediates.first ?? issued.certificate
                let digest: [UInt8]
                switch data {
                case .receiverKey: digest = try issued.certificate.publicKeySHA256()
                case .receiverCert: digest = try issued.certificate.certificateSHA256()
                case .authorityKey: digest = try issuer.publicKeySHA256()
                case .authorityCert, .bytes: digest = try issuer.certificateSHA256()
                }
                prepared.dns.records[index].data = .tlsa(
                    usage: usage, selector: selector, matching: matching, data: .bytes(digest))
            } catch {
                throw TLSAPreparationError(description: "dns.records: \(record.owner) TLSA \(data): \(error)")
            }
        }
        return prepared
    }
}
