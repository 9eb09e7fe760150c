import Crypto
import DNSCore

/// How one signature came out (the `dkim=` results of RFC 8601 2.7.1).
public enum DKIMResult: String, Sendable, Hashable, Codable, CustomStringConvertible {
    case pass
    /// The signature or body hash did not verify.
    case fail
    /// Verified, but the key record says t=y: treated as unsigned (RFC 6376 3.6.1).
    case neutral
    /// A DNS error kept the key from being fetched.
    case temperror
    /// The signature or its key record cannot be used (syntax, missing or revoked key, weak key, expired).
    case permerror

    public var description: String { rawValue }
}

/// One signature's verification, with what a decision record names: the signature, the key
/// record and the reason.
public struct DKIMVerification: Sendable, Hashable, Codable, CustomStringConvertible {
    public var result: DKIMResult
    /// `d=`, when the signature could be read that far.
    public var domain: String?
    public var selector: String?
    public var algorithm: String?
    /// The TXT record the key came from, as found.
    public var keyRecord: String?
    /// `rsa 2048 bits`, `ed25519`, once the key was decoded.
    public var key: String?
    public var reason: String

    public init(
        result: DKIMResult, domain: String? = nil, selector: String? = nil, algorithm: String? = nil,
        keyRecord: String? = nil, key: String? = nil, reason: String
    ) {
        self.result = result
        self.domain = domain
        self.selector = selector
        self.algorithm = algorithm
        self.keyRecord = keyRecord
        self.key = key
        self.reason = reason
    }

    public var description: String {
        var text = "dkim=\(result)"
        if let domain { text += " d=\(domain)" }
        if let selector { text += " s=\(selector)" }
        if let algorithm { text += " a=\(algorithm)" }
        if let key { text += " (\(key))" }
        text += ": \(reason)"
        if let keyRecord { text += "; key record \"\(keyRecord.prefix(120))\"" }
        return text
    }
}

/// Verifies the DKIM-Signature fields of a message (RFC 6376 6), with key records from a `DNSLookup`.
public struct DKIMVerifier: Sendable {
    public let lookup: any DNSLookup
    /// Signatures past this many are not looked at (RFC 6376 6.1: verifiers may limit them).
    public var maximumSignatures: Int

    public init(lookup: any DNSLookup, maximumSignatures: Int = 8) {
        self.lookup = lookup
        self.maximumSignatures = maximumSignatures
    }

    /// Every signature of `message`, in the order they appear; empty when it has none.
    /// `now` is seconds since the epoch (x= is checked against it).
    public func verify(_ message: [UInt8], now: Int) async -> [DKIMVerification] {
        let parsed = DKIMMessage(message)
        var results: [DKIMVerification] = []
        for field in parsed.fields(named: "DKIM-Signature").prefix(maximumSignatures) {
            results.append(await verify(field, in: parsed, now: now))
        }
        return results
    }

    public func verify(_ field: DKIMMessage.Field, in message: DKIMMessage, now: Int) async -> DKIMVerification {
        var outcome = DKIMVerification(result: .permerror, reason: "")
        let signature: DKIMSignature
        do {
            signature = try DKIMSignature(field: field)
        } catch {
            outcome.reason = error.description
            return outcome
        }
        outcome.domain = signature.domain
        outcome.selector = signature.selector
        outcome.algorithm = signature.algorithm.rawValue
        if signature.algorithm == .rsaSHA1 {
            outcome.reason = "rsa-sha1 signatures are not accepted (RFC 8301 3.1)"
            return outcome
        }
        if let x = signature.expiration, x < now {
            outcome.reason = "signature expired (x=\(x), \(now - x) s ago)"
            return outcome
        }
        // The key (RFC 6376 6.1.2).
        let texts: [String]
        do {
            texts = try await lookup.texts(of: signature.keyName)
        } catch {
            outcome.result = error.isTemporary ? .temperror : .permerror
            outcome.reason = "no key record: \(signature.keyName) TXT \(Self.name(of: error))"
            return outcome
        }
        var record: DKIMKeyRecord?
        var recordError: DKIMKeyRecordError?
        for text in texts {
            do {
                record = try DKIMKeyRecord(text: text)
                outcome.keyRecord = text
                break
            } catch {
                recordError = recordError ?? error
                outcome.keyRecord = outcome.keyRecord ?? text
            }
        }
        guard let record else {
            outcome.reason =
                recordError.map { "\(signature.keyName): \($0)" }
                ?? "no key record: \(signature.keyName) has no TXT record"
            return outcome
        }
        let key: DKIMPublicKey
        do {
            try record.check(for: signature)
            key = try record.key(for: signature.algorithm)
        } catch {
            outcome.reason = "\(signature.keyName): \(error)"
            return outcome
        }
        outcome.key = key.summary
        // The body hash, then the header hash (RFC 6376 6.1.3).
        guard
            let bodyHash = DKIMHashing.bodyHash(
                message.body, canonicalization: signature.canonicalization.body, length: signature.bodyLength)
        else {
            outcome.reason = "l=\(signature.bodyLength ?? 0) is longer than the canonical body"
            return outcome
        }
        guard bodyHash == signature.bodyHash else {
            outcome.result = .fail
            outcome.reason = "body hash did not verify (the body changed after signing)"
            return outcome
        }
        let data = DKIMHashing.headerData(
            message: message, signedHeaders: signature.signedHeaders, signatureField: field.raw,
            canonicalization: signature.canonicalization.header)
        guard key.verifies(signature.signature, digest: SHA256.hash(data: data)) else {
            outcome.result = .fail
            outcome.reason = "signature did not verify (a signed header field changed, or the key is not the signer's)"
            return outcome
        }
        if record.isTesting {
            outcome.result = .neutral
            outcome.reason = "verified, but the key record has t=y (testing): treated as unsigned (RFC 6376 3.6.1)"
            return outcome
        }
        outcome.result = .pass
        outcome.reason =
            "signature verified (\(signature.canonicalization), h=\(signature.signedHeaders.joined(separator: ":")))"
        return outcome
    }

    static func name(of error: DNSLookupError) -> String {
        switch error {
        case .nxdomain: "NXDOMAIN"
        case .nodata: "NODATA"
        case .servfail: "SERVFAIL"
        case .refused: "REFUSED"
        case .timeout: "timed out"
        case .other(_, _, let reason): reason
        case .bogus: error.shortName
        }
    }
}
