import DNSCore
import Exim
import Logging
import Testing

/// A real sender made for a case resolves with the run's DNS timeout (`--dns-timeout`), rounded
/// up to whole seconds as glibc counts them.
struct EximSendingMTATests {
    let address = IPAddress("2001:db8::53")!

    @Test func theEximSenderTakesTheRunsDNSTimeout() {
        let mta = EximSendingMTA(
            namespaceName: "mxh-0-0-case", caseDirectory: "/nonexistent", resolverAddress: address,
            dnsTimeout: .milliseconds(2500),
            logger: Logger(label: "test"))
        #expect(mta.resolvConf.text == "nameserver 2001:db8::53\nsearch .\noptions timeout:3 attempts:1 trust-ad\n")
    }
}
