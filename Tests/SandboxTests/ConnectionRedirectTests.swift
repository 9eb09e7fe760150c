import DNSCore
import Sandbox
import Testing

/// The nftables redirect a proxy part sets up, as rendered (nft does not run here).
struct ConnectionRedirectTests {
    static let v4 = IPAddress("192.0.2.10")!
    static let v6 = IPAddress("2001:db8::10")!

    @Test func theRedirectSendsOnlyTheSendersConnectionsToPort25ToTheFrontend() {
        let redirect = ConnectionRedirect(
            senders: [IPAddress("203.0.113.25")!, IPAddress("2001:db8:5::25")!], receivers: [Self.v4, Self.v6],
            frontPort: 62525)
        #expect(
            redirect.script == """
                table inet mxharness_proxy
                delete table inet mxharness_proxy
                table inet mxharness_proxy {
                    chain output {
                        type nat hook output priority -100; policy accept;
                        ip saddr { 203.0.113.25 } ip daddr 192.0.2.10 tcp dport 25 dnat ip to 192.0.2.10:62525
                        ip6 saddr { 2001:db8:5::25 } ip6 daddr 2001:db8::10 tcp dport 25 dnat ip6 to [2001:db8::10]:62525
                    }
                }

                """)
    }

    @Test func aReceiverAddressOfAFamilyTheSenderLacksIsNotRedirected() {
        let redirect = ConnectionRedirect(
            senders: [IPAddress("203.0.113.25")!], receivers: [Self.v4, Self.v6], frontPort: 62525)
        #expect(!redirect.script.contains("ip6 saddr"))
        #expect(redirect.script.contains("ip daddr 192.0.2.10"))
    }
}
