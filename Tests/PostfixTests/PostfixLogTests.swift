import DNSCore
@testable import Postfix
import Testing

struct PostfixLogTests {
    static let text = """
        Nov 29 02:25:21 mx postfix/postfix-script[13497]: starting the Postfix mail system
        Nov 29 02:25:21 mx postfix/master[13499]: daemon started -- version 3.7.11, configuration /etc/postfix
        Nov 29 02:25:27 mx postfix/smtpd[13604]: connect from unknown[2001:db8:5::25]
        Nov 29 02:25:27 mx postfix/smtpd[13605]: connect from mail.sender.test[198.51.100.25]
        Nov 29 02:25:27 mx postfix/smtpd[13604]: NOQUEUE: reject: RCPT from unknown[2001:db8:5::25]: 550 5.7.25 Client host rejected: cannot find your hostname, [2001:db8:5::25]; from=<a@sender.test> to=<bob@example.test> proto=ESMTP helo=<mail.sender.test>
        Nov 29 02:25:27 mx postfix/smtpd[13605]: 4ABCDEF012: client=mail.sender.test[198.51.100.25]
        Nov 29 02:25:27 mx postfix/cleanup[13610]: 4ABCDEF012: message-id=<1@sender.test>
        Nov 29 02:25:27 mx postfix/smtpd[13604]: disconnect from unknown[2001:db8:5::25] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4
        Nov 29 02:25:27 mx postfix/qmgr[13611]: 4ABCDEF012: from=<a@sender.test>, size=300, nrcpt=1 (queue active)
        Nov 29 02:25:27 mx postfix/smtpd[13605]: disconnect from mail.sender.test[198.51.100.25] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5
        Nov 29 02:25:27 mx postfix/discard[13612]: 4ABCDEF012: to=<bob@example.test>, relay=none, delay=0.01, status=sent (accepted by mxharness)
        Nov 29 02:25:28 mx postfix/smtpd[13604]: connect from unknown[2001:db8:5::25]
        Nov 29 02:25:28 mx postfix/smtpd[13604]: lost connection after CONNECT from unknown[2001:db8:5::25]
        """

    @Test func sessionsAreSplitByClientWithTheirQueuedMessages() {
        let log = PostfixLog(text: Self.text)
        let v6 = IPAddress("2001:db8:5::25")!, v4 = IPAddress("198.51.100.25")!
        let sessions = log.sessions
        #expect(sessions.count == 3)
        #expect(log.sessions(client: v6).map(\.isComplete) == [true, false])
        #expect(log.sessionLog(client: v6).count == 5)
        let accepted = log.sessions(client: v4)
        #expect(accepted.first?.clientName == "mail.sender.test")
        #expect(accepted.first?.queueIDs == ["4ABCDEF012"])
        #expect(
            accepted.first?.lines.last?.contains("status=sent") == true,
            "the delivery agent's line belongs to the session")
        #expect(accepted.first?.rejectLine == nil)
        #expect(log.rejectLine(client: v6)?.contains("NOQUEUE: reject: RCPT") == true)
        #expect(log.rejectLine(client: IPAddress("2001:db8::99")!) == nil)
    }

    @Test func rejectionsParseIntoStageCodeAndText() throws {
        let line = Self.text.split(separator: "\n").map(String.init).first { $0.contains("reject:") }!
        let rejection = try #require(PostfixRejection(line: line))
        #expect(rejection.stage == "RCPT")
        #expect(rejection.code == 550)
        #expect(rejection.enhanced == "5.7.25")
        #expect(rejection.text == "Client host rejected: cannot find your hostname, [2001:db8:5::25]")
        #expect(rejection.queueID == "NOQUEUE")
        let helo =
            "Nov 29 02:25:27 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 504 5.5.2 <mail>: Helo command rejected: need fully-qualified hostname; from=<a@sender.test> to=<b@example.test> proto=ESMTP helo=<mail>"
        #expect(PostfixRejection(line: helo)?.text == "<mail>: Helo command rejected: need fully-qualified hostname")
        #expect(PostfixRejection(line: "garbage") == nil)
        #expect(
            PostfixRejection(line: "Nov 29 02:25:27 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.1]: xyz")
                == nil)
    }

    @Test func linesThatAreNotPostfixLinesAreSkipped() {
        let log = PostfixLog(
            text: "not a log line\n]: [x\nNov 29 mx postfix/smtpd[abc]: connect from unknown[192.0.2.1]\n")
        #expect(log.sessions.isEmpty)
    }
}

struct QueueLayoutTests {
    @Test func readsTheQueueFoldersFromPostfixFiles() {
        let files = """
            # comment
            $config_directory:d:root:-:755:u
            $data_directory:d:$mail_owner:-:700:uc
            $queue_directory:d:root:-:755:uc
            $queue_directory/active:d:$mail_owner:-:700:ucr
            $queue_directory/maildrop:d:$mail_owner:$setgid_group:730:uc
            $queue_directory/pid:d:root:-:755:uc
            $queue_directory/broken:d:$mail_owner:-:9z9:uc
            $queue_directory/not-a-folder:f:root:-:644
            """
        let layout = QueueLayout(postfixFiles: files, mailOwner: "postfix", setgidGroup: "postdrop")
        #expect(
            layout.folders == [
                .init(path: "", owner: "root", group: nil, mode: 0o755),
                .init(path: "active", owner: "postfix", group: nil, mode: 0o700),
                .init(path: "maildrop", owner: "postfix", group: "postdrop", mode: 0o730),
                .init(path: "pid", owner: "root", group: nil, mode: 0o755),
            ])
    }
}

/// What a case's report shows of an instance's log (`PostfixLog.caseLog`).
struct PostfixCaseLogTests {
    @Test func theCasesSessionsAndEveryProblemLineButNotAnotherClientsPlainLines() {
        let log = PostfixLog(
            text: """
                Nov 29 02:25:21 mx postfix/master[1]: daemon started -- version 3.7.11
                Nov 29 02:25:27 mx postfix/smtpd[10]: connect from unknown[198.51.100.9]
                Nov 29 02:25:27 mx postfix/smtpd[11]: connect from unknown[2001:db8:5::25]
                Nov 29 02:25:27 mx postfix/smtpd[10]: warning: hash:/etc/postfix/virtual is unavailable. open database /etc/postfix/virtual.db: No such file or directory
                Nov 29 02:25:27 mx postfix/trivial-rewrite[12]: warning: hash:/etc/postfix/transport lookup error for "example.test"
                Nov 29 02:25:27 mx postfix/smtpd[11]: NOQUEUE: reject: RCPT from unknown[2001:db8:5::25]: 451 4.3.0 <b@example.test>: Temporary lookup failure; from=<a@sender.test> to=<b@example.test> proto=ESMTP helo=<x>
                Nov 29 02:25:27 mx postfix/smtpd[10]: NOQUEUE: reject: RCPT from unknown[198.51.100.9]: 451 4.3.0 <c@example.test>: Temporary lookup failure
                Nov 29 02:25:28 mx postfix/smtpd[10]: disconnect from unknown[198.51.100.9]
                Nov 29 02:25:28 mx postfix/smtpd[11]: disconnect from unknown[2001:db8:5::25]
                """)
        let lines = log.caseLog(clients: [IPAddress("2001:db8:5::25")!])
        #expect(lines.count == 6, "\(lines)")
        #expect(lines.contains { $0.contains("daemon started") }, "a line of no session")
        #expect(
            lines.contains { $0.contains("smtpd[10]: warning: hash:/etc/postfix/virtual is unavailable") },
            "another client's session, but a warning")
        #expect(lines.contains { $0.contains("trivial-rewrite[12]: warning:") })
        #expect(
            !lines.contains {
                $0.contains("198.51.100.9]: 451") || $0.contains("disconnect from unknown[198.51.100.9]")
            })
        #expect(PostfixLog.isProblem("Nov 29 02:25:27 mx postfix/cleanup[3]: fatal: open /etc/postfix/x: No such file"))
        #expect(!PostfixLog.isProblem("Nov 29 02:25:27 mx postfix/cleanup[3]: 4ABC: message-id=<warning: no>"))
    }
}
