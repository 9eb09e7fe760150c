@testable import Runner
import Testing

/// A receiver's evidence behind a proxy (`sender.proxy`) keeps everything the receiver said.
@Suite struct ProxiedEvidenceTests {
    @Test func theEnginesVerdictsAreTheReceivers() {
        let verdict = EngineVerdict(engine: "rspamd", action: "reject", score: 4.4, rejectScore: 4, answered: true)
        let evidence = ProxiedEvidence(
            receiver: LogEvidence(log: "queued", messagesAccepted: 0, engines: [verdict]), proxyLines: ["connect"])
        #expect(evidence.engines == [verdict])
        #expect(evidence.log == "queued\nproxy: connect")
        #expect(evidence.messagesAccepted == 0)
    }
}
