import DNSCore
import Policy
@testable import Postfix
import Testing

private let v4 = IPAddress("192.0.2.10")!
private let v6 = IPAddress("2001:db8::10")!

private func configuration(
    hostname: String = "mx.example.test", addresses: [IPAddress] = [v4, v6], domains: [String] = ["example.test"],
    _ policy: ReceiverPolicy = Preset.fcrdns.policy, settings: [String: String] = [:], base: MainCF? = nil
) -> PostfixConfiguration {
    PostfixConfiguration(
        hostname: hostname, addresses: addresses, domains: domains, policy: policy, settings: settings, base: base)
}

/// Which configurations one running Postfix may serve case after case (`PostfixSharing`).
struct SharingTests {
    @Test func anOrdinaryConfigurationIsShareableAndEqualOnesHaveOneKey() throws {
        #expect(configuration().isShareable)
        #expect(configuration().sharingRefusal == nil)
        let key = try #require(configuration().sharingKey)
        #expect(configuration().sharingKey == key)
        #expect(configuration(Preset.fcrdns.policy, settings: [:]).sharingKey == key)
    }

    @Test func everythingRenderedIsInTheKey() throws {
        let key = try #require(configuration().sharingKey)
        let others = [
            configuration(hostname: "mx2.example.test"),
            configuration(addresses: [v4]),
            configuration(addresses: [v4, IPAddress("2001:db8::11")!]),
            configuration(domains: ["other.test"]),
            configuration(Preset.fcrdnsStrict.policy),
            configuration(
                ReceiverPolicy(ipv4: [.dnsbl(zone: "bl.example.test")], ipv6: [.dnsbl(zone: "bl.example.test")])),
            configuration(
                ReceiverPolicy(ipv4: [.dnsbl(zone: "bl.example.test")], ipv6: [.dnsbl(zone: "bl2.example.test")])),
            configuration(settings: ["smtpd_helo_required": "yes"]),
            configuration(base: MainCF([("smtpd_banner", "$myhostname ready")])),
        ]
        var keys: Set<String> = [key]
        for other in others {
            let otherKey = try #require(other.sharingKey)
            #expect(!keys.contains(otherKey), "\(other)")
            keys.insert(otherKey)
        }
    }

    @Test func theFamilyTableIsInTheKey() throws {
        // Different lists per family: a cidr table whose text is part of what is rendered.
        let split = configuration(ReceiverPolicy(ipv4: [.ptr], ipv6: [.fcrdns]))
        let rendered = try split.render(paths: PostfixConfiguration.sharingPaths)
        #expect(!rendered.files.isEmpty)
        let key = try #require(split.sharingKey)
        for (_, contents) in rendered.files { #expect(key.contains(contents)) }
    }

    @Test(arguments: PostfixSharing.rateLimits)
    func aClientRateLimitIsNotShared(name: String) throws {
        let limited = configuration(settings: [name: "10"])
        #expect(!limited.isShareable)
        #expect(limited.sharingKey == nil)
        let reason = try #require(limited.sharingRefusal)
        #expect(reason.contains(name) && reason.contains("anvil"), "\(reason)")
        #expect(configuration(settings: [name: "0"]).isShareable, "0 means no limit")
    }

    @Test func aRateLimitFromTheBaseMainCFCountsToo() {
        let base = MainCF([("smtpd_client_message_rate_limit", "100")])
        #expect(configuration(base: base).sharingRefusal?.contains("smtpd_client_message_rate_limit") == true)
    }

    @Test func theConcurrencyLimitAloneIsShared() {
        // A count of open sessions, not a rate: zero again once the previous case's smtpd exited.
        #expect(configuration(settings: ["smtpd_client_connection_count_limit": "1"]).isShareable)
    }

    @Test func addressVerificationPostscreenPolicyServicesAndMemcacheAreNotShared() throws {
        let refused: [(String, String, String)] = [
            ("smtpd_sender_restrictions", "reject_unverified_sender", "verify(8)"),
            ("smtpd_recipient_restrictions", "permit_mynetworks, reject_unverified_recipient", "verify(8)"),
            ("postscreen_dnsbl_sites", "bl.example.test", "postscreen"),
            ("smtpd_recipient_restrictions", "check_policy_service inet:127.0.0.1:10023", "policy service"),
            ("address_verify_map", "memcache:/etc/postfix/verify-memcache.cf", "memcache"),
        ]
        for (name, value, word) in refused {
            let reason = try #require(configuration(settings: [name: value]).sharingRefusal, "\(name) = \(value)")
            #expect(reason.contains(name) && reason.contains(word), "\(reason)")
        }
        #expect(
            configuration(settings: ["smtpd_recipient_restrictions": "permit_mynetworks, reject_unauth_destination"])
                .isShareable)
    }

    @Test func aConfigurationThatCannotBeRenderedIsNotShared() {
        let bad = configuration(hostname: "not a host")
        #expect(bad.sharingKey == nil)
        #expect(bad.sharingRefusal?.contains("cannot be rendered") == true)
    }

    @Test func smtpdServesOneConnectionPerProcessAndAGivenMaxUseIsReported() throws {
        let master = MasterCF.render(stock: MasterCFTests.stock)
        let lines = master.split(separator: "\n").map(String.init)
        let smtpd = try #require(lines.firstIndex { $0.hasPrefix("25 ") })
        #expect(lines[smtpd + 1] == "  -o max_use=1", "\(master)")
        let rendered = try configuration(settings: ["max_use": "50"]).render(paths: PostfixConfiguration.sharingPaths)
        #expect(rendered.overridden.contains("max_use for smtpd (receiver.postfix)"), "\(rendered.overridden)")
        #expect(rendered.parameters["max_use"] == "50", "other daemons keep it")
    }
}
