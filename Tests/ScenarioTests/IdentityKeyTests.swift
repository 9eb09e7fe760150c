import DNSCore
import Foundation
import Scenario
import Testing

/// `sender.identity`, `sender.proxy_address`, `sender.xclient_name`, `receiver.proxy_protocol`,
/// `receiver.xclient_hosts`: what they load into, and their errors with file:line:column and key.
@Suite struct IdentityKeyTests {
    /// minimalWorld with `sender` lines added at its end (line 11 on) and `receiver` lines after
    /// its addresses (line 6 on, moving the sender's lines down).
    func yaml(sender: String, receiver: String = "") -> String {
        minimalWorld.replacingOccurrences(
            of: "  addresses: [192.0.2.10]\n", with: "  addresses: [192.0.2.10]\n" + receiver)
            + "\n" + sender + "expect: {outcome: delivered}\n"
    }

    func load(sender: String, receiver: String = "") throws -> ScenarioCase {
        try #require(
            try ScenarioLoader().load(yaml: yaml(sender: sender, receiver: receiver), file: "Scenarios/rdns.yaml").first
        )
    }

    @Test func defaultsAreADirectConnection() throws {
        let c = try load(sender: "")
        #expect(c.sender.identity == .socket)
        #expect(c.sender.proxyAddresses.isEmpty)
        #expect(c.sender.xclientName == nil)
        #expect(c.receiver.proxyProtocol == nil)
        #expect(c.receiver.xclientHosts.isEmpty)
    }

    @Test func everyPathLoads() throws {
        #expect(IdentityPath.allCases.map(\.rawValue) == ["socket", "proxy-v1", "proxy-v2", "xclient"])
        for path in IdentityPath.allCases where path.usesProxy {
            let c = try load(sender: "  identity: \(path.rawValue)\n  proxy_address: 203.0.113.5\n")
            #expect(c.sender.identity == path)
            #expect(c.sender.proxyAddresses == [.ipv4: IPAddress("203.0.113.5")!])
        }
        let c = try load(
            sender: "  identity: xclient\n  proxy_address: [203.0.113.5]\n  xclient_name: mail.sender.test\n",
            receiver: "  proxy_protocol: haproxy\n  xclient_hosts: [203.0.113.5, \"2001:db8:7::5\"]\n")
        #expect(c.sender.xclientName == "mail.sender.test")
        #expect(c.receiver.proxyProtocol == .haproxy)
        #expect(c.receiver.xclientHosts == [IPAddress("203.0.113.5")!, IPAddress("2001:db8:7::5")!])
        #expect(
            try load(sender: "  identity: xclient\n  proxy_address: 203.0.113.5\n  xclient_name: \"[unavailable]\"\n")
                .sender.xclientName == "[UNAVAILABLE]")
        #expect(
            try load(sender: "  identity: xclient\n  proxy_address: 203.0.113.5\n  xclient_name: \"[TEMPUNAVAIL]\"\n")
                .sender.xclientName == "[TEMPUNAVAIL]")
        #expect(
            try load(sender: "", receiver: "  xclient_hosts: 203.0.113.5\n").receiver.xclientHosts == [
                IPAddress("203.0.113.5")!
            ])
    }

    @Test func aDualStackSenderNeedsAProxyAddressPerFamily() throws {
        let dual = minimalWorld.replacingOccurrences(
            of: "{ipv4: 198.51.100.25}", with: "{ipv4: 198.51.100.25, ipv6: \"2001:db8:5::25\"}")
        let good =
            dual
            + "\n  identity: proxy-v2\n  proxy_address: [203.0.113.5, \"2001:db8:7::5\"]\nexpect: {outcome: delivered}\n"
        let c = try #require(try ScenarioLoader().load(yaml: good, file: "Scenarios/rdns.yaml").first)
        #expect(c.sender.proxyAddresses == [.ipv4: IPAddress("203.0.113.5")!, .ipv6: IPAddress("2001:db8:7::5")!])
        let bad = dual + "\n  identity: proxy-v2\n  proxy_address: 203.0.113.5\nexpect: {outcome: delivered}\n"
        #expect(
            loadErrors(yaml: bad) == [
                "Scenarios/rdns.yaml:12:18: sender.proxy_address: the sender has an IPv6 address, so the proxy needs one too: it connects to the receiver in the family of the sender's attempt"
            ])
    }

    @Test func errorsNameTheFileLineColumnAndKey() {
        #expect(
            loadErrors(yaml: yaml(sender: "  identity: proxy\n")) == [
                "Scenarios/rdns.yaml:11:13: sender.identity: unknown identity path \"proxy\" (known: socket, proxy-v1, proxy-v2, xclient)"
            ])
        #expect(
            loadErrors(yaml: yaml(sender: "  identity: proxy-v2\n")) == [
                "Scenarios/rdns.yaml:11:13: sender.proxy_address: identity proxy-v2 connects from a proxy: give sender.proxy_address (the proxy's address, one per family the sender has)"
            ])
        #expect(
            loadErrors(yaml: yaml(sender: "  identity: proxy-v1\n  proxy_address: 198.51.100.25\n")) == [
                "Scenarios/rdns.yaml:12:18: sender.proxy_address: 198.51.100.25 is also the sender's address: the proxy needs an address of its own"
            ])
        #expect(
            loadErrors(yaml: yaml(sender: "  identity: proxy-v1\n  proxy_address: 192.0.2.10\n")) == [
                "Scenarios/rdns.yaml:12:18: sender.proxy_address: 192.0.2.10 is also a receiver address: the proxy needs an address of its own"
            ])
        #expect(
            loadErrors(yaml: yaml(sender: "  identity: xclient\n  proxy_address: \"2001:db8:7::5\"\n")) == [
                "Scenarios/rdns.yaml:12:18: sender.proxy_address: the sender has an IPv4 address, so the proxy needs one too: it connects to the receiver in the family of the sender's attempt",
                "Scenarios/rdns.yaml:12:18: sender.proxy_address: 2001:db8:7::5 is an IPv6 address, but the sender has none: the proxy only connects in the sender's families",
            ])
        #expect(
            loadErrors(yaml: yaml(sender: "  identity: xclient\n  proxy_address: [203.0.113.5, 203.0.113.6]\n")) == [
                "Scenarios/rdns.yaml:12:18: sender.proxy_address: 203.0.113.5 and 203.0.113.6 are both IPv4: give the proxy at most one address per family"
            ])
        #expect(
            loadErrors(yaml: yaml(sender: "  identity: xclient\n  proxy_address: 203.0.113.5/32\n")) == [
                "Scenarios/rdns.yaml:12:18: sender.proxy_address: \"203.0.113.5/32\" is not an IP address (IPv4 dotted quad such as 192.0.2.10, or IPv6 such as 2001:db8::10); write the address alone, without brackets or prefix length"
            ])
        #expect(
            loadErrors(
                yaml: yaml(
                    sender: "  identity: proxy-v2\n  proxy_address: 203.0.113.5\n  xclient_name: mail.sender.test\n"))
                == [
                    "Scenarios/rdns.yaml:13:17: sender.xclient_name: xclient_name is sent only with identity: xclient (identity is proxy-v2)"
                ])
        #expect(
            loadErrors(
                yaml: yaml(
                    sender: "  identity: xclient\n  proxy_address: 203.0.113.5\n  xclient_name: \"not a name\"\n")) == [
                    "Scenarios/rdns.yaml:13:17: sender.xclient_name: \"not a name\" is not a host name, [UNAVAILABLE] or [TEMPUNAVAIL] (write the special values in brackets, quoted)"
                ])
        #expect(
            loadErrors(yaml: yaml(sender: "", receiver: "  proxy_protocol: proxy-v2\n")) == [
                "Scenarios/rdns.yaml:6:19: receiver.proxy_protocol: unknown proxy protocol \"proxy-v2\" (known: haproxy)"
            ])
        #expect(
            loadErrors(yaml: yaml(sender: "", receiver: "  xclient_hosts: [203.0.113.0/24]\n")) == [
                "Scenarios/rdns.yaml:6:19: receiver.xclient_hosts[0]: \"203.0.113.0/24\" is not an IP address (IPv4 dotted quad such as 192.0.2.10, or IPv6 such as 2001:db8::10); write the address alone, without brackets or prefix length"
            ])
    }

    @Test func aProxyAddressWithoutAProxyPathIsKeptButUnused() throws {
        // A profile may give proxy_address for variants that switch identity; socket ignores it.
        let c = try load(sender: "  proxy_address: 198.51.100.25\n")
        #expect(c.sender.identity == .socket)
    }

    @Test func explainRoundTripsTheIdentityKeys() throws {
        let original = try load(
            sender: "  identity: xclient\n  proxy_address: 203.0.113.5\n  xclient_name: \"[TEMPUNAVAIL]\"\n",
            receiver: "  proxy_protocol: haproxy\n  xclient_hosts: [203.0.113.5]\n")
        let again = try #require(try ScenarioLoader().load(yaml: explain(original), file: "again.yaml").first)
        #expect(again.sender.identity == .xclient)
        #expect(again.sender.proxyAddresses == original.sender.proxyAddresses)
        #expect(again.sender.xclientName == "[TEMPUNAVAIL]")
        #expect(again.receiver.proxyProtocol == .haproxy)
        #expect(again.receiver.xclientHosts == original.receiver.xclientHosts)
    }
}
