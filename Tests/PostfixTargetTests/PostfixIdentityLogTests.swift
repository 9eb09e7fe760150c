import DNSCore
@testable import PostfixTarget
import Testing

private let lb4 = IPAddress("203.0.113.7")!
private let lb6 = IPAddress("2001:db8:7::7")!
private let stranger4 = IPAddress("203.0.113.8")!
private let bare4 = IPAddress("198.51.100.25")!
private let bare6 = IPAddress("2001:db8:5::25")!
private let named4 = IPAddress("198.51.100.26")!
private let named6 = IPAddress("2001:db8:5::26")!

/// Slicing real Postfix logs of the identity paths (`IdentityLogSamples`) by session: a session
/// belongs to every address its lines name as the client.
struct PostfixIdentityLogTests {
    @Test func anXCLIENTSessionBelongsToTheProxyAndTheXCLIENTAddress() throws {
        let log = PostfixLog(text: IdentityLogSamples.xclient)
        let sessions = log.sessions
        #expect(sessions.map(\.pid) == [4786, 4847, 4861, 4881])
        #expect(sessions.map(\.client) == [lb4, lb4, lb6, lb4], "the connect line names the proxy")
        #expect(sessions.map(\.clients) == [[lb4, bare4], [lb4, bare4], [lb6, bare6], [lb4, bare4]])
        #expect(sessions.allSatisfy { $0.isComplete })
        // Keyed on the connect line, bare4 would have no session and no reject line.
        #expect(log.sessions(client: bare4).map(\.pid) == [4786, 4847, 4881])
        let reject = try #require(log.rejectLine(client: bare4))
        #expect(reject.hasSuffix("NOQUEUE: reject: RCPT from unknown[198.51.100.25]: 550 5.7.25 Client host rejected: cannot find your hostname, [198.51.100.25]; from=<alice@sender.test> to=<bob@example.test> proto=ESMTP helo=<mail.sender.test>"))
        #expect(PostfixRejection(line: reject)?.code == 550)
        #expect(log.rejectLine(client: bare6)?.contains(": 450 4.7.25 Client host rejected") == true)
        let v6 = log.sessionLog(client: bare6)
        #expect(v6.count == 3)
        #expect(v6.first?.hasSuffix("connect from lb.example.test[2001:db8:7::7]") == true)
        // The queued messages' lines (cleanup, qmgr, discard) come with their session.
        let first = try #require(log.sessions(client: bare4).first)
        #expect(first.queueIDs == ["2C7EEF867D5"])
        #expect(first.lines.contains { $0.contains("postfix/discard[") && $0.contains("status=sent") })
        #expect(PostfixLog.messagesAccepted(inSessionLog: log.sessionLog(client: bare4).joined(separator: "\n")) == 2)
    }

    @Test func aCaseLogOfAnXCLIENTClientLeavesOutTheOtherClientsSessions() {
        let caseLog = PostfixLog(text: IdentityLogSamples.xclient).caseLog(clients: [bare6])
        #expect(!caseLog.contains { $0.contains("198.51.100.25") })
        #expect(caseLog.contains { $0.hasSuffix("connect from lb.example.test[2001:db8:7::7]") })
        #expect(caseLog.contains { $0.contains("reject: RCPT from unknown[2001:db8:5::25]: 450 ") })
        #expect(caseLog.contains { $0.contains("daemon started") }, "lines of no session stay")
    }

    @Test func aProxiedSessionBelongsToTheProxiedAddressAndTheProxyAppearsNowhere() {
        let log = PostfixLog(text: IdentityLogSamples.proxy)
        #expect(log.sessions.map(\.clients) == [[bare4], [bare6], [named4], [named6]])
        #expect(log.sessions(client: lb4).isEmpty && log.sessions(client: lb6).isEmpty)
        #expect(log.rejectLine(client: bare6)?.contains("RCPT from unknown[2001:db8:5::25]: 550 5.7.25 ") == true)
        #expect(PostfixLog.messagesAccepted(inSessionLog: log.sessionLog(client: named4).joined(separator: "\n")) == 1)
        #expect(PostfixLog.messagesAccepted(inSessionLog: log.sessionLog(client: bare4).joined(separator: "\n")) == 0)
    }

    @Test func behindPostscreenTheSmtpdSessionBelongsToTheProxiedAddress() {
        let log = PostfixLog(text: IdentityLogSamples.postscreenProxy)
        #expect(log.sessions.map(\.clients) == [[bare4], [named6]])
        let caseLog = log.caseLog(clients: [bare4])
        #expect(caseLog.contains { $0.contains("postscreen[") && $0.contains("CONNECT from [198.51.100.25]:40000") }, "postscreen's lines belong to no smtpd session and stay")
        #expect(caseLog.contains { $0.contains("RCPT from unknown[198.51.100.25]: 550 ") })
        #expect(!caseLog.contains { $0.contains("smtpd[") && $0.contains("2001:db8:5::26") })
    }

    @Test func aMissingHeaderLeavesTheProxysSessionWithTheWarningBeforeIt() {
        let log = PostfixLog(text: IdentityLogSamples.missingHeader)
        #expect(log.sessions.map(\.clients) == [[lb4]])
        // smtpd warns before its connect line: the warning opens the session.
        #expect(log.sessionLog(client: lb4).count == 3)
        #expect(log.sessionLog(client: lb4).first?.hasSuffix("warning: haproxy read: timeout error") == true)
        #expect(log.sessions.first?.clientName == "lb.example.test")
        // As a problem line it is in every case's log.
        #expect(log.caseLog(clients: [bare4]).contains { $0.hasSuffix("warning: haproxy read: timeout error") })
        #expect(!log.caseLog(clients: [bare4]).contains { $0.contains("connect from lb.example.test") })
    }

    @Test func aHeaderOnAPlainPortOrARefusedXCLIENTChangesNoClient() {
        // The header's text names 198.51.100.25, but not as a client (no NAME[ADDR]).
        let header = PostfixLog(text: IdentityLogSamples.headerOnPlainPort)
        #expect(header.sessions.map(\.clients) == [[lb4]])
        #expect(header.sessions(client: bare4).isEmpty)
        let refused = PostfixLog(text: IdentityLogSamples.unauthorisedXCLIENT)
        #expect(refused.sessions.map(\.clients) == [[stranger4], [lb6]])
    }

    @Test func interleavedSessionsOfSeveralSmtpdProcessesStayApart() {
        // Two real sessions (an XCLIENT one, a PROXY one) interleaved line by line, as concurrent
        // smtpd processes write them.
        let xclient = PostfixLog(text: IdentityLogSamples.xclient).sessions(client: bare6)[0].lines
        let proxied = PostfixLog(text: IdentityLogSamples.proxy).sessions(client: named4)[0].lines
        var mixed: [String] = []
        for index in 0..<max(xclient.count, proxied.count) {
            if index < proxied.count { mixed.append(proxied[index]) }
            if index < xclient.count { mixed.append(xclient[index]) }
        }
        let log = PostfixLog(lines: mixed)
        #expect(log.sessionLog(client: bare6) == xclient)
        #expect(log.sessionLog(client: named4) == proxied)
        #expect(log.sessionLog(client: lb6) == xclient)
        #expect(log.caseLog(clients: [bare6]) == xclient)
    }

    @Test func theClientALineNamesIsTheNameAndAddressAfterFromOrClient() {
        #expect(PostfixLog.namedClient(in: "disconnect from unknown[2001:db8:5::25] ehlo=2 xclient=0/1 quit=1") == bare6)
        #expect(PostfixLog.namedClient(in: "2C7EEF867D5: client=lb.example.test[198.51.100.25]") == bare4)
        #expect(PostfixLog.namedClient(in: "NOQUEUE: reject: RCPT from unknown[198.51.100.25]: 550 5.7.25 text, [2001:db8::1]; from=<a@b>") == bare4)
        #expect(PostfixLog.namedClient(in: "lost connection after DATA from mail.sender.test[2001:db8:5::26]") == named6)
        #expect(PostfixLog.namedClient(in: "4ABC: from=<alice@sender.test>, size=283, nrcpt=1 (queue active)") == nil)
        #expect(PostfixLog.namedClient(in: "warning: hostname x.test does not resolve to address 198.51.100.25") == nil)
        #expect(PostfixLog.namedClient(in: "improper command pipelining after CONNECT from x[203.0.113.7]: PROXY TCP4 198.51.100.25 1 2") == lb4)
    }
}
