import Foundation
import Rspamd
import SMTPProtocol
import Testing

/// rspamd 3.4's reply to `POST /checkv2` for an IPv6 sender without `Hostname` at a strict site's
/// thresholds (reject 4), seen here with no DNS answering; cut to some of its 25 symbols, each as
/// rspamd wrote it.
private let strictReply = [
    #"{"is_skipped":false,"score":5.0,"required_score":4.0,"action":"reject","symbols":{"#,
    #""ARC_NA":{"name":"ARC_NA","score":0.0,"metric_score":0.0,"description":"ARC signature absent"},"#,
    #""ONCE_RECEIVED":{"name":"ONCE_RECEIVED","score":0.100000,"metric_score":0.100000,"#,
    #""description":"One received header in a message"},"#,
    #""RDNS_NONE":{"name":"RDNS_NONE","score":1.0,"metric_score":1.0,"#,
    #""description":"Cannot resolve reverse DNS for sender's IP"},"#,
    #""HFILTER_FROMHOST_NORES_A_OR_MX":{"name":"HFILTER_FROMHOST_NORES_A_OR_MX","score":1.500000,"#,
    #""metric_score":1.500000,"description":"FROM host no resolve to A or MX","options":["sender.test"]},"#,
    #""MIME_GOOD":{"name":"MIME_GOOD","score":-0.100000,"metric_score":-0.100000,"#,
    #""description":"Known content-type","options":["text/plain"]},"#,
    #""HFILTER_HOSTNAME_UNKNOWN":{"name":"HFILTER_HOSTNAME_UNKNOWN","score":2.500000,"metric_score":2.500000,"#,
    #""description":"Unknown client hostname (PTR or FCrDNS verification failed)"}},"#,
    #""messages":{},"message-id":"m1@sender.test","time_real":3.241865,"milter":{"remove_headers":{"X-Spam":0}}}"#,
].joined()

private func response(_ body: String, status: String = "200 OK", length: Bool = true) -> [UInt8] {
    var head = "HTTP/1.1 \(status)\r\nConnection: close\r\nServer: rspamd/3.4\r\n"
    if length { head += "Content-Length: \(body.utf8.count)\r\n" }
    return Array((head + "Content-Type: application/json\r\n\r\n" + body).utf8)
}

/// rspamd's HTTP protocol: the request a receiver writes and the reply read back.
@Suite struct RspamdProtocolTests {
    let check = RspamdCheck(
        client: "2001:db8:5::25", hostname: "mail.sender.test", helo: "mail.sender.test",
        mailFrom: "alice@sender.test", recipients: ["bob@example.test", "carol@example.test"], queueID: "S1Q1",
        mtaName: "mx.example.test", message: Array("Subject: hi\r\n\r\nHello.\r\n".utf8))

    /// The header fields of `rspamd_milter_to_http` (src/libserver/milter.c), in its order.
    @Test func theRequestCarriesWhatRspamdsMilterTellsIt() {
        let text = String(decoding: check.request, as: UTF8.self)
        #expect(
            text == "POST /checkv2 HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: mxharness\r\nConnection: close\r\n"
                + "Hostname: mail.sender.test\r\nHelo: mail.sender.test\r\nFrom: <alice@sender.test>\r\n"
                + "Rcpt: <bob@example.test>\r\nRcpt: <carol@example.test>\r\nIP: 2001:db8:5::25\r\n"
                + "Queue-Id: S1Q1\r\nMTA-Name: mx.example.test\r\nContent-Length: 23\r\n\r\n"
                + "Subject: hi\r\n\r\nHello.\r\n")
    }

    /// Postfix names a client without a confirmed name `unknown`, which the milter leaves out;
    /// the null sender is `<>`; TLS facts are passed only for a TLS session.
    @Test func anUnknownClientNameIsLeftOutAndTheNullSenderIsEmpty() {
        var check = check
        check.hostname = "unknown"
        check.mailFrom = ""
        check.tlsVersion = "TLSv1.3"
        check.tlsCipher = "TLS_AES_256_GCM_SHA384"
        let names = check.headerFields.map(\.name)
        #expect(!names.contains("Hostname"))
        #expect(check.headerFields.first { $0.name == "From" }?.value == "<>")
        #expect(
            check.headerFields.filter { $0.name.hasPrefix("TLS-") }.map(\.value) == [
                "TLS_AES_256_GCM_SHA384", "TLSv1.3",
            ])
        check.hostname = nil
        #expect(!check.headerFields.map(\.name).contains("Hostname"))
        #expect(!self.check.headerFields.map(\.name).contains("TLS-Version"))
    }

    /// A value cannot end the header early and start a field of its own.
    @Test func aLineBreakInAValueEndsTheValue() {
        var check = check
        check.helo = "evil.test\r\nIP: 192.0.2.1"
        let text = String(decoding: check.request, as: UTF8.self)
        #expect(text.contains("Helo: evil.test\r\nFrom:"))
        #expect(!text.contains("IP: 192.0.2.1"))
    }

    @Test func aReplyGivesTheActionScoreThresholdAndSymbolsInTheLogsOrder() throws {
        var reader = RspamdResponseReader()
        guard case .done(let result) = reader.read(response(strictReply)) else {
            Issue.record("not read whole")
            return
        }
        #expect(result.action == "reject")
        #expect(result.score == 5)
        #expect(result.requiredScore == 4)
        // As rspamd's log line: by the size of the score, then by name.
        #expect(
            result.symbols.map(\.name) == [
                "HFILTER_HOSTNAME_UNKNOWN", "HFILTER_FROMHOST_NORES_A_OR_MX", "RDNS_NONE", "MIME_GOOD",
                "ONCE_RECEIVED", "ARC_NA",
            ])
        #expect(result.symbols.first { $0.name == "HFILTER_FROMHOST_NORES_A_OR_MX" }?.options == ["sender.test"])
        #expect(result.smtpMessage == nil)
        #expect(
            RspamdMilterReply.reply(for: result) == SMTPReply(code: 554, enhanced: "5.7.1", "Spam message rejected"))
    }

    /// Bytes arrive as the socket reads them: one at a time is the same reply.
    @Test func aReplyReadByteByByteIsTheSame() throws {
        var reader = RspamdResponseReader()
        let bytes = response(strictReply)
        var steps: [RspamdResponseReader.Step] = []
        for byte in bytes { steps.append(reader.read([byte])) }
        #expect(steps.dropLast().allSatisfy { $0 == .needMore })
        var whole = RspamdResponseReader()
        #expect(steps.last == whole.read(bytes))
        #expect(reader.read([0x20]) == .needMore, "nothing after the end")
    }

    @Test func withoutContentLengthTheReplyEndsWithTheConnection() {
        var reader = RspamdResponseReader()
        #expect(reader.read(response(strictReply, length: false)) == .needMore)
        guard case .done(let result) = reader.endOfInput() else {
            Issue.record("no result at the end of input")
            return
        }
        #expect(result.action == "reject")
    }

    @Test func aShortReplyAnErrorStatusAndAnErrorFieldAreFailures() {
        var cut = RspamdResponseReader()
        _ = cut.read(response(strictReply).dropLast(10))
        guard case .failed(.truncated(let received, let expected)) = cut.endOfInput() else {
            Issue.record("a cut reply was read")
            return
        }
        #expect(received == strictReply.utf8.count - 10)
        #expect(expected == strictReply.utf8.count)

        // Seen from rspamd 3.4 for an unknown path.
        let invalid = #"{"error":"invalid command","error_domain":"protocol-error"}"#
        var status = RspamdResponseReader()
        #expect(status.read(response(invalid, status: "500 invalid command")) == .failed(.status(500, invalid)))
        var field = RspamdResponseReader()
        #expect(field.read(response(invalid)) == .failed(.rspamdError("invalid command")))

        var notHTTP = RspamdResponseReader()
        #expect(
            notHTTP.read(Array("220 mx.example.test ESMTP\r\n\r\n".utf8))
                == .failed(.malformedResponse("220 mx.example.test ESMTP")))
        var nothing = RspamdResponseReader()
        #expect(nothing.endOfInput() == .failed(.truncated(received: 0, expected: nil)))
        var noAction = RspamdResponseReader()
        #expect(noAction.read(response(#"{"score":1.0}"#)) == .failed(.missingField("action")))
    }
}

/// The SMTP reply for each action, as rspamd's milter has Postfix answer it
/// (`rspamd_milter_send_task_results` in src/libserver/milter.c; codes and texts in milter.h).
@Suite struct RspamdMilterReplyTests {
    func result(_ action: String, message: String? = nil, reject: String? = nil, noAction: Bool = false)
        -> RspamdResult
    {
        RspamdResult(action: action, score: 9, smtpMessage: message, milterReject: reject, milterNoAction: noAction)
    }

    @Test func rejectIs554WithTheProxysRejectMessage() {
        // RSPAMD_MILTER_RCODE_REJECT "554", RSPAMD_MILTER_XCODE_REJECT "5.7.1", reject_message.
        #expect(
            RspamdMilterReply.reply(for: result("reject"))
                == SMTPReply(code: 554, enhanced: "5.7.1", "Spam message rejected"))
        #expect(
            RspamdMilterReply.reply(for: result("reject"), rejectMessage: "Go away")
                == SMTPReply(code: 554, enhanced: "5.7.1", "Go away"))
    }

    @Test func softRejectIs451TryAgainLater() {
        // RSPAMD_MILTER_RCODE_TEMPFAIL "451", RSPAMD_MILTER_XCODE_TEMPFAIL "4.7.1",
        // RSPAMD_MILTER_TEMPFAIL_MESSAGE "Try again later".
        #expect(
            RspamdMilterReply.reply(for: result("soft reject"))
                == SMTPReply(code: 451, enhanced: "4.7.1", "Try again later"))
    }

    @Test func aModulesSMTPMessageIsTheText() {
        // messages.smtp_message replaces the default text, for reject and soft reject alike.
        #expect(
            RspamdMilterReply.reply(for: result("soft reject", message: "Try again later, greylisted"))
                == SMTPReply(code: 451, enhanced: "4.7.1", "Try again later, greylisted"))
        #expect(
            RspamdMilterReply.reply(for: result("reject", message: "Blocked"))
                == SMTPReply(code: 554, enhanced: "5.7.1", "Blocked"))
    }

    @Test func headerActionsGreylistAndNoActionAccept() {
        for action in ["add header", "rewrite subject", "greylist", "no action"] {
            #expect(RspamdMilterReply.reply(for: result(action)) == nil, "\(action)")
        }
    }

    @Test func discardQuarantineAndNoActionInTheMilterBlockAccept() {
        #expect(RspamdMilterReply.reply(for: result("reject", reject: "discard")) == nil)
        #expect(RspamdMilterReply.reply(for: result("reject", reject: "quarantine")) == nil)
        #expect(RspamdMilterReply.reply(for: result("reject", noAction: true)) == nil)
        #expect(RspamdMilterReply.reply(for: result("reject", reject: "reject")) != nil)
    }

    @Test func anUnregisteredActionTempfailsAsPostfixAnswersAFailedMilter() {
        #expect(
            RspamdMilterReply.reply(for: result("quarantine"))
                == SMTPReply(code: 451, enhanced: "4.7.1", "Service unavailable - try again later"))
    }
}
