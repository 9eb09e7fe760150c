import DNSCore
import SMTPProtocol
import Delivery
import Testing
@testable import Exim

/// Exim 4.96 main-log lines (as seen from the unpacked Debian build) read as attempts and outcomes.
@Suite struct EximDeliveryLogTests {
    let prefix = "2026-12-02 05:31:15.714 [4301] 1xYcvz-00017K-27 "

    @Test func twoRecipientsDeferredOverIPv6ThenDeliveredOverIPv4() {
        let log = EximDeliveryLog(lines: [
            prefix
                + "H=mx.example.test [2001:db8::10]:25 SMTP error from remote mail server after RCPT TO:<bob@example.test>: 450 4.7.25 Client host rejected: cannot find your hostname, [2001:db8:5::25]",
            prefix
                + "H=mx.example.test [2001:db8::10]:25 SMTP error from remote mail server after RCPT TO:<carol@example.test>: 450 4.7.25 Client host rejected: cannot find your hostname, [2001:db8:5::25]",
            prefix
                + "=> bob@example.test F=<alice@sender.test> R=dnslookup T=remote_smtp S=416 H=mx.example.test [192.0.2.10]:25 I=[203.0.113.25]:57309 L C=\"250 2.0.0 Ok: queued as S2Q1\" QT=0.043s",
            prefix
                + "-> carol@example.test F=<alice@sender.test> R=dnslookup T=remote_smtp S=416 H=mx.example.test [192.0.2.10]:25 I=[203.0.113.25]:57309 L C=\"250 2.0.0 Ok: queued as S2Q1\" QT=0.043s",
        ])
        #expect(log.attempts.map(\.family) == [.ipv6, .ipv4])
        #expect(log.attempts.map(\.result) == [.tempfailed, .accepted])
        #expect(log.attempts[0].stage == .rcpt)
        #expect(log.attempts[0].reply?.code == 450)
        #expect(log.attempts[1].reply?.text == "Ok: queued as S2Q1")
        #expect(log.status(of: "carol@example.test")?.attemptIndex == 1)
    }

    @Test func unreachableThenDeferred() {
        let log = EximDeliveryLog(lines: [
            prefix + "H=mx.example.test [2001:db8::10]:25 Network is unreachable",
            prefix + "== bob@example.test R=dnslookup T=remote_smtp defer (101): Network is unreachable DT=0.000s",
        ])
        #expect(log.attempts.map(\.result) == [.unreachable])
        #expect(log.status(of: "bob@example.test")?.outcome == .deferred)
        #expect(log.status(of: "bob@example.test")?.attemptIndex == 0)
    }

    @Test func aLookupThatDidNotCompleteIsPostfixsNameServiceError() {
        // The recipient domain's MX answer bogus behind a validating resolver (Exim 4.96, seen here).
        let log = EximDeliveryLog(lines: [
            prefix + "== bob@example.test R=dnslookup defer (-1) DT=0.000s: host lookup did not complete"
        ])
        #expect(log.attempts.isEmpty)
        let status = log.status(of: "bob@example.test")
        #expect(status?.outcome == .deferred)
        #expect(status?.dsn == "4.4.3")
        #expect(
            status?.text
                == "Host or domain name not found (R=dnslookup defer (-1) DT=0.000s: host lookup did not complete)")
        #expect(status?.attemptIndex == nil)
    }

    @Test func theBounceEximSendsAtOnceIsNotTheCasesDelivery() {
        // -odi: the refused message's bounce (another id, `<= <> R=ID`) is delivered in the same run,
        // here to the envelope sender's own MX, which refuses connections (seen on a rspamd reject).
        let log = EximDeliveryLog(lines: [
            "2026-12-07 19:24:29.327 [23323] 1xaeK5-00064B-12 <= alice@sender.test U=root P=local S=402 for bob@example.test",
            "2026-12-07 19:24:29.335 [23324] exim user lost privilege for using -C option",
            "2026-12-07 19:24:29.654 [23324] 1xaeK5-00064B-12 ** bob@example.test F=<alice@sender.test> R=dnslookup T=remote_smtp H=mx.example.test [2001:db8::10]:25 I=[2001:db8:5::25]:34205: SMTP error from remote mail server after end of data: 554 5.7.1 Spam message rejected",
            "2026-12-07 19:24:29.667 [23332] 1xaeK5-00064K-28 <= <> R=1xaeK5-00064B-12 U=Debian-exim P=local S=1860 for alice@sender.test",
            "2026-12-07 19:24:29.682 [23335] 1xaeK5-00064K-28 H=mail.sender.test [2001:db8:5::25]:25 Connection refused",
            "2026-12-07 19:24:29.696 [23334] 1xaeK5-00064K-28 == alice@sender.test R=dnslookup T=remote_smtp defer (111): Connection refused DT=0.000s",
            "2026-12-07 19:24:29.751 [23324] 1xaeK5-00064B-12 Completed QT=0.427s",
        ])
        #expect(log.attempts.count == 1)
        #expect(log.attempts.first?.reply?.code == 554)
        #expect(log.attempts.first?.result == .rejected)
        #expect(log.statuses.map(\.recipient) == ["bob@example.test"])
        #expect(EximDeliveryLog.messageID(in: "2026-12-07 19:24:29.327 1xaeK5-00064B-12 <= x") == "1xaeK5-00064B-12")
        #expect(EximDeliveryLog.messageID(in: "2026-12-07 19:24:29.335 [23324] exim user lost privilege") == nil)
    }

    @Test func bounceAtRCPT() {
        let log = EximDeliveryLog(lines: [
            prefix
                + "** bob@example.test R=dnslookup T=remote_smtp H=mx.example.test [2001:db8::10]:25: SMTP error from remote mail server after RCPT TO:<bob@example.test>: 550 5.7.25 no PTR"
        ])
        #expect(log.attempts.count == 1)
        #expect(log.attempts[0].result == .rejected)
        #expect(log.attempts[0].reply?.enhanced == "5.7.25")
        #expect(log.status(of: "bob@example.test")?.outcome == .bounced)
    }

    @Test func configurationBindsTheSenderAndIgnoresAFamilyItLacks() {
        let request = DeliveryRequest(
            sources: [.ipv6: IPAddress("2001:db8:5::25")!], helo: "mail.sender.test", mailFrom: "alice@sender.test",
            recipients: ["bob@example.test"], message: [])
        let text = EximSendingMTA.configuration(request, options: ["hosts_max_try": "10"], root: "/case/exim-sender")
        #expect(text.contains("interface = <; 2001:db8:5::25"))
        #expect(text.contains("ignore_target_hosts = <; 0.0.0.0 ; 127.0.0.0/8 ; ::1 ; 0.0.0.0/0"))
        #expect(text.contains("  hosts_max_try = 10"))
        #expect(text.contains("helo_data = mail.sender.test"))
    }

    /// route_list is split at semicolons before its items are read: a `<;` host list left `"<`
    /// as the only host and every relay case deferred ("lookup failed for all hosts").
    @Test func theRelayRouteHasNoSemicolonInsideItsItem() throws {
        func router(_ host: String) throws -> String {
            let request = DeliveryRequest(
                sources: [.ipv4: IPAddress("203.0.113.25")!, .ipv6: IPAddress("2001:db8:5::25")!],
                helo: "mail.sender.test", mailFrom: "alice@sender.test", recipients: ["bob@example.test"],
                relay: .host(host), message: [])
            let text = EximSendingMTA.configuration(request, options: [:], root: "/case/exim-sender")
            let line = try #require(text.split(separator: "\n").first { $0.contains("route_list") })
            return String(line.trimmingCharacters(in: .whitespaces))
        }
        #expect(try router("relay.example.test") == #"route_list = * "<, relay.example.test" byname"#)
        #expect(try router("[2001:db8::10]") == #"route_list = * "<, 2001:db8::10" byname"#)
        #expect(try router("[192.0.2.10]") == #"route_list = * "<, 192.0.2.10" byname"#)
    }
}
