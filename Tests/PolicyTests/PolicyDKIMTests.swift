import DKIM
import DNSCore
import MXHarnessTestKit
import SMTPProtocol
import SPF
import Testing
@testable import Policy

/// The message checks (dkim, dmarc, spf-or-dkim) and the presets that use them, with the real
/// DKIM verifier over an in-memory DNS; SPF's verdict is fed.
@Suite("Policy engine: DKIM, DMARC and SPF-or-DKIM")
struct PolicyDKIMTests {
    static let key = try! DKIMSigningKey.generate(.ed25519SHA256)
    static let text =
        "From: Alice <alice@sender.test>\r\nTo: bob@example.test\r\nSubject: hi\r\nDate: Mon, 1 Jan 2026 00:00:00 +0000\r\nMessage-ID: <1@sender.test>\r\n\r\nHello.\r\n"

    static func message(signedBy domain: String? = "sender.test", breakBody: Bool = false) -> [UInt8] {
        guard let domain else { return Array(text.utf8) }
        var bytes = try! DKIMSigner(domain: domain, selector: "sel", key: key).sign(Array(text.utf8), timestamp: nil)
        if breakBody { bytes += Array("added\r\n".utf8) }
        return bytes
    }

    static func dns(dmarc: String? = nil, keyFault: InMemoryDNS.Fault? = nil) -> InMemoryDNS {
        var records =
            World.dns.records + [
                ResourceRecord(owner: "sel._domainkey.sender.test", data: .txt([Array(key.keyRecord().utf8)])),
                ResourceRecord(owner: "sel._domainkey.mailer.test", data: .txt([Array(key.keyRecord().utf8)])),
            ]
        if let dmarc { records.append(ResourceRecord(owner: "_dmarc.sender.test", data: .txt([Array(dmarc.utf8)]))) }
        return InMemoryDNS(records: records, faults: keyFault.map { ["sel._domainkey.sender.test": $0] } ?? [:])
    }

    /// Connect through end of DATA with `data`; the first verdict other than proceed, with its stage.
    static func run(
        _ policy: ReceiverPolicy, client: IPAddress = World.goodV6, data: [UInt8], spf: SPFResult = .fail,
        dns: InMemoryDNS = dns()
    ) async -> (SMTPStage, SMTPReply)? {
        let engine = World.engine(policy, dns: dns, spf: spf)
        let session = engine.session(client: client)
        let message = SMTPMessage(
            helo: "mail.sender.test", reversePath: "alice@sender.test", recipients: ["bob@example.test"], data: data)
        for question: SMTPPolicyQuestion in [
            .connect, .helo(name: "mail.sender.test", extended: true),
            .mail(reversePath: "alice@sender.test", helo: nil),
            .rcpt(forwardPath: "bob@example.test", reversePath: "alice@sender.test", helo: nil), .endOfData(message),
        ] {
            var verdict = session.immediateVerdict(for: question)
            if verdict == nil { verdict = await session.answer(question) }
            if case .reply(let reply, _)? = verdict { return (question.stage, reply) }
        }
        return nil
    }

    @Test func dkimCheckAtEndOfDataEvenWhenRejectingAtRcpt() async {
        let policy = ReceiverPolicy(checks: [.dkim])
        #expect(await Self.run(policy, data: Self.message()) == nil)
        let unsigned = await Self.run(policy, data: Self.message(signedBy: nil))
        #expect(unsigned?.0 == .data)
        #expect(unsigned?.1.description == "550 5.7.20 No passing DKIM signature found")
        #expect(await Self.run(policy, data: Self.message(breakBody: true))?.1.code == 550)
        #expect(
            await Self.run(policy, data: Self.message(), dns: Self.dns(keyFault: .servfail))?.1.description
                == "451 4.7.20 DKIM temporary error")
    }

    @Test func spfOrDKIM() async {
        let policy = ReceiverPolicy(checks: [.spfOrDKIM])
        #expect(await Self.run(policy, data: Self.message(signedBy: nil), spf: .pass) == nil)
        #expect(await Self.run(policy, data: Self.message(), spf: .fail) == nil)
        #expect(
            await Self.run(policy, data: Self.message(breakBody: true))?.1.description
                == "550 5.7.26 Neither SPF nor an aligned DKIM signature passed")
        // A good signature by another domain is not aligned with From: sender.test.
        #expect(await Self.run(policy, data: Self.message(signedBy: "mailer.test"))?.1.enhanced == "5.7.26")
        #expect(
            await Self.run(policy, data: Self.message(), spf: .temperror, dns: Self.dns(keyFault: .timeout))?.1.code
                == 451)
    }

    @Test func gmailLikeOverIPv6() async {
        let policy = Preset.gmailLike.policy
        #expect(await Self.run(policy, data: Self.message()) == nil)
        let broken = await Self.run(policy, data: Self.message(breakBody: true))
        #expect(broken?.0 == .data && broken?.1.code == 550 && broken?.1.enhanced == "5.7.26")
        #expect(broken?.1.text.contains("This mail is unauthenticated") == true)
        // Unsigned mail keeps the format's IPv6 text.
        let unsigned = await Self.run(policy, data: Self.message(signedBy: nil))
        #expect(unsigned?.1.enhanced == "5.7.1" && unsigned?.1.text.contains("IPv6 sending guidelines") == true)
        #expect(await Self.run(policy, data: Self.message(signedBy: nil), spf: .pass) == nil)
    }

    @Test func microsoftLikeStaysTheFormatsSPFRuleAtRCPT() async {
        // The format's preset: SPF alone at RCPT, so a good DKIM signature does not help.
        let broken = await Self.run(Preset.microsoftLike.policy, data: Self.message())
        #expect(broken?.0 == .rcpt)
        #expect(
            broken?.1.description
                == "450 4.7.26 Service unavailable, message sent over IPv6 [2001:db8:5::25] must pass either SPF or DKIM validation."
        )
    }

    @Test func microsoftLikeDKIMOverIPv6() async {
        let policy = Preset.microsoftLikeDKIM.policy
        #expect(await Self.run(policy, data: Self.message()) == nil)
        let broken = await Self.run(policy, data: Self.message(breakBody: true))
        #expect(broken?.0 == .data)
        #expect(
            broken?.1.description
                == "450 4.7.26 Service unavailable, message sent over IPv6 [2001:db8:5::25] must pass either SPF or DKIM validation."
        )
        // No PTR is still answered at RCPT.
        #expect(await Self.run(policy, client: World.badV6, data: Self.message())?.0 == .rcpt)
        // IPv4 is not checked.
        #expect(await Self.run(policy, client: World.goodV4, data: Self.message(signedBy: nil)) == nil)
    }

    @Test func dmarcCheck() async {
        let policy = ReceiverPolicy(checks: [.dmarc])
        let reject = Self.dns(dmarc: "v=DMARC1; p=reject")
        #expect(await Self.run(policy, data: Self.message(), dns: reject) == nil)
        #expect(
            await Self.run(policy, data: Self.message(breakBody: true), dns: reject)?.1.description
                == "550 5.7.1 Unauthenticated email is not accepted due to the sender domain's DMARC policy")
        #expect(
            await Self.run(policy, data: Self.message(breakBody: true), dns: Self.dns(dmarc: "v=DMARC1; p=quarantine"))
                == nil)
        #expect(await Self.run(policy, data: Self.message(signedBy: nil), dns: Self.dns()) == nil)
    }

    @Test func decisionRecordNamesSignatureKeyAndReason() async {
        let engine = World.engine(ReceiverPolicy(checks: [.dkim]), dns: Self.dns())
        let session = engine.session(client: World.goodV6)
        let message = SMTPMessage(
            helo: "mail.sender.test", reversePath: "alice@sender.test", recipients: ["bob@example.test"],
            data: Self.message(breakBody: true))
        _ = await session.answer(.endOfData(message))
        let lines = await session.findings.summaryLines
        let dkim = lines.first { $0.hasPrefix("DKIM:") } ?? ""
        #expect(dkim.contains("dkim=fail d=sender.test s=sel a=ed25519-sha256"))
        #expect(dkim.contains("body hash did not verify"))
        #expect(dkim.contains("key record \"v=DKIM1; k=ed25519; p="))
        #expect(lines.contains { $0.hasPrefix("check dkim: fail") })
        #expect(lines.contains { $0.hasPrefix("decision: 550 5.7.20") })
    }

    @Test func endOfDataNeedsTheSessionWhenAMessageCheckIsListed() {
        let message = SMTPMessage(helo: nil, reversePath: "a@sender.test", recipients: ["b@example.test"], data: [])
        let withDKIM = World.engine(ReceiverPolicy(ipv6: [.ptr, .dkim])).opening(client: World.goodV6)
        #expect(withDKIM.immediateVerdict(for: .endOfData(message)) == nil)
        // The IPv4 list has no message check: end of data proceeds at once for IPv4 clients.
        let v4 = World.engine(ReceiverPolicy(ipv4: [.ptr], ipv6: [.dkim])).opening(client: World.goodV4)
        #expect(v4.immediateVerdict(for: .endOfData(message)) == .proceed)
    }
}
