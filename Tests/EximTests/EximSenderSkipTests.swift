import DNSCore
import Foundation
import Scenario
import Testing
@testable import Exim

/// Cases the Exim sender skips because Exim really differs from Postfix there, read from the
/// library's dnssec/dane cases (no world is made).
@Suite struct EximSenderSkipTests {
    func daneCases() throws -> [String: ScenarioCase] {
        let file = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Scenarios/dnssec/dane.yaml").path
        let cases = try ScenarioLoader().load(paths: [file])
        return Dictionary(cases.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    @Test func anInsecureMXRRsetWithASecureTLSAHostIsHalfDANE() throws {
        let cases = try daneCases()
        let half = try #require(cases["dane/half-dane-mismatch"])
        let reason = try #require(EximSenders.halfDANEReason(half))
        #expect(reason.contains("example.test") && reason.contains("mx.provider.test"))
        // Both insecure (the MX host's addresses too): neither sender uses DANE, nothing to skip.
        #expect(EximSenders.halfDANEReason(try #require(cases["dane/insecure-zone"])) == nil)
        for name in ["dane", "dane/mismatch", "dane/bogus-tlsa", "dane/second-mx-at-the-same-address"] {
            #expect(EximSenders.halfDANEReason(try #require(cases[name])) == nil, "\(name)")
        }
        var notDANE = half
        notDANE.sender.tls = .may
        #expect(EximSenders.halfDANEReason(notDANE) == nil)
    }

    @Test func aDANETARecordForAMisnamedCertificateIsSkipped() throws {
        let cases = try daneCases()
        let misnamed = try #require(cases["dane/ta-wrong-name"])
        let reason = try #require(EximSenders.daneTANameReason(misnamed))
        #expect(reason.contains("DANE-TA record for mx.example.test"))
        // DANE-EE checks no name, and a DANE-TA record over a well-named certificate runs.
        for name in ["dane/ta-authority-key", "dane/ta-private-authority", "dane/ta-expired-certificate", "dane"] {
            #expect(EximSenders.daneTANameReason(try #require(cases[name])) == nil, "\(name)")
        }
    }

    @Test func twoMXHostsAtOneAddressAreTriedOnceByExim() throws {
        let cases = try daneCases()
        let shared = try #require(cases["dane/second-mx-at-the-same-address"])
        let reason = try #require(EximSenders.sharedAddressReason(shared))
        #expect(reason.contains("mx1.example.test and mx.example.test share the address 192.0.2.10"))
        for name in ["dane", "dane/half-dane-mismatch", "dane/no-tlsa"] {
            #expect(EximSenders.sharedAddressReason(try #require(cases[name])) == nil, "\(name)")
        }
    }
}
