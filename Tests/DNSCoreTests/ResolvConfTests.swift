import DNSCore
import Testing

/// The resolv.conf a real MTA reads: the run's resolver timeout in whole seconds, rounded up and
/// one at least (glibc waits whole seconds, never below one).
struct ResolvConfTests {
    @Test(arguments: [
        (Duration.milliseconds(1), 1), (.milliseconds(500), 1), (.seconds(1), 1), (.milliseconds(1001), 2),
        (.milliseconds(1500), 2),
        (.seconds(2), 2), (.seconds(20), 20), (.zero, 1),
    ])
    func aTimeoutBecomesWholeSecondsRoundedUpAndOneAtLeast(timeout: Duration, seconds: Int) {
        #expect(ResolvConf.timeoutSeconds(for: timeout) == seconds)
    }

    @Test func theFileNamesTheWorldsUnboundAndTheWait() throws {
        let address = try #require(IPAddress("2001:db8::53"))
        #expect(
            ResolvConf(nameserver: address, timeout: .milliseconds(2500)).text
                == "nameserver 2001:db8::53\nsearch .\noptions timeout:3 attempts:1 trust-ad\n")
        #expect(
            ResolvConf(nameserver: "127.0.0.1", timeoutSeconds: 2, attempts: 2).text
                == "nameserver 127.0.0.1\nsearch .\noptions timeout:2 attempts:2 trust-ad\n")
    }
}
