import Crypto
import DNSCore
@testable import DKIM
import Foundation
import MXHarnessTestKit
import Testing

/// The published vectors in Conformance/vectors (see its README.md for provenance and licence).
@Suite struct ConformanceTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Conformance/vectors")

    static func data(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: folder.appendingPathComponent(name)))
    }

    static func text(_ name: String) throws -> String {
        String(decoding: try data(name), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The key records the vectors need, as dkimpy's tests serve them.
    static func dns() throws -> InMemoryDNS {
        InMemoryDNS([
            (
                "brisbane._domainkey.football.example.com",
                txt("v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")
            ),
            ("test._domainkey.football.example.com", txt(try text("test.txt"))),
            ("sed._domainkey.test.ex", txt(try text("eximtest.dns"))),
            ("20120113._domainkey.gmail.com", txt(gmailKey)),
        ])
    }

    static let gmailKey =
        "k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA1Kd87/UeJjenpabgbFwh+eBCsSTrqmwIYYvywlbhbqoo2DymndFkbjOVIPIldNs/m40KF+yzMn1skyoxcTUGCQs8g3FgD2Ap3ZB5DekAo5wMmk4wimDO+U8QzI3SD07y2+07wlNWwIt8svnxgdxGkVbbhzY8i+RQ9DpSVpPbF7ykQxtKXkv/ahW3KjViiAH+ghvvIhkx4xYSIc9oSwVmAl5OctMEeWUwg8Istjqz8BZeTWbf41fbNhte7Y+YqZOwq1Sd0DbvYAD9NOZK9vlfuac0598HY+vtSBczUiKERHv1yRbcaQtZFh5wtiRrN04BLUTD21MycBX5jYchHjPY/wIDAQAB"

    struct Vector: Sendable {
        var name: String
        var run: @Sendable () async throws -> String?
    }

    /// Each vector returns nil when it holds, or what went wrong.
    static func vectors() -> [Vector] {
        var list: [Vector] = []
        // RFC 8463 A.3: both signatures of the signed example verify.
        for (index, label) in [(0, "rfc8463-a3-ed25519-verifies"), (1, "rfc8463-a3-rsa-verifies")] {
            list.append(
                Vector(name: label) {
                    let results = await DKIMVerifier(lookup: try dns()).verify(
                        try data("rfc6376.signed.msg"), now: 1_527_915_362)
                    guard results.count == 2 else { return "expected 2 signatures, found \(results.count)" }
                    return results[index].result == .pass ? nil : results[index].description
                })
        }
        // RFC 8463 A.1/A.2: the RFC's keys and tags give the RFC's bh= and b= byte for byte.
        for (index, label, keyFile) in [
            (0, "rfc8463-a1-ed25519-signs", "rfc8032_7_1.key"), (1, "rfc8463-a2-rsa-signs", "test.private"),
        ] {
            list.append(
                Vector(name: label) {
                    let signed = DKIMMessage(try data("rfc6376.signed.msg"))
                    let field = signed.fields(named: "DKIM-Signature")[index]
                    let signature = try DKIMSignature(field: field)
                    let key = try DKIMSigningKey(text: try text(keyFile))
                    let unsigned = DKIMMessage(try data("rfc6376.msg"))
                    let bh = DKIMHashing.bodyHash(
                        unsigned.body, canonicalization: signature.canonicalization.body, length: nil)
                    guard bh == signature.bodyHash else { return "bh= differs" }
                    let headerData = DKIMHashing.headerData(
                        message: unsigned, signedHeaders: signature.signedHeaders, signatureField: field.raw,
                        canonicalization: signature.canonicalization.header)
                    let b = try key.sign(SHA256.hash(data: headerData))
                    return b == signature.signature ? nil : "b= differs"
                })
        }
        list.append(
            Vector(name: "dkimpy-gmail-degenerate-folding-verifies") {
                let results = await DKIMVerifier(lookup: try dns()).verify(
                    try data("test2.message"), now: 1_370_770_622)
                return results.first?.result == .pass ? nil : results.first?.description ?? "no signature"
            })
        list.append(
            Vector(name: "dkimpy-exim-ed25519-verifies") {
                let results = await DKIMVerifier(lookup: try dns()).verify(
                    try data("ed25519test2.msg"), now: 1_505_647_791)
                return results.first?.result == .pass ? nil : results.first?.description ?? "no signature"
            })
        // dkimpy's broken key records: a signature by the test key must not verify against them.
        for file in ["test_bad.txt", "badversion.txt", "badk.txt"] {
            list.append(
                Vector(name: "dkimpy-\(file)-refused") {
                    let key = try DKIMSigningKey(text: try text("test.private"))
                    let message = try DKIMSigner(domain: "example.com", selector: "test", key: key).sign(
                        try data("rfc6376.msg"), timestamp: nil)
                    let lookup = InMemoryDNS([("test._domainkey.example.com", txt(try text(file)))])
                    let good = InMemoryDNS([("test._domainkey.example.com", txt(try text("test.txt")))])
                    guard await DKIMVerifier(lookup: good).verify(message, now: 0).first?.result == .pass else {
                        return "does not verify with the good record"
                    }
                    let result = await DKIMVerifier(lookup: lookup).verify(message, now: 0).first
                    return result?.result == .permerror
                        ? nil : "expected permerror, got \(result?.description ?? "nothing")"
                })
        }
        return list
    }

    @Test func publishedVectors() async throws {
        var passed = 0
        var failures: [String] = []
        for vector in Self.vectors() {
            do {
                if let problem = try await vector.run() {
                    failures.append("\(vector.name): \(problem)")
                } else {
                    passed += 1
                }
            } catch {
                failures.append("\(vector.name): \(error)")
            }
        }
        print("DKIM conformance: \(passed) passed, \(failures.count) failed")
        for failure in failures { print("  \(failure)") }
        #expect(failures.isEmpty)
        #expect(passed == 9)
    }
}
