import DKIM
import DNSCore
import MXHarnessTestKit
import Policy
import SMTPProtocol
import Testing
@testable import ReferenceMX

/// The MX hands the message to the policy after the final dot: a dkim check over loopback.
@Suite("ReferenceMX: DKIM after the final dot", .timeLimit(.minutes(2)))
struct ReferenceMXDKIMTests {
    static let key = try! DKIMSigningKey.generate(.ed25519SHA256)
    static let dns = InMemoryDNS([("sel._domainkey.sender.test", .txt([Array(key.keyRecord().utf8)]))])

    static func signed(changed: Bool) throws -> String {
        let message = "From: <alice@sender.test>\r\nTo: <bob@example.test>\r\nSubject: test\r\n\r\nHello.\r\n"
        var text = String(
            decoding: try DKIMSigner(domain: "sender.test", selector: "sel", key: key).sign(
                Array(message.utf8), timestamp: nil), as: UTF8.self)
        if changed { text += "Changed.\r\n" }
        return text
    }

    static func session(_ message: String) async throws -> ([String], SessionRecord) {
        try await MXTest.withMX(policy: ReceiverPolicy(ipv4: [.dkim], ipv6: [.dkim]), dns: dns) { mx in
            let replies = try await MXTest.withClient(mx) { client in
                var replies: [String] = [try await client.readReply()?.description ?? "EOF"]
                for line in [
                    "EHLO client.sender.test", "MAIL FROM:<alice@sender.test>", "RCPT TO:<bob@example.test>", "DATA",
                ] {
                    replies.append(try await client.command(line))
                }
                replies.append(try await client.command(message + "."))
                replies.append(try await client.command("QUIT"))
                return replies
            }
            try await ReferenceMXTests.eventually { mx.sessions.count == 1 }
            return (replies, try #require(mx.sessions.first))
        }
    }

    @Test func aGoodSignatureIsAccepted() async throws {
        let (replies, session) = try await Self.session(try Self.signed(changed: false))
        #expect(replies.suffix(2) == ["250 2.0.0 Ok: queued as S1Q1", "221 2.0.0 Bye"])
        #expect(session.summary.contains("DKIM: dkim=pass d=sender.test s=sel a=ed25519-sha256"))
    }

    @Test func aBrokenSignatureIsRefusedAfterTheDotWithTheSignatureNamed() async throws {
        let (replies, session) = try await Self.session(try Self.signed(changed: true))
        #expect(replies[3] == "250 2.1.5 Ok")
        #expect(replies.suffix(2) == ["550 5.7.20 No passing DKIM signature found", "221 2.0.0 Bye"])
        #expect(session.decidingReply?.cause == "dkim")
        #expect(session.decidingReply?.stage == .data)
        #expect(
            session.summary.contains(
                "dkim=fail d=sender.test s=sel a=ed25519-sha256 (ed25519): body hash did not verify"))
        #expect(session.summary.contains("key record \"v=DKIM1; k=ed25519; p="))
    }
}
