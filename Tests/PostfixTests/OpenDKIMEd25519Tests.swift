@testable import Postfix
import Testing

/// OpenDKIM 2.11 signs Ed25519 correctly only with relaxed header canonicalization (libopendkim
/// forces the fold before `b=` for RSA keys alone): the real Postfix sender skips the rest.
@Suite struct OpenDKIMEd25519Tests {
    static func signing(_ algorithm: String, _ canonicalization: String) -> OpenDKIMSigning {
        OpenDKIMSigning(
            domain: "sender.test", selector: "s2026", algorithm: algorithm, canonicalization: canonicalization,
            headers: ["from", "to", "subject", "date"], expireAfter: nil, keyPEM: "", breakage: nil)
    }

    @Test(arguments: ["simple/simple", "simple/relaxed"])
    func ed25519WithSimpleHeadersIsSkipped(canonicalization: String) throws {
        let reason = try #require(PostfixSenders.ed25519Reason(Self.signing("ed25519-sha256", canonicalization)))
        #expect(reason.contains("dkim_getsighdr_d"))
    }

    @Test(arguments: [
        ("ed25519-sha256", "relaxed/relaxed"), ("ed25519-sha256", "relaxed/simple"),
        ("rsa-sha256", "simple/simple"),
    ])
    func whatOpenDKIMSignsVerifiablyRuns(algorithm: String, canonicalization: String) {
        #expect(PostfixSenders.ed25519Reason(Self.signing(algorithm, canonicalization)) == nil)
    }
}
