import Crypto
import Foundation

/// What a signature says beside the key: RFC 6376 5 signing, one DKIM-Signature field.
public struct DKIMSigner: Sendable {
    public var domain: String
    public var selector: String
    public var key: DKIMSigningKey
    /// The h= list, in order (names may repeat to sign several instances or oversign).
    public var signedHeaders: [String]
    public var canonicalization: CanonicalizationPair
    public var identity: String?
    /// l=: sign only this many octets of the canonical body.
    public var bodyLength: Int?

    public static let defaultHeaders = ["from", "to", "subject", "date", "message-id"]

    public init(
        domain: String, selector: String, key: DKIMSigningKey, signedHeaders: [String] = DKIMSigner.defaultHeaders,
        canonicalization: CanonicalizationPair = CanonicalizationPair(header: .relaxed, body: .relaxed),
        identity: String? = nil, bodyLength: Int? = nil
    ) {
        self.domain = domain
        self.selector = selector
        self.key = key
        self.signedHeaders = signedHeaders
        self.canonicalization = canonicalization
        self.identity = identity
        self.bodyLength = bodyLength
    }

    /// The DKIM-Signature field for `message` (CRLF-terminated, to put on top of it), with t= and
    /// x= when given (seconds since the epoch).
    public func signatureField(for message: [UInt8], timestamp: Int?, expiration: Int? = nil) throws(DKIMKeyError)
        -> String
    {
        let parsed = DKIMMessage(message)
        let bodyHash =
            DKIMHashing.bodyHash(parsed.body, canonicalization: canonicalization.body, length: bodyLength) ?? []
        var tags = ["v=1", "a=\(key.algorithm.rawValue)", "c=\(canonicalization)", "d=\(domain)", "s=\(selector)"]
        if let identity { tags.append("i=\(identity)") }
        if let bodyLength { tags.append("l=\(bodyLength)") }
        if let timestamp { tags.append("t=\(timestamp)") }
        if let expiration { tags.append("x=\(expiration)") }
        tags.append("h=\(signedHeaders.joined(separator: ":"))")
        tags.append("bh=\(Data(bodyHash).base64EncodedString())")
        let unsigned = "DKIM-Signature: " + tags.joined(separator: "; ") + "; b="
        let data = DKIMHashing.headerData(
            message: parsed, signedHeaders: signedHeaders.map { $0.lowercased() },
            signatureField: Array((unsigned + "\r\n").utf8),
            canonicalization: canonicalization.header)
        let signature = try key.sign(SHA256.hash(data: data))
        return unsigned + Data(signature).base64EncodedString() + "\r\n"
    }

    /// `message` with its signature field on top.
    public func sign(_ message: [UInt8], timestamp: Int?, expiration: Int? = nil) throws(DKIMKeyError) -> [UInt8] {
        Array(try signatureField(for: message, timestamp: timestamp, expiration: expiration).utf8)
            + DKIMMessage.crlf(message)
    }
}
