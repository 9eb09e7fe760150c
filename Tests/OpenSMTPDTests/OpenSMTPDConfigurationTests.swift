import DNSCore
import Policy
import XCTest

@testable import OpenSMTPD

final class OpenSMTPDConfigurationTests: XCTestCase {
    func configuration(_ policy: ReceiverPolicy, faults: Bool = false, numericPTR: Bool = false)
        -> OpenSMTPDConfiguration
    {
        OpenSMTPDConfiguration(
            hostname: "mx.example.test", addresses: [IPAddress("192.0.2.10")!, IPAddress("2001:db8::10")!],
            domains: ["example.test"],
            policy: policy, world: OpenSMTPDFilters.WorldFacts(faults: faults, numericPTR: numericPTR))
    }

    func testFcrdnsIsAChainedRcptFilterOnEveryListener() throws {
        let text = try configuration(Preset.fcrdnsStrict.policy).render()
        XCTAssertTrue(
            text.contains(
                #"filter "mxh_ipv4_1" phase rcpt-to match !fcrdns reject "550 5.7.25 Client host rejected: cannot find your hostname""#
            ), text)
        XCTAssertTrue(text.contains(#"filter "mxh_policy_ipv4" chain { "mxh_ipv4_1" }"#))
        XCTAssertTrue(
            text.contains(#"listen on 192.0.2.10 port 25 hostname "mx.example.test" filter "mxh_policy_ipv4""#))
        XCTAssertTrue(
            text.contains(#"listen on 2001:db8::10 port 25 hostname "mx.example.test" filter "mxh_policy_ipv6""#))
        XCTAssertTrue(text.contains(#"table mxh_domains { "example.test" }"#))
    }

    func testOpenPolicyHasNoFilter() throws {
        let text = try configuration(Preset.open.policy).render()
        XCTAssertFalse(text.contains("filter "))
    }

    func testFamiliesDeferAndDataStage() throws {
        let policy = ReceiverPolicy(ipv4: [.ptr], ipv6: [.fcrdns], rejectAt: .data, onFail: .defer)
        let lines = try OpenSMTPDFilters.filters(for: policy, world: OpenSMTPDFilters.WorldFacts()).get()
        XCTAssertEqual(
            lines[.ipv4],
            [
                #"filter "mxh_ipv4_1" phase commit match !rdns reject "450 4.7.1 Client host rejected: cannot find your reverse hostname""#,
                #"filter "mxh_policy_ipv4" chain { "mxh_ipv4_1" }"#,
            ])
        XCTAssertEqual(
            lines[.ipv6],
            [
                #"filter "mxh_ipv6_1" phase commit match !fcrdns reject "450 4.7.25 Client host rejected: cannot find your hostname""#,
                #"filter "mxh_policy_ipv6" chain { "mxh_ipv6_1" }"#,
            ])
        let text = try configuration(ReceiverPolicy(ipv4: [], ipv6: [.fcrdns])).render()
        XCTAssertTrue(
            text.contains("listen on 192.0.2.10 port 25 hostname \"mx.example.test\"\n"),
            "no checks for IPv4: no filter there")
    }

    func testWhatOpenSMTPDCannotExpressIsSkippedWithAReason() {
        XCTAssertNotNil(configuration(Preset.heloStrict.policy).unsupportedReason)
        XCTAssertNotNil(configuration(ReceiverPolicy(ipv4: [.dnsbl(zone: "bl.example.test")])).unsupportedReason)
        XCTAssertNotNil(configuration(Preset.ipv6Strict.policy).unsupportedReason)
        XCTAssertNotNil(configuration(Preset.fcrdns.policy, faults: true).unsupportedReason)
        XCTAssertNotNil(configuration(Preset.fcrdns.policy, numericPTR: true).unsupportedReason)
        XCTAssertNil(configuration(Preset.reverse.policy, numericPTR: true).unsupportedReason)
        XCTAssertNil(configuration(Preset.fcrdns.policy).unsupportedReason)
        XCTAssertNil(configuration(ReceiverPolicy(ipv4: [.heloFQDN], ipv6: [.heloFQDN])).unsupportedReason)
        var own = configuration(Preset.heloStrict.policy)
        own.baseText = "listen on 192.0.2.10\n"
        XCTAssertNil(own.unsupportedReason, "a user's own smtpd.conf is run as it is")
        XCTAssertEqual(try own.render(), "listen on 192.0.2.10\n")
    }
}
