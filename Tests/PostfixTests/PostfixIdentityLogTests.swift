import DNSCore
@testable import Postfix
import Testing

/// Slicing real Postfix logs of the identity paths (`IdentityLogSamples`) by session: a session
/// belongs to every address its lines name as the client.
struct PostfixIdentityLogTests {
    @Test func anXCLIENTSessionBelongsToTheProxyAndTheXCLIENTAddress() throws {
        let log = PostfixLog(text: IdentityLogSamples.xclient)
        let sessions = log.sessions
        #expect(sessions.map(\.pid) == [4786, 4847, 4861, 4881])
        #expect(
            sessions.map(\.client) == [IdentityWorld.lb4, IdentityWorld.lb4, IdentityWorld.lb6, IdentityWorld.lb4],
            "the connect line names the proxy")
        #expect(
            sessions.map(\.clients) == [
                [IdentityWorld.lb4, IdentityWorld.bare4], [IdentityWorld.lb4, IdentityWorld.bare4],
                [IdentityWorld.lb6, IdentityWorld.bare6], [IdentityWorld.lb4, IdentityWorld.bare4],
            ])
        #expect(sessions.allSatisfy { $0.isComplete })
        // Keyed on the connect line, IdentityWorld.bare4 would have no session and no reject line.
        #expect(log.sessions(client: IdentityWorld.bare4).map(\.pid) == [4786, 4847, 4881])
        let reject = try #require(log.rejectLine(client: IdentityWorld.bare4))
        #expect(
            reject.hasSuffix(
                "NOQUEUE: reject: RCPT from unknown[198.51.100.25]: 550 5.7.25 Client host rejected: cannot find your hostname, [198.51.100.25]; from=<alice@sender.test> to=<bob@example.test> proto=ESMTP helo=<mail.sender.test>"
            ))
        #expect(PostfixRejection(line: reject)?.code == 550)
        #expect(log.rejectLine(client: IdentityWorld.bare6)?.contains(": 450 4.7.25 Client host rejected") == true)
        let v6 = log.sessionLog(client: IdentityWorld.bare6)
        #expect(v6.count == 3)
        #expect(v6.first?.hasSuffix("connect from lb.example.test[2001:db8:7::7]") == true)
        // The queued messages' lines (cleanup, qmgr, discard) come with their session.
        let first = try #require(log.sessions(client: IdentityWorld.bare4).first)
        #expect(first.queueIDs == ["2C7EEF867D5"])
        #expect(first.lines.contains { $0.contains("postfix/discard[") && $0.contains("status=sent") })
        #expect(
            PostfixLog.messagesAccepted(
                inSessionLog: log.sessionLog(client: IdentityWorld.bare4).joined(separator: "\n")) == 2)
    }

    @Test func aCaseLogOfAnXCLIENTClientLeavesOutTheOtherClientsSessions() {
        let caseLog = PostfixLog(text: IdentityLogSamples.xclient).caseLog(clients: [IdentityWorld.bare6])
        #expect(!caseLog.contains { $0.contains("198.51.100.25") })
        #expect(caseLog.contains { $0.hasSuffix("connect from lb.example.test[2001:db8:7::7]") })
        #expect(caseLog.contains { $0.contains("reject: RCPT from unknown[2001:db8:5::25]: 450 ") })
        #expect(caseLog.contains { $0.contains("daemon started") }, "lines of no session stay")
    }

    @Test func aProxiedSessionBelongsToTheProxiedAddressAndTheProxyAppearsNowhere() {
        let log = PostfixLog(text: IdentityLogSamples.proxy)
        #expect(
            log.sessions.map(\.clients) == [
                [IdentityWorld.bare4], [IdentityWorld.bare6], [IdentityWorld.named4], [IdentityWorld.named6],
            ])
        #expect(log.sessions(client: IdentityWorld.lb4).isEmpty && log.sessions(client: IdentityWorld.lb6).isEmpty)
        #expect(
            log.rejectLine(client: IdentityWorld.bare6)?.contains("RCPT from unknown[2001:db8:5::25]: 550 5.7.25 ")
                == true)
        #expect(
            PostfixLog.messagesAccepted(
                inSessionLog: log.sessionLog(client: IdentityWorld.named4).joined(separator: "\n")) == 1)
        #expect(
            PostfixLog.messagesAccepted(
                inSessionLog: log.sessionLog(client: IdentityWorld.bare4).joined(separator: "\n")) == 0)
    }

    @Test func behindPostscreenTheSmtpdSessionBelongsToTheProxiedAddress() {
        let log = PostfixLog(text: IdentityLogSamples.postscreenProxy)
        #expect(log.sessions.map(\.clients) == [[IdentityWorld.bare4], [IdentityWorld.named6]])
        let caseLog = log.caseLog(clients: [IdentityWorld.bare4])
        #expect(
            caseLog.contains { $0.contains("postscreen[") && $0.contains("CONNECT from [198.51.100.25]:40000") },
            "postscreen's lines belong to no smtpd session and stay")
        #expect(caseLog.contains { $0.contains("RCPT from unknown[198.51.100.25]: 550 ") })
        #expect(!caseLog.contains { $0.contains("smtpd[") && $0.contains("2001:db8:5::26") })
    }

    @Test func aMissingHeaderLeavesTheProxysSessionWithTheWarningBeforeIt() {
        let log = PostfixLog(text: IdentityLogSamples.missingHeader)
        #expect(log.sessions.map(\.clients) == [[IdentityWorld.lb4]])
        // smtpd warns before its connect line: the warning opens the session.
        #expect(log.sessionLog(client: IdentityWorld.lb4).count == 3)
        #expect(
            log.sessionLog(client: IdentityWorld.lb4).first?.hasSuffix("warning: haproxy read: timeout error") == true)
        #expect(log.sessions.first?.clientName == "lb.example.test")
        // As a problem line it is in every case's log.
        #expect(
            log.caseLog(clients: [IdentityWorld.bare4]).contains {
                $0.hasSuffix("warning: haproxy read: timeout error")
            })
        #expect(!log.caseLog(clients: [IdentityWorld.bare4]).contains { $0.contains("connect from lb.example.test") })
    }

    @Test func aHeaderOnAPlainPortOrARefusedXCLIENTChangesNoClient() {
        // The header's text names 198.51.100.25, but not as a client (no NAME[ADDR]).
        let header = PostfixLog(text: IdentityLogSamples.headerOnPlainPort)
        #expect(header.sessions.map(\.clients) == [[IdentityWorld.lb4]])
        #expect(header.sessions(client: IdentityWorld.bare4).isEmpty)
        let refused = PostfixLog(text: IdentityLogSamples.unauthorisedXCLIENT)
        #expect(refused.sessions.map(\.clients) == [[IdentityWorld.stranger4], [IdentityWorld.lb6]])
    }

    @Test func interleavedSessionsOfSeveralSmtpdProcessesStayApart() {
        // Two real sessions (an XCLIENT one, a PROXY one) interleaved line by line, as concurrent
        // smtpd processes write them.
        let xclient = PostfixLog(text: IdentityLogSamples.xclient).sessions(client: IdentityWorld.bare6)[0].lines
        let proxied = PostfixLog(text: IdentityLogSamples.proxy).sessions(client: IdentityWorld.named4)[0].lines
        var mixed: [String] = []
        for index in 0..<max(xclient.count, proxied.count) {
            if index < proxied.count { mixed.append(proxied[index]) }
            if index < xclient.count { mixed.append(xclient[index]) }
        }
        let log = PostfixLog(lines: mixed)
        #expect(log.sessionLog(client: IdentityWorld.bare6) == xclient)
        #expect(log.sessionLog(client: IdentityWorld.named4) == proxied)
        #expect(log.sessionLog(client: IdentityWorld.lb6) == xclient)
        #expect(log.caseLog(clients: [IdentityWorld.bare6]) == xclient)
    }

    @Test func theClientALineNamesIsTheNameAndAddressAfterFromOrClient() {
        #expect(
            PostfixLog.namedClient(in: "disconnect from unknown[2001:db8:5::25] ehlo=2 xclient=0/1 quit=1")
                == IdentityWorld.bare6)
        #expect(PostfixLog.namedClient(in: "2C7EEF867D5: client=lb.example.test[198.51.100.25]") == IdentityWorld.bare4)
        #expect(
            PostfixLog.namedClient(
                in: "NOQUEUE: reject: RCPT from unknown[198.51.100.25]: 550 5.7.25 text, [2001:db8::1]; from=<a@b>")
                == IdentityWorld.bare4)
        #expect(
            PostfixLog.namedClient(in: "lost connection after DATA from mail.sender.test[2001:db8:5::26]")
                == IdentityWorld.named6)
        #expect(PostfixLog.namedClient(in: "4ABC: from=<alice@sender.test>, size=283, nrcpt=1 (queue active)") == nil)
        #expect(PostfixLog.namedClient(in: "warning: hostname x.test does not resolve to address 198.51.100.25") == nil)
        #expect(
            PostfixLog.namedClient(
                in: "improper command pipelining after CONNECT from x[203.0.113.7]: PROXY TCP4 198.51.100.25 1 2")
                == IdentityWorld.lb4)
    }
}
