import DNSCore
import Policy
import Scenario
import XCTest

@testable import Exim

final class EximConfigurationTests: XCTestCase {
    let paths = EximPaths(under: "/tmp/case/receiver")

    func configuration(_ policy: ReceiverPolicy, site: EximSiteSettings = EximSiteSettings()) -> EximConfiguration {
        EximConfiguration(
            hostname: "mx.example.test", addresses: [IPAddress("192.0.2.10")!, IPAddress("2001:db8::10")!],
            domains: ["example.test"],
            policy: policy, site: site)
    }

    func testFcrdnsDeniesWithTheSpecReplyAtRcpt() throws {
        let text = try configuration(Preset.fcrdnsStrict.policy).render(paths: paths, hasSPF: false)
        XCTAssertTrue(
            text.contains(
                "deny  message = 550 5.7.25 Client host rejected: cannot find your hostname, [$sender_host_address]"),
            text)
        XCTAssertTrue(text.contains("!verify = reverse_host_lookup"))
        XCTAssertTrue(text.contains("local_interfaces = <; 192.0.2.10 ; 2001:db8::10"))
        XCTAssertTrue(text.contains("acl_smtp_rcpt = acl_mxh_rcpt"))
        // The policy's statements come before the domain check that accepts.
        let rcpt = try XCTUnwrap(text.range(of: "acl_mxh_rcpt:"))
        let deny = try XCTUnwrap(text.range(of: "!verify = reverse_host_lookup"))
        let accept = try XCTUnwrap(text.range(of: "accept  domains = +local_domains"))
        XCTAssertTrue(rcpt.lowerBound < deny.lowerBound && deny.lowerBound < accept.lowerBound)
    }

    func testDeferModeAnswers450WithClass4EnhancedCode() throws {
        let text = try configuration(Preset.fcrdns.policy).render(paths: paths, hasSPF: false)
        XCTAssertTrue(text.contains("defer message = 450 4.7.25 Client host rejected"), text)
        XCTAssertFalse(text.contains("deny  message = 550 5.7.25"))
    }

    func testPerFamilyListsAreGated() throws {
        let policy = ReceiverPolicy(ipv4: [.ptr], ipv6: [.fcrdns])
        let text = try configuration(policy).render(paths: paths, hasSPF: false)
        XCTAssertTrue(text.contains("condition = ${if isip4{$sender_host_address}}"))
        XCTAssertTrue(text.contains("condition = ${if isip6{$sender_host_address}}"))
        XCTAssertTrue(text.contains("ptr=$sender_host_address"))
    }

    func testHeloChecksDnsblAndDataStage() throws {
        let policy = ReceiverPolicy(
            ipv4: [.heloValid, .heloFQDN, .heloResolves, .dnsbl(zone: "bl.example.test")], ipv6: [], rejectAt: .data)
        let text = try configuration(policy).render(paths: paths, hasSPF: false)
        XCTAssertTrue(text.contains("501 5.5.2 <$sender_helo_name>: Helo command rejected: Invalid name"))
        XCTAssertTrue(
            text.contains("504 5.5.2 <$sender_helo_name>: Helo command rejected: need fully-qualified hostname"))
        XCTAssertTrue(text.contains("dnslists = bl.example.test"))
        XCTAssertTrue(
            text.contains(
                "554 5.7.1 Service unavailable; Client host [$sender_host_address] blocked using bl.example.test"))
        // reject_at: data puts the statements in the DATA ACL.
        let data = try XCTUnwrap(text.range(of: "acl_mxh_data:"))
        let dnsbl = try XCTUnwrap(text.range(of: "dnslists = "))
        XCTAssertTrue(data.lowerBound < dnsbl.lowerBound)
    }

    /// Format 1.2: `reject_at: helo` and `mail` put the statements in acl_smtp_helo (run for EHLO
    /// and HELO) and acl_smtp_mail, before their `accept`.
    func testHeloAndMailStagesUseTheirOwnACLs() throws {
        for (stage, acl) in [(RejectStage.helo, "helo"), (.mail, "mail")] {
            let policy = ReceiverPolicy(ipv4: [.fcrdns], ipv6: [.fcrdns], rejectAt: stage)
            let text = try configuration(policy).render(paths: paths, hasSPF: false)
            XCTAssertTrue(text.contains("acl_smtp_\(acl) = acl_mxh_\(acl)"), text)
            let start = try XCTUnwrap(text.range(of: "acl_mxh_\(acl):\n"))
            let rest = text[start.upperBound...]
            let deny = try XCTUnwrap(rest.range(of: "!verify = reverse_host_lookup"))
            let accept = try XCTUnwrap(rest.range(of: "  accept\n"))
            XCTAssertTrue(deny.lowerBound < accept.lowerBound)
            // Nothing of the policy is left in the RCPT ACL.
            let rcpt = try XCTUnwrap(text.range(of: "acl_mxh_rcpt:"))
            let rcptEnd = try XCTUnwrap(text[rcpt.upperBound...].range(of: "accept  domains"))
            XCTAssertFalse(text[rcpt.upperBound..<rcptEnd.lowerBound].contains("verify"))
        }
    }

    func testSPFIsSkippedWithoutTheFeature() {
        let policy = ReceiverPolicy(ipv4: [.spf], ipv6: [.spf])
        XCTAssertEqual(
            configuration(policy).unsupportedReason(hasSPF: false),
            "check spf needs SPF, which the unpacked Exim (exim4-daemon-light) is built without")
        XCTAssertNil(configuration(policy).unsupportedReason(hasSPF: true))
        XCTAssertNotNil(configuration(Preset.gmailLike.policy).unsupportedReason(hasSPF: false))
        XCTAssertNil(configuration(Preset.heloStrict.policy).unsupportedReason(hasSPF: false))
    }

    func testSiteSettingsGoBeforeThePolicyAndCannotMoveOwnedOptions() throws {
        let site = EximSiteSettings(
            main: ["smtp_banner": "site banner", "spool_directory": "/var/spool/exim4"],
            acls: [
                .rcpt: "  deny hosts = 192.0.2.66\n       message = 554 site says no",
                .mail: "  warn logwrite = mail seen",
            ])
        let text = try configuration(Preset.fcrdnsStrict.policy, site: site).render(paths: paths, hasSPF: false)
        XCTAssertTrue(text.contains("smtp_banner = site banner"))
        XCTAssertFalse(text.contains("smtp_banner = $smtp_active_hostname ESMTP"))
        XCTAssertFalse(text.contains("/var/spool/exim4"))
        XCTAssertTrue(text.contains("spool_directory = /tmp/case/receiver/spool"))
        XCTAssertTrue(text.contains("acl_smtp_mail = acl_mxh_mail"))
        let site1 = try XCTUnwrap(text.range(of: "deny hosts = 192.0.2.66"))
        let policy = try XCTUnwrap(text.range(of: "!verify = reverse_host_lookup"))
        XCTAssertTrue(site1.lowerBound < policy.lowerBound)
    }

    func testUserConfigurationKeepsItsACLsAndLosesOwnedOptions() throws {
        var configuration = configuration(Preset.fcrdnsStrict.policy)
        configuration.baseText = """
            primary_hostname = mine.example.test
            local_interfaces = 0.0.0.0 \\
                : ::0
            spool_directory = /var/spool/exim4
            acl_smtp_rcpt = mine
            begin acl
            mine:
              accept
            """
        XCTAssertNil(configuration.unsupportedReason(hasSPF: false), "the user's ACLs are the policy")
        let text = try configuration.render(paths: paths, hasSPF: false)
        XCTAssertTrue(text.contains("primary_hostname = mine.example.test"))
        XCTAssertTrue(text.contains("# (mxharness owns this option) local_interfaces = 0.0.0.0"))
        XCTAssertFalse(text.contains("\n    : ::0"), "the continuation line goes with its option")
        XCTAssertTrue(text.contains("# (mxharness owns this option) spool_directory = /var/spool/exim4"))
        let owned = try XCTUnwrap(text.range(of: "local_interfaces = <; 192.0.2.10"))
        let begin = try XCTUnwrap(text.range(of: "begin acl"))
        XCTAssertTrue(owned.lowerBound < begin.lowerBound)
        XCTAssertFalse(text.contains("reverse_host_lookup"))
    }

    func testDollarsInCustomTextsAreEscaped() throws {
        let policy = ReceiverPolicy(
            ipv4: [.ptr], ipv6: [.ptr],
            customReplies: [.ipv4: [.ptr: CustomReply(code: 554, enhanced: "5.7.1", text: "no $PTR for [ADDR]")]])
        let statements = try EximACL.statements(for: policy, hasSPF: false).get()
        XCTAssertTrue(statements.contains(#"554 5.7.1 no \$PTR for [$sender_host_address]"#), statements)
    }
}
