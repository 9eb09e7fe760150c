import DNSCore
@testable import DKIM
import MXHarnessTestKit

/// TXT record data from one string, cut into 255-byte character-strings as a zone would hold it.
func txt(_ text: String) -> RecordData {
    let bytes = Array(text.utf8)
    var strings: [[UInt8]] = []
    var index = 0
    repeat {
        strings.append(Array(bytes[index..<min(index + 255, bytes.count)]))
        index += 255
    } while index < bytes.count
    return .txt(strings)
}

let sampleMessage = Array(
    """
    From: Joe SixPack <joe@football.example.com>\r
    To: Suzie Q <suzie@shopping.example.net>\r
    Subject: Is dinner ready?\r
    Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r
    Message-ID: <20030712040037.46341.5F8J@football.example.com>\r
    \r
    Hi.\r
    \r
    We lost the game.  Are you hungry yet?\r
    \r
    Joe.\r

    """.utf8)

/// A 512-bit RSA public key (SubjectPublicKeyInfo), for RFC 8301's size rule.
let rsa512PublicKey =
    "MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBANmBe10IgY+u7h3enWTukkqtUD5PR52Tb/mPfjC0QJTocVBq6Za/PlzfV+Py92VaCak19F4WrbVTK5Gg5tW220MCAwEAAQ=="

/// Keys made once per test process (RSA generation is slow).
enum TestKeys {
    static let rsa1024 = try! DKIMSigningKey.generate(.rsaSHA256, bits: 1024)
    static let rsa2048 = try! DKIMSigningKey.generate(.rsaSHA256, bits: 2048)
    static let ed25519 = try! DKIMSigningKey.generate(.ed25519SHA256)
}

let signingTime = 1_700_000_000
