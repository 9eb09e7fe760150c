import DNSCore
import DNSWorld
import Foundation
import MXHarnessTestKit
import Policy
@testable import Postfix
import Sandbox
import Testing

private let mx4 = IPAddress("192.0.2.10")!
private let mx6 = IPAddress("2001:db8::10")!
// The proxy, the stranger and the clients: `IdentityWorld`.

private let records = [
    "example.test. MX 10 mx.example.test.",
    "mx.example.test. A 192.0.2.10",
    "mx.example.test. AAAA 2001:db8::10",
    "mail.sender.test. A 198.51.100.26",
    "mail.sender.test. AAAA 2001:db8:5::26",
    "198.51.100.26 PTR mail.sender.test.",
    "2001:db8:5::26 PTR mail.sender.test.",
    "lb.example.test. A 203.0.113.7",
    "lb.example.test. AAAA 2001:db8:7::7",
    "203.0.113.7 PTR lb.example.test.",
    "2001:db8:7::7 PTR lb.example.test.",
]

/// Runs `body` with Postfix (policy fcrdns-strict) as the receiver of a fresh world whose
/// namespace has the proxies' and the stranger's addresses, not the clients' (they only appear in
/// PROXY headers and XCLIENT commands); stops it afterwards, also on failure.
private func withPostfix<T: Sendable>(
    identity: PostfixIdentity, settings: [String: String] = [:], site: PostfixSiteDirectory? = nil,
    _ body: (PostfixInstance, WorldFixture) async throws -> T
) async throws -> T {
    let spec = WorldSpec(records: try WorldFixture.records(records))
    return try await WorldFixture.withWorld(
        spec, addresses: [mx4, mx6, IdentityWorld.lb4, IdentityWorld.lb6, IdentityWorld.stranger4]
    ) { fixture in
        let configuration = PostfixConfiguration(
            hostname: "mx.example.test", addresses: [mx4, mx6], domains: ["example.test"],
            policy: Preset.fcrdnsStrict.policy,
            settings: settings, site: site, identity: identity)
        let instance = try await PostfixInstance.start(
            configuration, in: fixture.namespace, caseDirectory: fixture.directory)
        do {
            let result = try await body(instance, fixture)
            _ = await instance.settle(since: .start)
            IdentityLogCapture.keep(instance.log)
            await instance.stop()
            return result
        } catch {
            await instance.stop()
            throw error
        }
    }
}

/// With MXHARNESS_CAPTURE_POSTFIX_LOG=FILE, each test's Postfix log is appended to FILE: how the
/// lines in PostfixIdentityLogTests were captured (tests never read it).
private enum IdentityLogCapture {
    static func keep(_ lines: [String]) {
        guard let path = ProcessInfo.processInfo.environment["MXHARNESS_CAPTURE_POSTFIX_LOG"], !path.isEmpty else {
            return
        }
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { return }
        defer { try? handle.close() }
        _ = try? handle.seekToEnd()
        try? handle.write(contentsOf: Data((["----"] + lines).joined(separator: "\n").utf8 + [10]))
    }
}

/// smtpd_upstream_proxy_timeout lengthened from 5 s: the probe's connect and its first write are
/// separate steps of the test's task, which a busy test run (seen with the whole suite on two
/// cores: postscreen's "haproxy read: time limit exceeded") can run seconds apart; the tests are
/// about the header's contents, not its timing.
private let patient = ["smtpd_upstream_proxy_timeout": "60s"]

private func xclient(_ attributes: String) -> [(stage: String, command: String)] {
    [("ehlo", "EHLO lb.example.test"), ("xclient", "XCLIENT \(attributes)")] + SMTPProbe.mailSteps()
}

@Suite(
    .enabled(
        if: IntegrationEnvironment.canRunWorlds && IntegrationEnvironment.hasPostfix,
        "needs root (network namespaces), unbound and postfix (apt-get install unbound postfix); run as root"))
struct PostfixIdentityTests {
    @Test func proxyHeadersV1AndV2NameTheClientAndSmtpdLooksItUpInDNS() async throws {
        try await withPostfix(identity: PostfixIdentity(upstreamProxyProtocol: "haproxy"), settings: patient) {
            instance, fixture in
            let rejected: [(String, [UInt8], IPAddress, IPAddress)] = [
                ("v1 IPv4", ProxyHeader.v1(source: IdentityWorld.bare4, destination: mx4), IdentityWorld.lb4, mx4),
                ("v2 IPv6", ProxyHeader.v2(source: IdentityWorld.bare6, destination: mx6), IdentityWorld.lb6, mx6),
            ]
            for (label, header, proxy, mx) in rejected {
                let client = header == rejected[0].1 ? IdentityWorld.bare4 : IdentityWorld.bare6
                let transcript = try await SMTPProbe.session(
                    from: proxy, to: mx, in: fixture.namespace, header: header, steps: SMTPProbe.mailSteps())
                #expect(
                    transcript.replies.first?.reply.lines == ["220 mx.example.test ESMTP"], "\(label): \(transcript)")
                #expect(transcript.last?.stage == "rcpt", "\(label): \(transcript)")
                #expect(
                    transcript.last?.reply.lines == [
                        "550 5.7.25 Client host rejected: cannot find your hostname, [\(client)]"
                    ], "\(label)")
            }
            for (label, header, proxy, mx) in [
                ("v2 IPv4", ProxyHeader.v2(source: IdentityWorld.named4, destination: mx4), IdentityWorld.lb4, mx4),
                ("v1 IPv6", ProxyHeader.v1(source: IdentityWorld.named6, destination: mx6), IdentityWorld.lb6, mx6),
            ] {
                let transcript = try await SMTPProbe.session(
                    from: proxy, to: mx, in: fixture.namespace, header: header, steps: SMTPProbe.mailSteps())
                #expect(
                    transcript.last?.stage == "dot" && transcript.last?.reply.code == 250, "\(label): \(transcript)")
            }
            _ = await instance.settle(since: .start)
            // smtpd looked the proxied addresses up (PTR, then the name's A/AAAA).
            #expect(
                fixture.world.queryLog.contains(IdentityWorld.bare4.reverseName),
                "the PTR of the proxied IPv4 address was asked for")
            #expect(
                fixture.world.queryLog.contains(IdentityWorld.bare6.reverseName),
                "the PTR of the proxied IPv6 address was asked for")
            // The log names the proxied clients; the proxy's own addresses appear nowhere.
            let log = instance.log
            #expect(
                !log.contains {
                    $0.contains(IdentityWorld.lb4.description) || $0.contains(IdentityWorld.lb6.description)
                }, "\(log)")
            let reject4 = try #require(instance.rejectLine(client: IdentityWorld.bare4))
            #expect(reject4.contains("NOQUEUE: reject: RCPT from unknown[198.51.100.25]: 550 5.7.25"))
            let session6 = instance.sessionLog(client: IdentityWorld.bare6)
            #expect(session6.first?.contains("connect from unknown[2001:db8:5::25]") == true, "\(session6)")
            #expect(session6.last?.contains("disconnect from unknown[2001:db8:5::25]") == true, "\(session6)")
            // The case log of one client leaves out the other clients' plain session lines.
            let caseLog = instance.caseLog(clients: [IdentityWorld.bare4])
            #expect(caseLog.contains(reject4))
            #expect(
                !caseLog.contains { $0.contains("2001:db8:5::25") || $0.contains("mail.sender.test[") }, "\(caseLog)")
            let accepted = instance.sessionLog(client: IdentityWorld.named4)
            #expect(accepted.contains { $0.contains("client=mail.sender.test[198.51.100.26]") }, "\(accepted)")
        }
    }

    @Test func aPlainClientOnAProxyPortIsHungUpOnWith421() async throws {
        // smtpd_upstream_proxy_timeout (5 s by default) shortened to keep the test quick.
        let identity = PostfixIdentity(upstreamProxyProtocol: "haproxy")
        try await withPostfix(identity: identity, settings: ["smtpd_upstream_proxy_timeout": "1s"]) {
            instance, fixture in
            let transcript = try await SMTPProbe.session(
                from: IdentityWorld.lb4, to: mx4, in: fixture.namespace, steps: SMTPProbe.mailSteps())
            #expect(transcript.replies.first?.stage == "greeting")
            #expect(transcript.replies.first?.reply.code == 421, "\(transcript)")
            #expect(transcript.replies.first?.reply.text.hasPrefix("4.3.0 ") == true, "\(transcript)")
            _ = await instance.settle(since: .start)
            #expect(instance.log.contains { $0.contains("warning: haproxy read: timeout error") }, "\(instance.log)")
            // Without a header smtpd falls back to the socket's address (smtpd_peer_from_default).
            #expect(!instance.sessionLog(client: IdentityWorld.lb4).isEmpty, "\(instance.log)")
        }
    }

    @Test func aProxyHeaderOnAPlainPortIsNotACommand() async throws {
        try await withPostfix(identity: PostfixIdentity()) { instance, fixture in
            let transcript = try await SMTPProbe.session(
                from: IdentityWorld.lb4, to: mx4, in: fixture.namespace,
                header: ProxyHeader.v1(source: IdentityWorld.bare4, destination: mx4), steps: [("header", "")])
            #expect(transcript.replies.first?.reply.code == 220, "\(transcript)")
            #expect(transcript.last?.stage == "header")
            #expect(transcript.last?.reply.lines == ["500 5.5.2 Error: command not recognized"], "\(transcript)")
            _ = await instance.settle(since: .start)
            #expect(
                instance.sessionLog(client: IdentityWorld.bare4).isEmpty,
                "the header named a client that smtpd never took")
            #expect(!instance.sessionLog(client: IdentityWorld.lb4).isEmpty)
        }
    }

    @Test func xclientFromAnAuthorisedHostChangesTheClientWithoutDNS() async throws {
        try await withPostfix(identity: PostfixIdentity(xclientHosts: [IdentityWorld.lb4, IdentityWorld.lb6])) {
            instance, fixture in
            // ADDR alone: smtpd keeps the proxy's verified name, so a client without PTR passes.
            let kept = try await SMTPProbe.session(
                from: IdentityWorld.lb4, to: mx4, in: fixture.namespace, steps: xclient("ADDR=\(IdentityWorld.bare4)"))
            #expect(
                kept.replies.first { $0.stage == "xclient" }?.reply.lines == ["220 mx.example.test ESMTP"], "\(kept)")
            #expect(kept.last?.stage == "dot" && kept.last?.reply.code == 250, "\(kept)")
            // NAME=[UNAVAILABLE]: unknown_client_reject_code; [TEMPUNAVAIL]: always 450.
            let unavailable = try await SMTPProbe.session(
                from: IdentityWorld.lb4, to: mx4, in: fixture.namespace,
                steps: xclient("ADDR=\(IdentityWorld.bare4) NAME=[UNAVAILABLE]"))
            #expect(unavailable.last?.stage == "rcpt", "\(unavailable)")
            #expect(
                unavailable.last?.reply.lines == [
                    "550 5.7.25 Client host rejected: cannot find your hostname, [198.51.100.25]"
                ])
            let temporary = try await SMTPProbe.session(
                from: IdentityWorld.lb6, to: mx6, in: fixture.namespace,
                steps: xclient("ADDR=IPV6:\(IdentityWorld.bare6) NAME=[TEMPUNAVAIL]"))
            #expect(temporary.last?.stage == "rcpt", "\(temporary)")
            #expect(temporary.last?.reply.code == 450, "\(temporary)")
            #expect(temporary.last?.reply.text.contains("[2001:db8:5::25]") == true, "\(temporary)")
            // NAME given: taken as verified, no lookup.
            let named = try await SMTPProbe.session(
                from: IdentityWorld.lb4, to: mx4, in: fixture.namespace,
                steps: xclient("ADDR=\(IdentityWorld.bare4) NAME=mail.sender.test"))
            #expect(named.last?.stage == "dot" && named.last?.reply.code == 250, "\(named)")

            _ = await instance.settle(since: .start)
            #expect(
                !fixture.world.queryLog.contains(IdentityWorld.bare4.reverseName),
                "no DNS lookup of the XCLIENT address")
            #expect(
                !fixture.world.queryLog.contains(IdentityWorld.bare6.reverseName),
                "no DNS lookup of the XCLIENT address")
            // The connect line names the proxy, the later lines the XCLIENT address; the session
            // belongs to both.
            let sessions = PostfixLog(lines: instance.log).sessions
            #expect(sessions.count == 4, "\(instance.log)")
            #expect(sessions.allSatisfy { $0.clientName == "lb.example.test" }, "\(sessions.map(\.lines))")
            #expect(
                sessions.map(\.clients) == [
                    [IdentityWorld.lb4, IdentityWorld.bare4], [IdentityWorld.lb4, IdentityWorld.bare4],
                    [IdentityWorld.lb6, IdentityWorld.bare6], [IdentityWorld.lb4, IdentityWorld.bare4],
                ])
            let reject = try #require(instance.rejectLine(client: IdentityWorld.bare4))
            #expect(reject.contains("NOQUEUE: reject: RCPT from unknown[198.51.100.25]: 550 5.7.25 "), "\(reject)")
            let v6 = instance.sessionLog(client: IdentityWorld.bare6)
            #expect(v6.first?.contains("connect from lb.example.test[2001:db8:7::7]") == true, "\(v6)")
            #expect(v6.contains { $0.contains("NOQUEUE: reject: RCPT from unknown[2001:db8:5::25]: 450 ") }, "\(v6)")
            #expect(v6.last?.contains("disconnect from unknown[2001:db8:5::25]") == true, "\(v6)")
            // The IPv6 client's case log leaves out the IPv4 XCLIENT sessions (whose proxy differs).
            let caseLog = instance.caseLog(clients: [IdentityWorld.bare6])
            #expect(!caseLog.contains { $0.contains("198.51.100.25") }, "\(caseLog)")
            #expect(caseLog.contains { $0.contains("connect from lb.example.test[2001:db8:7::7]") })
        }
    }

    @Test func xclientFromAnUnauthorisedHostIsRefused() async throws {
        try await withPostfix(identity: PostfixIdentity(xclientHosts: [IdentityWorld.lb4])) { instance, fixture in
            for (proxy, mx) in [(IdentityWorld.stranger4, mx4), (IdentityWorld.lb6, mx6)] {
                let transcript = try await SMTPProbe.session(
                    from: proxy, to: mx, in: fixture.namespace, steps: xclient("ADDR=\(IdentityWorld.bare4)"))
                #expect(transcript.last?.stage == "xclient", "\(transcript)")
                #expect(
                    transcript.last?.reply.lines == ["550 5.7.0 Error: insufficient authorization"], "\(transcript)")
            }
            _ = await instance.settle(since: .start)
            #expect(
                instance.sessionLog(client: IdentityWorld.bare4).isEmpty,
                "the refused XCLIENT changed no session's client")
        }
    }

    @Test func postscreenInFrontTakesTheProxyHeaderAndHandsTheClientToSmtpd() async throws {
        // The installed master.cf with postscreen on port 25, as its own comments suggest (the
        // other services, cleanup, trivial-rewrite, postlogd, ..., as they are).
        let stock = try String(contentsOfFile: "/etc/postfix/master.cf", encoding: .utf8)
        var master: [String] = []
        for line in stock.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if words.count >= 8, words[0] == "smtp", words[1] == "inet" { continue }
            if words.count >= 8, ["#smtp", "#smtpd", "#dnsblog", "#tlsproxy"].contains(words[0]),
                ["postscreen", "smtpd", "dnsblog", "tlsproxy"].contains(words[7])
            {
                master.append(String(line.dropFirst()))
                continue
            }
            master.append(line)
        }
        #expect(
            master.contains { $0.hasPrefix("smtp ") && $0.hasSuffix("postscreen") },
            "the installed master.cf has postscreen's lines")
        // postscreen_greet_wait shortened from 6 s: the pregreet test passes either way. The
        // header's timeout lengthened from 5 s (see `patient`).
        let site = try SiteConfigurationTests.site(
            main: "compatibility_level = 3.6\npostscreen_greet_wait = 1s\npostscreen_upstream_proxy_timeout = 60s\n",
            master: master.joined(separator: "\n"))
        try await withPostfix(identity: PostfixIdentity(upstreamProxyProtocol: "haproxy"), site: site) {
            instance, fixture in
            let transcript = try await SMTPProbe.session(
                from: IdentityWorld.lb4, to: mx4, in: fixture.namespace,
                header: ProxyHeader.v2(source: IdentityWorld.bare4, destination: mx4), steps: SMTPProbe.mailSteps())
            #expect(transcript.last?.stage == "rcpt", "\(transcript)")
            #expect(
                transcript.last?.reply.lines == [
                    "550 5.7.25 Client host rejected: cannot find your hostname, [198.51.100.25]"
                ])
            let accepted = try await SMTPProbe.session(
                from: IdentityWorld.lb6, to: mx6, in: fixture.namespace,
                header: ProxyHeader.v1(source: IdentityWorld.named6, destination: mx6), steps: SMTPProbe.mailSteps())
            #expect(accepted.last?.stage == "dot" && accepted.last?.reply.code == 250, "\(accepted)")
            _ = await instance.settle(since: .start)
            let log = instance.log
            #expect(
                log.contains {
                    $0.contains("postfix/postscreen[")
                        && $0.contains("CONNECT from [198.51.100.25]:40000 to [192.0.2.10]:25")
                }, "\(log)")
            #expect(!log.contains { $0.contains("ignoring non-empty smtpd_upstream_proxy_protocol") }, "\(log)")
            #expect(
                !log.contains {
                    $0.contains(IdentityWorld.lb4.description) || $0.contains(IdentityWorld.lb6.description)
                }, "\(log)")
            #expect(
                instance.rejectLine(client: IdentityWorld.bare4)?.contains(
                    "RCPT from unknown[198.51.100.25]: 550 5.7.25 ") == true, "\(log)")
            #expect(
                instance.sessionLog(client: IdentityWorld.named6).contains {
                    $0.contains("client=mail.sender.test[2001:db8:5::26]")
                }, "\(log)")
        }
    }
}
