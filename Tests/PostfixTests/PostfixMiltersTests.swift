import DKIM
import DNSCore
import DNSWorld
import Foundation
import MXHarnessTestKit
import Policy
@testable import Postfix
import Sandbox
import Testing

private let mx4 = IPAddress("192.0.2.10")!
/// PTR mail.sender.test, whose A is this address; SPF lists another network.
private let client = IPAddress("198.51.100.26")!

/// A message from alice@sender.test, signed by `signer` when given, its body then changed when `tamper`.
private func message(signedBy signer: DKIMSigner?, tamper: Bool = false) throws -> String {
    let text =
        "From: Alice <alice@sender.test>\r\nTo: <bob@example.test>\r\nSubject: milter test\r\nDate: Wed, 02 Dec 2026 08:00:00 +0000\r\nMessage-ID: <m1@sender.test>\r\n\r\nHello.\r\n"
    guard let signer else { return text }
    let signed = String(
        decoding: try signer.sign(Array(text.utf8), timestamp: Int(Date().timeIntervalSince1970)), as: UTF8.self)
    return tamper ? signed + "A footer added after signing.\r\n" : signed
}

/// Runs `body` with Postfix and its milters as the receiver of a world holding `key`'s record.
private func withMilterPostfix<T: Sendable>(
    _ policy: ReceiverPolicy, key: DKIMSigningKey, _ body: (PostfixInstance, WorldFixture) async throws -> T
) async throws -> T {
    let records = [
        "example.test. MX 10 mx.example.test.",
        "mx.example.test. A 192.0.2.10",
        "mail.sender.test. A 198.51.100.26",
        "198.51.100.26 PTR mail.sender.test.",
        "sender.test. TXT \"v=spf1 ip4:203.0.113.0/24 -all\"",
        "_dmarc.sender.test. TXT \"v=DMARC1; p=reject\"",
        "s1._domainkey.sender.test. TXT \"\(key.keyRecord())\"",
    ]
    let spec = WorldSpec(records: try WorldFixture.records(records))
    return try await WorldFixture.withWorld(spec, addresses: [mx4, client]) { fixture in
        var configuration = PostfixConfiguration(
            hostname: "mx.example.test", addresses: [mx4], domains: ["example.test"], policy: policy)
        // As PostfixReceiver gives it: the decision milter reads the world's records.
        configuration.worldKeyRecords = WorldKeyRecords(records: spec.records)
        let instance = try await PostfixInstance.start(
            configuration, in: fixture.namespace, caseDirectory: fixture.directory)
        do {
            let result = try await body(instance, fixture)
            await instance.stop()
            return result
        } catch {
            await instance.stop()
            throw error
        }
    }
}

/// Processes running `executable` in `namespace`.
private func processes(_ executable: String, in namespace: NetworkNamespace) -> [Int32] {
    var target = stat()
    guard stat(namespace.path, &target) == 0 else { return [] }
    return ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry -> Int32? in
        guard let pid = Int32(entry),
            let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe"), exe == executable
        else { return nil }
        var info = stat()
        guard stat("/proc/\(pid)/ns/net", &info) == 0, info.st_ino == target.st_ino else { return nil }
        return pid
    }
}

@Suite(
    .enabled(
        if: IntegrationEnvironment.canRunWorlds && IntegrationEnvironment.hasPostfix
            && PostfixMilters.missingReason() == nil,
        "needs root (network namespaces), unbound, postfix, opendkim and opendmarc (apt-get install unbound postfix opendkim opendmarc); run as root"
    ))
struct PostfixMiltersTests {
    @Test func dkimIsVerifiedByOpenDKIMAndAnsweredWithThePolicysReply() async throws {
        let key = try DKIMSigningKey.generate(.ed25519SHA256)
        let signer = DKIMSigner(domain: "sender.test", selector: "s1", key: key)
        let left = try await withMilterPostfix(ReceiverPolicy(ipv4: [.dkim]), key: key) { instance, fixture in
            let milters = try #require(instance.milters)
            #expect(
                instance.rendered.parameters["smtpd_milters"]
                    == "inet:127.0.0.1:8891, inet:127.0.0.1:8893, inet:127.0.0.1:8895")
            #expect(processes("/usr/sbin/opendkim", in: fixture.namespace).count == 1)
            #expect(processes("/usr/sbin/opendmarc", in: fixture.namespace).count == 1)

            let good = try await SMTPProbe.deliver(
                from: client, to: mx4, in: fixture.namespace, helo: "mail.sender.test",
                message: try message(signedBy: signer))
            #expect(good.last?.stage == "dot" && good.last?.reply.code == 250, "\(good)\n\(milters.decisionLines)")

            let broken = try await SMTPProbe.deliver(
                from: client, to: mx4, in: fixture.namespace, helo: "mail.sender.test",
                message: try message(signedBy: signer, tamper: true))
            #expect(broken.last?.stage == "dot", "\(broken)")
            #expect(
                broken.last?.reply.lines == ["550 5.7.20 No passing DKIM signature found"],
                "\(broken)\n\(milters.decisionLines)")

            let unsigned = try await SMTPProbe.deliver(
                from: client, to: mx4, in: fixture.namespace, helo: "mail.sender.test",
                message: try message(signedBy: nil))
            #expect(unsigned.last?.reply.lines == ["550 5.7.20 No passing DKIM signature found"], "\(unsigned)")

            #expect(milters.decisionLines.count == 3, "\(milters.decisionLines)")
            #expect(
                milters.decisionLines.first?.contains("check=dkim outcome=pass dkim=pass") == true,
                "\(milters.decisionLines)")
            await instance.stop()
            return processes("/usr/sbin/opendkim", in: fixture.namespace)
                + processes("/usr/sbin/opendmarc", in: fixture.namespace)
        }
        #expect(left.isEmpty, "stop ends both daemons")
    }

    /// SPF is OpenDMARC's; DMARC is then decided by the built-in MX's evaluator over the world's
    /// records.
    @Test func dmarcIsDecidedOverOpenDMARCsSPFAndTheWorldsRecord() async throws {
        let key = try DKIMSigningKey.generate(.ed25519SHA256)
        let foreign = DKIMSigner(domain: "mailer.test", selector: "s1", key: key)
        try await withMilterPostfix(ReceiverPolicy(ipv4: [.dmarc]), key: key) { instance, fixture in
            // SPF fails (the client is not in sender.test's record) and the only signature is not
            // aligned (and has no key): DMARC fails under p=reject.
            let refused = try await SMTPProbe.deliver(
                from: client, to: mx4, in: fixture.namespace, helo: "mail.sender.test",
                message: try message(signedBy: foreign))
            #expect(
                refused.last?.reply.lines == [
                    "550 5.7.1 Unauthenticated email is not accepted due to the sender domain's DMARC policy"
                ],
                "\(refused)\n\(instance.milters?.decisionLines ?? [])")
            let decision = instance.milters?.decisionLines.last ?? ""
            #expect(
                decision.contains("check=dmarc outcome=fail dmarc=fail header.from=sender.test (SPF did not pass"),
                "\(decision)")
            #expect(decision.contains("record at sender.test: \"v=DMARC1; p=reject\"; policy reject"), "\(decision)")
        }
    }
}
