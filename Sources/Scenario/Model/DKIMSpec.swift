import DKIM
import DNSCore
import Foundation

/// `sender.dkim` (format 1.1 extension): the built-in sender signs the message before DATA.
public struct DKIMSpec: Sendable {
    /// What the harness publishes at the key name when `dns.records` has no TXT record there.
    public enum Record: String, Sendable, Hashable, CaseIterable {
        /// The signing key's record.
        case auto
        /// Nothing: the key is missing.
        case none
        /// The record with `t=y` left on.
        case testing
        /// `p=` empty: the key revoked.
        case revoked
        /// Cut short, as a DNS panel that keeps only the first 255-byte string (at least the last
        /// 40 characters are lost).
        case truncated
        /// A 512-bit RSA key in place of the signing key (RFC 8301 refuses it).
        case weak
    }

    /// A change made to the message after it was signed.
    public enum Breakage: String, Sendable, Hashable, CaseIterable {
        /// A line added to the body.
        case bodyChanged = "body-changed"
        /// The last header field the signature covers changed.
        case headerChanged = "header-changed"
        /// Signed a day ago with `x=` an hour after that.
        case expired
    }

    /// `d=`; the domain of the From address (MAIL FROM's, or the HELO name's) when absent.
    public var domain: String?
    public var selector: String
    public var algorithm: DKIMAlgorithm
    /// RSA key size (1024 or 2048).
    public var bits: Int
    /// `h=`, lowercased.
    public var headers: [String]
    public var canonicalization: CanonicalizationPair
    /// The key given in the scenario, or the one the runner generated; nil until then.
    public var key: DKIMSigningKey?
    /// `x=` this many seconds after `t=`.
    public var expireAfter: Int?
    public var record: Record
    /// Where the record is published; `selector` when absent (another name makes a wrong selector).
    public var recordSelector: String?
    public var breakage: Breakage?

    public init(
        domain: String? = nil, selector: String, algorithm: DKIMAlgorithm = .rsaSHA256, bits: Int = 2048,
        headers: [String] = DKIMSigner.defaultHeaders,
        canonicalization: CanonicalizationPair = .init(header: .relaxed, body: .relaxed),
        key: DKIMSigningKey? = nil, expireAfter: Int? = nil, record: Record = .auto, recordSelector: String? = nil,
        breakage: Breakage? = nil
    ) {
        self.domain = domain
        self.selector = selector
        self.algorithm = algorithm
        self.bits = bits
        self.headers = headers
        self.canonicalization = canonicalization
        self.key = key
        self.expireAfter = expireAfter
        self.record = record
        self.recordSelector = recordSelector
        self.breakage = breakage
    }

    /// A 512-bit RSA public key (SubjectPublicKeyInfo, base64) for `record: weak`.
    public static let weakPublicKey =
        "MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBANmBe10IgY+u7h3enWTukkqtUD5PR52Tb/mPfjC0QJTocVBq6Za/PlzfV+Py92VaCak19F4WrbVTK5Gg5tW220MCAwEAAQ=="
}

extension SenderSpec {
    /// The signing domain: `sender.dkim.domain`, else the domain the From header uses.
    public func dkimDomain(_ spec: DKIMSpec) -> String {
        spec.domain ?? senderDomain
    }

    /// The owner name of the key record the harness publishes.
    public func dkimKeyName(_ spec: DKIMSpec) -> String {
        "\(spec.recordSelector ?? spec.selector)._domainkey.\(dkimDomain(spec))"
    }

    /// The key record text the harness publishes for `spec` with `key`, or nil for `record: none`.
    public func dkimRecordText(_ spec: DKIMSpec, key: DKIMSigningKey) -> String? {
        switch spec.record {
        case .auto: return key.keyRecord()
        case .none: return nil
        case .testing: return key.keyRecord(flags: "y")
        case .revoked: return "v=DKIM1; k=\(key.algorithm.keyType); p="
        case .weak: return "v=DKIM1; k=rsa; p=\(DKIMSpec.weakPublicKey)"
        case .truncated:
            let text = key.keyRecord()
            return String(text.prefix(min(255, text.count - 40)))
        }
    }

    /// `text` signed as `dkim` says, with its breakage applied; `now` in seconds since the epoch.
    func signed(_ text: String, _ dkim: DKIMSpec, now: Int) -> [UInt8] {
        let bytes = Array(text.utf8)
        guard let key = dkim.key else { return bytes }
        let signer = DKIMSigner(
            domain: dkimDomain(dkim), selector: dkim.selector, key: key, signedHeaders: dkim.headers,
            canonicalization: dkim.canonicalization)
        var timestamp = now
        var expiration = dkim.expireAfter.map { now + $0 }
        if dkim.breakage == .expired {
            timestamp = now - 86_400
            expiration = timestamp + (dkim.expireAfter ?? 3_600)
        }
        // Signing fails only on a key the library refuses, which loading has already read.
        guard var signed = try? signer.sign(bytes, timestamp: timestamp, expiration: expiration) else { return bytes }
        switch dkim.breakage {
        case .bodyChanged:
            signed += Array("This line was added after signing.\r\n".utf8)
        case .headerChanged:
            var message = DKIMMessage(signed)
            if let index = message.fields.lastIndex(where: { field in
                dkim.headers.contains(field.name.lowercased()) && field.name.lowercased() != "dkim-signature"
            }) {
                var raw = message.fields[index].raw
                raw.removeLast(2)
                raw += Array(" [changed in transit]\r\n".utf8)
                message.fields[index].raw = raw
                signed = message.bytes
            }
        case .expired, .none:
            break
        }
        return signed
    }
}
