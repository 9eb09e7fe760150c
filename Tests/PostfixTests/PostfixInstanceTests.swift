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
/// No PTR.
private let bare6 = IPAddress("2001:db8:5::25")!
private let bare4 = IPAddress("198.51.100.25")!
/// PTR mail.sender.test, whose AAAA/A are these addresses.
private let named6 = IPAddress("2001:db8:5::26")!
private let named4 = IPAddress("198.51.100.26")!

private let records = [
    "example.test. MX 10 mx.example.test.",
    "mx.example.test. A 192.0.2.10",
    "mx.example.test. AAAA 2001:db8::10",
    "mail.sender.test. AAAA 2001:db8:5::26",
    "mail.sender.test. A 198.51.100.26",
    "2001:db8:5::26 PTR mail.sender.test.",
    "198.51.100.26 PTR mail.sender.test.",
]

/// Runs `body` with Postfix as the receiver of a fresh world; stops it afterwards, also on failure.
private func withPostfix<T: Sendable>(
    _ policy: ReceiverPolicy, delivery: PostfixDelivery = .discard, faults: [DNSFault] = [],
    _ body: (PostfixInstance, WorldFixture) async throws -> T
) async throws -> T {
    let spec = WorldSpec(records: try WorldFixture.records(records), faults: faults)
    return try await WorldFixture.withWorld(spec, addresses: [mx4, mx6, bare6, bare4, named6, named4]) { fixture in
        let configuration = PostfixConfiguration(
            hostname: "mx.example.test", addresses: [mx4, mx6], domains: ["example.test"], policy: policy,
            delivery: delivery)
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

@Suite(
    .enabled(
        if: IntegrationEnvironment.canRunWorlds && IntegrationEnvironment.hasPostfix,
        "needs root (network namespaces), unbound and postfix (apt-get install unbound postfix); run as root"))
struct PostfixInstanceTests {
    @Test func fcrdnsStrictRejectsAnIPv6ClientWithoutPTRAtRcptAndAcceptsOneWithMatchingAAAA() async throws {
        let (netns, etc, leftover) = try await withPostfix(Preset.fcrdnsStrict.policy) { instance, fixture in
            let rejected = try await SMTPProbe.deliver(
                from: bare6, to: mx6, in: fixture.namespace, helo: "mail.sender.test")
            #expect(rejected.replies.first?.reply.lines == ["220 mx.example.test ESMTP"])
            #expect(rejected.last?.stage == "rcpt", "\(rejected)")
            #expect(
                rejected.last?.reply.lines == [
                    "550 5.7.25 Client host rejected: cannot find your hostname, [2001:db8:5::25]"
                ])

            let accepted = try await SMTPProbe.deliver(
                from: named6, to: mx6, in: fixture.namespace, helo: "mail.sender.test")
            #expect(accepted.last?.stage == "dot", "\(accepted)")
            #expect(accepted.last?.reply.code == 250, "\(accepted)")

            // postlogd(8) writes smtpd's lines a moment after the reply: wait until the sessions are logged.
            _ = await instance.settle(since: .start)
            let reject = try #require(instance.rejectLine(client: bare6))
            #expect(
                reject.contains(
                    "NOQUEUE: reject: RCPT from unknown[2001:db8:5::25]: 550 5.7.25 Client host rejected: cannot find your hostname, [2001:db8:5::25]"
                ))
            #expect(PostfixRejection(line: reject)?.stage == "RCPT")
            #expect(instance.rejectLine(client: named6) == nil)
            let session = instance.sessionLog(client: named6)
            #expect(session.first?.contains("connect from mail.sender.test[2001:db8:5::26]") == true, "\(session)")
            #expect(
                session.contains { $0.contains("client=mail.sender.test[2001:db8:5::26]") },
                "the message was queued: \(session)")
            #expect(!instance.processes.isEmpty)
            #expect(FileManager.default.fileExists(atPath: "/etc/netns/\(fixture.namespace.name)/postfix/main.cf"))
            await instance.stop()
            return (fixture.namespace, instance.etcDirectory, instance.processes)
        }
        #expect(leftover.isEmpty, "no process of the instance is left after stop")
        #expect(etc == "/etc/netns/\(netns.name)")
        #expect(!FileManager.default.fileExists(atPath: etc), "stop removes /etc/netns/NAME")
    }

    @Test func stopLeavesNothingInTheNamespace() async throws {
        try await WorldFixture.withWorld(WorldSpec(), addresses: [mx4, mx6]) { fixture in
            let configuration = PostfixConfiguration(
                hostname: "mx.example.test", addresses: [mx4, mx6], domains: ["example.test"])
            let instance = try await PostfixInstance.start(
                configuration, in: fixture.namespace, caseDirectory: fixture.directory)
            let before = NetworkNamespacePIDs.pids(in: fixture.namespace)
            #expect(before.count > 1, "unbound and the Postfix master at least")
            await instance.stop()
            await instance.stop()
            let after = NetworkNamespacePIDs.pids(in: fixture.namespace)
            let left = after.map {
                (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\($0)/exe")) ?? "?"
            }
            #expect(left == [DNSWorld.unboundPath], "only unbound is left")
            #expect(instance.processes.isEmpty)
            #expect(!FileManager.default.fileExists(atPath: instance.etcDirectory))
            #expect(instance.log.contains { $0.contains("starting the Postfix mail system") })
        }
    }

    @Test func fcrdnsDefersAnIPv6ClientWithoutPTR() async throws {
        try await withPostfix(Preset.fcrdns.policy) { _, fixture in
            let transcript = try await SMTPProbe.deliver(
                from: bare6, to: mx6, in: fixture.namespace, helo: "mail.sender.test")
            #expect(transcript.last?.stage == "rcpt")
            #expect(
                transcript.last?.reply.lines == [
                    "450 4.7.25 Client host rejected: cannot find your hostname, [2001:db8:5::25]"
                ])
        }
    }

    @Test func aReverseLookupThatTimesOutIsATemporaryFailureEvenWhenStrict() async throws {
        // resolv.conf in /etc/netns/NAME keeps the wait at `dnsTimeoutSeconds` (1 s), not glibc's 5 s twice.
        try await withPostfix(Preset.fcrdnsStrict.policy, faults: [DNSFault(name: bare6.reverseName, kind: .timeout)]) {
            instance, fixture in
            let transcript = try await SMTPProbe.deliver(
                from: bare6, to: mx6, in: fixture.namespace, helo: "mail.sender.test")
            #expect(transcript.last?.stage == "rcpt")
            #expect(
                transcript.last?.reply.lines == [
                    "450 4.7.25 Client host rejected: cannot find your hostname, [2001:db8:5::25]"
                ], "\(transcript)")
            #expect(fixture.world.queryLog.contains(bare6.reverseName), "Postfix asked the world's unbound")
            // postlogd(8) writes smtpd's lines a moment after the reply: wait until the sessions are logged.
            _ = await instance.settle(since: .start)
            #expect(instance.rejectLine(client: bare6)?.contains(" 450 4.7.25 ") == true)
        }
    }

    @Test func heloStrictRejectsBadHeloNamesAtRcpt() async throws {
        try await withPostfix(Preset.heloStrict.policy) { instance, fixture in
            let cases: [(helo: String, reply: String)] = [
                ("mail", "504 5.5.2 <mail>: Helo command rejected: need fully-qualified hostname"),
                ("bad_name..test", "501 5.5.2 <bad_name..test>: Helo command rejected: Invalid name"),
                ("nowhere.sender.test", "550 5.7.1 <nowhere.sender.test>: Helo command rejected: Host not found"),
            ]
            for (helo, reply) in cases {
                let transcript = try await SMTPProbe.deliver(from: named4, to: mx4, in: fixture.namespace, helo: helo)
                #expect(transcript.last?.stage == "rcpt", "\(helo): \(transcript)")
                #expect(transcript.last?.reply.lines == [reply], "\(helo)")
            }
            let good = try await SMTPProbe.deliver(
                from: named4, to: mx4, in: fixture.namespace, helo: "mail.sender.test")
            #expect(good.last?.stage == "dot")
            #expect(good.last?.reply.code == 250, "\(good)")
            // postlogd(8) writes smtpd's lines a moment after the reply: wait until the sessions are logged.
            _ = await instance.settle(since: .start)
            let rejects = instance.log.filter {
                $0.contains("NOQUEUE: reject: RCPT from mail.sender.test[198.51.100.26]")
            }
            #expect(rejects.count == 3)
        }
    }

    @Test func aMapPolicyWithChecksForIPv6OnlyLeavesIPv4Alone() async throws {
        try await withPostfix(ReceiverPolicy(ipv6: [.fcrdns])) { _, fixture in
            let v6 = try await SMTPProbe.deliver(from: bare6, to: mx6, in: fixture.namespace, helo: "mail.sender.test")
            #expect(
                v6.last?.reply.lines == [
                    "550 5.7.25 Client host rejected: cannot find your hostname, [2001:db8:5::25]"
                ], "\(v6)")
            let v4 = try await SMTPProbe.deliver(from: bare4, to: mx4, in: fixture.namespace, helo: "mail.sender.test")
            #expect(v4.last?.stage == "dot", "\(v4)")
            #expect(v4.last?.reply.code == 250)
        }
    }

    @Test func aMapPolicyWithDifferentChecksPerFamilyAppliesEachToItsFamily() async throws {
        try await withPostfix(ReceiverPolicy(ipv4: [.heloFQDN], ipv6: [.ptr], onFail: .defer)) { _, fixture in
            let v6 = try await SMTPProbe.deliver(from: bare6, to: mx6, in: fixture.namespace, helo: "mail")
            #expect(
                v6.last?.reply.lines == [
                    "450 4.7.1 Client host rejected: cannot find your reverse hostname, [2001:db8:5::25]"
                ], "\(v6)")
            let v4 = try await SMTPProbe.deliver(from: bare4, to: mx4, in: fixture.namespace, helo: "mail")
            #expect(
                v4.last?.reply.lines == ["450 4.5.2 <mail>: Helo command rejected: need fully-qualified hostname"],
                "\(v4)")
        }
    }

    @Test func aRecipientOutsideTheCaseDomainsIsNotRelayed() async throws {
        try await withPostfix(.open) { _, fixture in
            let transcript = try await SMTPProbe.deliver(
                from: named6, to: mx6, in: fixture.namespace, helo: "mail.sender.test", rcptTo: "carol@elsewhere.test")
            #expect(transcript.last?.stage == "rcpt")
            #expect(transcript.last?.reply.lines == ["454 4.7.1 <carol@elsewhere.test>: Relay access denied"])
        }
    }

    @Test func reconfigureSwitchesTheRunningInstanceToAnotherPolicy() async throws {
        try await withPostfix(
            .open, delivery: .maildir(uid: PostfixInstance.nobody.uid, gid: PostfixInstance.nobody.gid)
        ) { instance, fixture in
            let open = try await SMTPProbe.deliver(
                from: bare6, to: mx6, in: fixture.namespace, helo: "mail.sender.test")
            #expect(open.last?.stage == "dot")
            #expect(open.last?.reply.code == 250, "\(open)")

            var strict = instance.configuration
            strict.policy = Preset.fcrdnsStrict.policy
            #expect(!instance.canServe(strict))
            #expect(instance.canServe(instance.configuration))
            let mark = instance.logMark()
            try await instance.reconfigure(strict)
            #expect(instance.canServe(strict))
            let rejected = try await SMTPProbe.deliver(
                from: bare6, to: mx6, in: fixture.namespace, helo: "mail.sender.test")
            #expect(
                rejected.last?.reply.lines == [
                    "550 5.7.25 Client host rejected: cannot find your hostname, [2001:db8:5::25]"
                ], "\(rejected)")
            // postlogd(8) writes smtpd's lines a moment after the reply: wait until the sessions are logged.
            _ = await instance.settle(since: mark)
            #expect(instance.rejectLine(client: bare6, since: mark) != nil)
            #expect(instance.log(since: mark).sessions(client: bare6).count == 1, "only the session after the mark")

            var moved = strict
            moved.addresses = [mx6]
            await #expect(throws: PostfixInstanceError.self) { try await instance.reconfigure(moved) }

            // The message accepted before the change was delivered into the case folder's Maildir.
            let newMail = instance.paths.mailDirectory + "/Maildir/new"
            var files: [String] = []
            for _ in 0..<500 {
                files = (try? FileManager.default.contentsOfDirectory(atPath: newMail)) ?? []
                if !files.isEmpty { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(files.count == 1, "\(instance.log.suffix(5))")
        }
    }

    @Test func anUnsupportedPolicyFailsBeforeAnythingStarts() async throws {
        try await WorldFixture.withWorld(WorldSpec(), addresses: [mx4]) { fixture in
            let configuration = PostfixConfiguration(
                hostname: "mx.example.test", addresses: [mx4], domains: [], policy: Preset.microsoftLike.policy)
            do {
                let instance = try await PostfixInstance.start(
                    configuration, in: fixture.namespace, caseDirectory: fixture.directory)
                await instance.stop()
                Issue.record("microsoft-like must not start")
            } catch let error as PostfixConfigurationError {
                #expect(error.unsupportedReason == Preset.microsoftLike.postfixUnsupportedReason)
            }
            #expect(!FileManager.default.fileExists(atPath: "/etc/netns/\(fixture.namespace.name)"))
        }
    }

    @Test func aConfigurationPostfixRefusesIsAnErrorWithPostfixsWords() async throws {
        try await WorldFixture.withWorld(WorldSpec(), addresses: [mx4]) { fixture in
            let configuration = PostfixConfiguration(
                hostname: "mx.example.test", addresses: [mx4], domains: [], settings: ["mail_owner": "mxh-no-such-user"]
            )
            do {
                let instance = try await PostfixInstance.start(
                    configuration, in: fixture.namespace, caseDirectory: fixture.directory)
                await instance.stop()
                Issue.record("expected postfix start to fail")
            } catch let error as PostfixInstanceError {
                #expect(error.output.contains("mxh-no-such-user"), "\(error)")
            }
            #expect(!FileManager.default.fileExists(atPath: "/etc/netns/\(fixture.namespace.name)"))
        }
    }
}

/// Pids whose network namespace is the given one.
enum NetworkNamespacePIDs {
    static func pids(in namespace: NetworkNamespace) -> [Int32] {
        var target = stat()
        guard stat(namespace.path, &target) == 0 else { return [] }
        return ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry -> Int32? in
            guard let pid = Int32(entry) else { return nil }
            var info = stat()
            guard stat("/proc/\(pid)/ns/net", &info) == 0, info.st_ino == target.st_ino, info.st_dev == target.st_dev
            else { return nil }
            return pid
        }
    }
}
