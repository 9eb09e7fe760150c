import DNSCore
import Policy
import XCTest

@testable import OpenSMTPDTarget

final class OpenSMTPDConfigurationTests: XCTestCase {
    func configuration(_ policy: ReceiverPolicy, dnsFaults: Bool = false) -> OpenSMTPDConfiguration {
        OpenSMTPDConfiguration(
            hostname: "mx.example.test", addresses: [IPAddress("192.0.2.10")!, IPAddress("2001:db8::10")!], domains: ["example.test"],
            policy: policy, dnsFaults: dnsFaults)
    }

    func testFcrdnsIsAChainedRcptFilterOnEveryListener() throws {
        let text = try configuration(Preset.fcrdnsStrict.policy).render()
        XCTAssertTrue(text.contains(#"filter "mxh_1" phase rcpt-to match !fcrdns reject "550 5.7.25 Client host rejected: cannot find your hostname""#), text)
        XCTAssertTrue(text.contains(#"filter "mxh_policy" chain { "mxh_1" }"#))
        XCTAssertTrue(text.contains(#"listen on 192.0.2.10 port 25 hostname "mx.example.test" filter "mxh_policy""#))
        XCTAssertTrue(text.contains(#"listen on 2001:db8::10 port 25 hostname "mx.example.test" filter "mxh_policy""#))
        XCTAssertTrue(text.contains(#"table mxh_domains { "example.test" }"#))
    }

    func testOpenPolicyHasNoFilter() throws {
        let text = try configuration(Preset.open.policy).render()
        XCTAssertFalse(text.contains("filter "))
    }

    func testFamiliesDeferAndDataStage() throws {
        let policy = ReceiverPolicy(ipv4: [.ptr], ipv6: [.fcrdns], rejectAt: .data, onFail: .defer)
        let lines = try OpenSMTPDFilters.filters(for: policy, dnsFaults: false).get()
        XCTAssertEqual(lines, [
            #"filter "mxh_1" phase commit match src <mxh_ipv4> !rdns reject "450 4.7.1 Client host rejected: cannot find your reverse hostname""#,
            #"filter "mxh_2" phase commit match src <mxh_ipv6> !fcrdns reject "450 4.7.25 Client host rejected: cannot find your hostname""#,
            #"filter "mxh_policy" chain { "mxh_1", "mxh_2" }"#,
        ])
    }

    func testWhatOpenSMTPDCannotExpressIsSkippedWithAReason() {
        XCTAssertNotNil(configuration(Preset.heloStrict.policy).unsupportedReason)
        XCTAssertNotNil(configuration(ReceiverPolicy(ipv4: [.dnsbl(zone: "bl.example.test")])).unsupportedReason)
        XCTAssertNotNil(configuration(Preset.ipv6Strict.policy).unsupportedReason)
        XCTAssertNotNil(configuration(Preset.fcrdns.policy, dnsFaults: true).unsupportedReason)
        XCTAssertNil(configuration(Preset.fcrdns.policy).unsupportedReason)
        XCTAssertNil(configuration(ReceiverPolicy(ipv4: [.heloFQDN], ipv6: [.heloFQDN])).unsupportedReason)
        var own = configuration(Preset.heloStrict.policy)
        own.baseText = "listen on 192.0.2.10\n"
        XCTAssertNil(own.unsupportedReason, "a user's own smtpd.conf is run as it is")
        XCTAssertEqual(try own.render(), "listen on 192.0.2.10\n")
    }
}
