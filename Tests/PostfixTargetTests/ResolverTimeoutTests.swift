import PostfixTarget
import Testing

/// resolv.conf's `timeout:` from the run's resolver timeout: glibc counts whole seconds and waits
/// one at least.
struct ResolverTimeoutTests {
    @Test(arguments: [
        (Duration.milliseconds(1), 1), (.milliseconds(500), 1), (.seconds(1), 1), (.milliseconds(1001), 2), (.milliseconds(1500), 2),
        (.seconds(2), 2), (.seconds(20), 20), (.zero, 1),
    ])
    func aTimeoutBecomesWholeSecondsRoundedUpAndOneAtLeast(timeout: Duration, seconds: Int) {
        #expect(PostfixInstance.Options.dnsTimeoutSeconds(for: timeout) == seconds)
    }

    @Test func theDefaultWaitsOneSecond() {
        #expect(PostfixInstance.Options().dnsTimeoutSeconds == 1)
    }
}
