import Crypto
import DNSCore
@testable import DKIM
import Foundation
import MXHarnessTestKit
import Testing

/// SplitMix64: a fixed seed gives the same inputs on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A verifier never crashes on a hostile signature, key record or message: bounded, deterministic
/// mutation fuzzing of each input (the test fails by crashing, or by a result without a reason).
@Suite struct FuzzTests {
    static let alphabet = Array("v=1;a:b-_. \t\r\n@/+=AZaz09;;==\u{0}\u{7f}é".utf8)

    static func mutate(_ bytes: [UInt8], _ rng: inout SeededGenerator) -> [UInt8] {
        var out = bytes
        for _ in 0..<Int.random(in: 1...6, using: &rng) {
            switch Int.random(in: 0..<5, using: &rng) {
            case 0 where !out.isEmpty:
                out[Int.random(in: 0..<out.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            case 1:
                out.insert(alphabet.randomElement(using: &rng)!, at: Int.random(in: 0...out.count, using: &rng))
            case 2 where !out.isEmpty:
                out.remove(at: Int.random(in: 0..<out.count, using: &rng))
            case 3 where !out.isEmpty:
                out = Array(out.prefix(Int.random(in: 0..<out.count, using: &rng)))
            default:
                let start = Int.random(in: 0...out.count, using: &rng)
                out.insert(
                    contentsOf: (0..<Int.random(in: 1...8, using: &rng)).map { _ in alphabet.randomElement(using: &rng)!
                    }, at: start)
            }
        }
        return out
    }

    @Test func hostileSignatureFields() async throws {
        var rng = SeededGenerator(state: 24)
        let key = TestKeys.ed25519
        let signed = try DKIMSigner(domain: "sender.test", selector: "sel", key: key).sign(
            sampleMessage, timestamp: signingTime)
        let message = DKIMMessage(signed)
        let field = message.fields[0].raw
        let verifier = DKIMVerifier(lookup: InMemoryDNS([("sel._domainkey.sender.test", txt(key.keyRecord()))]))
        var outcomes: [DKIMResult: Int] = [:]
        for _ in 0..<1500 {
            var mutated = message
            mutated.fields[0] = DKIMMessage.Field(name: "DKIM-Signature", raw: Self.mutate(field, &rng))
            let result = await verifier.verify(mutated.fields[0], in: mutated, now: signingTime)
            #expect(!result.reason.isEmpty)
            outcomes[result.result, default: 0] += 1
        }
        // The mutations reach past the parser: some fail on hashes, most on syntax.
        #expect(outcomes[.permerror, default: 0] > 0)
        #expect(outcomes[.fail, default: 0] + outcomes[.pass, default: 0] > 0)
    }

    @Test func hostileKeyRecords() async throws {
        var rng = SeededGenerator(state: 6376)
        let signed = try DKIMSigner(domain: "sender.test", selector: "sel", key: TestKeys.rsa1024).sign(
            sampleMessage, timestamp: signingTime)
        let records = [TestKeys.rsa1024.keyRecord(), TestKeys.ed25519.keyRecord(), "v=DKIM1; p=\(rsa512PublicKey)"]
        for round in 0..<600 {
            let record = Self.mutate(Array(records[round % records.count].utf8), &rng)
            let verifier = DKIMVerifier(
                lookup: InMemoryDNS([
                    ("sel._domainkey.sender.test", .txt([Array(record.prefix(255)), Array(record.dropFirst(255))]))
                ]))
            let result = await verifier.verify(signed, now: signingTime)
            #expect(result.count == 1 && !result[0].reason.isEmpty)
        }
    }

    @Test func hostileDERAndRandomKeys() throws {
        var rng = SeededGenerator(state: 8301)
        let der = [UInt8](Data(base64Encoded: TestKeys.rsa2048.publicKeyBase64)!)
        for round in 0..<3000 {
            let bytes =
                round % 2 == 0
                ? Self.mutate(der, &rng)
                : (0..<Int.random(in: 0...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            for algorithm in [DKIMAlgorithm.rsaSHA256, .ed25519SHA256] {
                if let key = try? DKIMPublicKey(algorithm: algorithm, bytes: bytes) {
                    _ = key.verifies(Array(bytes.prefix(64)), digest: SHA256.hash(data: bytes))
                }
            }
        }
    }

    @Test func hostileMessagesAndDMARCRecords() async throws {
        var rng = SeededGenerator(state: 7489)
        let signed = try DKIMSigner(domain: "sender.test", selector: "sel", key: TestKeys.ed25519).sign(
            sampleMessage, timestamp: signingTime)
        let lookup = InMemoryDNS([("sel._domainkey.sender.test", txt(TestKeys.ed25519.keyRecord()))])
        for _ in 0..<300 {
            let message = Self.mutate(signed, &rng)
            _ = await DKIMVerifier(lookup: lookup).verify(message, now: signingTime)
            let record = Self.mutate(
                Array("v=DMARC1; p=reject; sp=none; adkim=s; aspf=r; pct=50; rua=mailto:x@y.test".utf8), &rng)
            let dns = InMemoryDNS([("_dmarc.football.example.com", .txt([record]))])
            let evaluation = await DMARCEvaluator(lookup: dns).evaluate(
                message: message, spfPassed: false, spfDomain: "sender.test", dkim: [])
            #expect(!evaluation.reason.isEmpty)
        }
    }
}
