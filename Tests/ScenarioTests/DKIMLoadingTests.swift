import DKIM
import Foundation
import Scenario
import Testing
import MXHarnessTestKit

/// `sender.dkim`: reading, load errors with file:line:col, and the signed message.
@Suite struct DKIMLoadingTests {
    /// The format's example with `sender.dkim` holding `dkim` (lines without indentation).
    static func yaml(dkim: String) -> String {
        let block = dkim.split(separator: "\n").map { "    " + $0 + "\n" }.joined()
        return formatExample.replacingOccurrences(
            of: "  rcpt_to: [bob@example.test]\n", with: "  rcpt_to: [bob@example.test]\n  dkim:\n" + block)
    }

    @Test func readsEveryKey() throws {
        let text = Self.yaml(
            dkim: """
                selector: s2026
                domain: Sender.Test
                algorithm: ed25519-sha256
                headers: [From, Subject]
                canonicalization: simple/relaxed
                expire_after: 600
                record: testing
                record_selector: old
                break: header-changed
                """)
        let scenario = try #require(try ScenarioLoader().load(yaml: text, file: "d.yaml").first)
        let dkim = try #require(scenario.sender.dkim)
        #expect(dkim.selector == "s2026" && dkim.domain == "sender.test" && dkim.algorithm == .ed25519SHA256)
        #expect(dkim.headers == ["from", "subject"])
        #expect(dkim.canonicalization == CanonicalizationPair(header: .simple, body: .relaxed))
        #expect(
            dkim.expireAfter == 600 && dkim.record == .testing && dkim.recordSelector == "old"
                && dkim.breakage == .headerChanged)
        #expect(dkim.key == nil)
        #expect(scenario.sender.dkimKeyName(dkim) == "old._domainkey.sender.test")
    }

    @Test func defaults() throws {
        let scenario = try #require(
            try ScenarioLoader().load(yaml: Self.yaml(dkim: "selector: s1\n"), file: "d.yaml").first)
        let dkim = try #require(scenario.sender.dkim)
        #expect(dkim.algorithm == .rsaSHA256 && dkim.bits == 2048 && dkim.record == .auto && dkim.breakage == nil)
        #expect(dkim.canonicalization == CanonicalizationPair(header: .relaxed, body: .relaxed))
        #expect(scenario.sender.dkimDomain(dkim) == "sender.test")
    }

    @Test func malformedValuesAreLoadErrorsWithPositions() {
        let badSelector = loadErrors(yaml: Self.yaml(dkim: "selector: \"bad selector!\"\n"), file: "d.yaml")
        #expect(
            badSelector.contains {
                $0.hasPrefix("d.yaml:27:15: sender.dkim.selector:") && $0.contains("is not a DKIM selector")
            }, "\(badSelector)")
        let badKey = loadErrors(
            yaml: Self.yaml(
                dkim: "selector: s1\nkey: \"-----BEGIN PRIVATE KEY-----\\nAAAA\\n-----END PRIVATE KEY-----\"\n"),
            file: "d.yaml")
        #expect(
            badKey.contains { $0.hasPrefix("d.yaml:28:10: sender.dkim.key:") && $0.contains("unreadable") }, "\(badKey)"
        )
        let noFrom = loadErrors(yaml: Self.yaml(dkim: "selector: s1\nheaders: [to]\n"), file: "d.yaml")
        #expect(noFrom.contains { $0.contains("sender.dkim.headers") && $0.contains("must include From") }, "\(noFrom)")
        let badBits = loadErrors(yaml: Self.yaml(dkim: "selector: s1\nbits: 512\n"), file: "d.yaml")
        #expect(badBits.contains { $0.contains("sender.dkim.bits") && $0.contains("1024, 2048") }, "\(badBits)")
        let sha1 = loadErrors(yaml: Self.yaml(dkim: "selector: s1\nalgorithm: rsa-sha1\n"), file: "d.yaml")
        #expect(sha1.contains { $0.contains("sender.dkim.algorithm") }, "\(sha1)")
        let missing = loadErrors(yaml: Self.yaml(dkim: "domain: sender.test\n"), file: "d.yaml")
        #expect(missing.contains { $0.contains("sender.dkim") && $0.contains("selector") }, "\(missing)")
        let unknown = loadErrors(yaml: Self.yaml(dkim: "selector: s1\nrecord: lost\n"), file: "d.yaml")
        #expect(unknown.contains { $0.contains("sender.dkim.record") }, "\(unknown)")
    }

    @Test func aGivenKeyIsReadAndSigns() throws {
        let seed = Data((0..<32).map { UInt8($0) }).base64EncodedString()
        let text = Self.yaml(dkim: "selector: s1\nalgorithm: ed25519-sha256\nkey: \"\(seed)\"\n")
        let scenario = try #require(try ScenarioLoader().load(yaml: text, file: "d.yaml").first)
        let bytes = scenario.sender.messageBytes()
        let message = String(decoding: bytes, as: UTF8.self)
        #expect(message.hasPrefix("DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=sender.test; s=s1; t="))
        #expect(message.contains("\r\n\r\nThis is a test message sent by mxharness.\r\n"))
    }

    @Test func breakagesChangeTheSignedMessage() throws {
        let seed = Data((0..<32).map { UInt8($0) }).base64EncodedString()
        for (breakage, check) in [
            ("body-changed", "This line was added after signing."), ("header-changed", "[changed in transit]"),
            ("expired", "x="),
        ] {
            let text = Self.yaml(
                dkim: "selector: s1\nalgorithm: ed25519-sha256\nkey: \"\(seed)\"\nbreak: \(breakage)\n")
            let scenario = try #require(try ScenarioLoader().load(yaml: text, file: "d.yaml").first)
            #expect(String(decoding: scenario.sender.messageBytes(), as: UTF8.self).contains(check), "\(breakage)")
        }
    }
}

@Suite struct DKIMRawMessageTests {
    @Test func aRawMessageCannotBeSigned() {
        let yaml = DKIMLoadingTests.yaml(dkim: "selector: s1").replacingOccurrences(
            of: "  rcpt_to: [bob@example.test]\n",
            with: "  rcpt_to: [bob@example.test]\n  message: {raw: \"Subject: x\\r\\n\\r\\nhi\\r\\n.\\r\\n\"}\n")
        let errors = loadErrors(yaml: yaml, file: "d.yaml")
        #expect(
            errors.contains { $0.contains("sender.dkim") && $0.contains("cannot sign sender.message.raw") }, "\(errors)"
        )
    }
}
