import DNSCore
import Logging
import Postfix
import Testing

/// A real sender made for a case resolves with the run's DNS timeout (`--dns-timeout`), rounded
/// up to whole seconds as glibc counts them.
struct PostfixSendingMTATests {
    let address = IPAddress("2001:db8::53")!

    @Test func thePostfixSenderTakesTheRunsDNSTimeout() {
        let mta = PostfixSendingMTA(
            namespaceName: "mxh-0-0-case", caseDirectory: "/nonexistent", resolverAddress: address,
            dnsTimeout: .milliseconds(2500),
            logger: Logger(label: "test"))
        #expect(mta.resolvConf.text == "nameserver 2001:db8::53\nsearch .\noptions timeout:3 attempts:1 trust-ad\n")
    }

    /// A bounced message's non-delivery notice goes out at once (bounce(8)); its tries are not
    /// attempts of the case: the report reads the log up to the case's last status line.
    @Test func theNoticeOfABounceIsNotAnAttemptOfTheCase() {
        let prefix = "Dec  7 10:00:00 mail postfix/"
        let lines = [
            prefix + "smtp[101]: 4AB12C: to=<bob@example.test>, relay=mx.example.test[2001:db8::10]:25, delay=0.2, "
                + "delays=0.1/0/0/0.1, dsn=5.7.1, status=bounced (host mx.example.test[2001:db8::10] said: 554 "
                + "5.7.1 Spam message rejected (in reply to end of DATA command))",
            prefix + "cleanup[102]: 5CD34E: message-id=<20261207100000.5CD34E@mail.sender.test>",
            prefix + "bounce[103]: 4AB12C: sender non-delivery notification: 5CD34E",
            prefix + "smtp[101]: connect to mail.sender.test[2001:db8:5::25]:25: Network is unreachable",
            prefix + "smtp[101]: 5CD34E: to=<alice@sender.test>, relay=none, delay=0, delays=0/0/0/0, dsn=4.4.1, "
                + "status=deferred (connect to mail.sender.test[2001:db8:5::25]:25: Network is unreachable)",
        ]
        let whole = PostfixDeliveryLog(lines: lines)
        #expect(whole.attempts.count == 2, "the notice's try reads as an attempt in the whole log")
        let kept = PostfixSendingMTA.linesOfTheMessage(lines, recipients: ["Bob@example.test"])
        #expect(kept.count == 1)
        let log = PostfixDeliveryLog(lines: kept)
        #expect(log.attempts.count == 1)
        #expect(log.attempts.first?.reply?.code == 554)
        #expect(PostfixSendingMTA.linesOfTheMessage(lines, recipients: ["carol@example.test"]) == lines)
    }
}
