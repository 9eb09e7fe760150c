import OpenSMTPD
import Testing

/// What the receiver's evidence reads from smtpd's log.
struct OpenSMTPDLogTests {
    /// Lines of OpenSMTPD 7.4's log as this harness's smtpd wrote them: one session refused at
    /// RCPT, one that delivered a message.
    @Test func acceptedMessagesAreTheCommittedOnes() {
        let refused = [
            "36a0a1ebfd1fd48b smtp connected address=2001:db8:5::25 host=<unknown>",
            "36a0a1ebfd1fd48b smtp failed-command command=\"RCPT TO:<bob@example.test>\" "
                + "result=\"550 5.7.25 Client host rejected: cannot find your hostname\"",
            "36a0a1ebfd1fd48b smtp disconnected reason=quit",
        ]
        let delivered = [
            "2b723560a016b1d2 smtp connected address=192.0.2.25 host=mail.sender.test",
            "2b723560a016b1d2 smtp message msgid=e2249013 size=611 nrcpt=1 proto=ESMTP",
            "2b723560a016b1d2 smtp envelope evpid=e2249013a6b3f1c2 from=<alice@sender.test> to=<bob@example.test>",
            "2b723560a016b1d2 smtp disconnected reason=quit",
        ]
        #expect(OpenSMTPDInstance.messagesAccepted(inSessionLog: refused) == 0)
        #expect(OpenSMTPDInstance.messagesAccepted(inSessionLog: delivered) == 1)
        #expect(OpenSMTPDInstance.messagesAccepted(inSessionLog: delivered + delivered) == 2)
    }
}
