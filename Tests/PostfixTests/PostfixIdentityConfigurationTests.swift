import DNSCore
import Policy
@testable import Postfix
import Testing

/// `receiver.proxy_protocol` and `receiver.xclient_hosts` in the instance's master.cf and main.cf,
/// with the harness's master.cf and with a site's (smtpd or postscreen on port 25).
struct PostfixIdentityConfigurationTests {
    static let lb4 = IPAddress("203.0.113.7")!
    static let lb6 = IPAddress("2001:db8:7::7")!

    static func configuration(
        _ identity: PostfixIdentity, site: PostfixSiteDirectory? = nil, settings: [String: String] = [:]
    ) -> PostfixConfiguration {
        PostfixConfiguration(
            hostname: "mx.example.test", addresses: [IPAddress("192.0.2.10")!], domains: ["example.test"],
            policy: Preset.fcrdns.policy,
            settings: settings, site: site, identity: identity)
    }

    static func render(_ configuration: PostfixConfiguration) throws -> RenderedPostfixConfiguration {
        try configuration.render(paths: PostfixPaths(under: "/case"))
    }

    /// The `-o` lines right after the entry that starts with `entry`.
    static func options(after entry: String, in master: String) -> [String] {
        let lines = master.split(separator: "\n").map(String.init)
        guard let index = lines.firstIndex(where: { $0.hasPrefix(entry) }) else { return [] }
        return Array(lines[(index + 1)...].prefix { $0.hasPrefix(" ") || $0.hasPrefix("\t") }).map {
            $0.trimmingWhitespace()
        }
    }

    @Test func theProxyProtocolIsAnOptionOfThePort25Smtpd() throws {
        let rendered = try Self.render(Self.configuration(PostfixIdentity(upstreamProxyProtocol: "haproxy")))
        let master = rendered.masterCF(stock: MasterCFTests.stock)
        #expect(Self.options(after: "25 ", in: master) == ["-o max_use=1", "-o smtpd_upstream_proxy_protocol=haproxy"])
        #expect(
            rendered.parameters["smtpd_upstream_proxy_protocol"] == nil, "master.cf only: not for other smtpd services")
        let plain = try Self.render(Self.configuration(PostfixIdentity()))
        #expect(Self.options(after: "25 ", in: plain.masterCF(stock: MasterCFTests.stock)) == ["-o max_use=1"])
    }

    @Test func xclientHostsAreMainCFsAuthorizedHostsWithIPv6InBrackets() throws {
        let rendered = try Self.render(Self.configuration(PostfixIdentity(xclientHosts: [Self.lb4, Self.lb6])))
        #expect(rendered.parameters["smtpd_authorized_xclient_hosts"] == "203.0.113.7, [2001:db8:7::7]")
        #expect(rendered.mainCF.contains("smtpd_authorized_xclient_hosts = 203.0.113.7, [2001:db8:7::7]"))
        #expect(
            try Self.render(Self.configuration(PostfixIdentity())).parameters["smtpd_authorized_xclient_hosts"] == nil)
        // receiver.postfix is the scenario's last word.
        let own = try Self.render(
            Self.configuration(
                PostfixIdentity(xclientHosts: [Self.lb4]), settings: ["smtpd_authorized_xclient_hosts": "192.0.2.99"]))
        #expect(own.parameters["smtpd_authorized_xclient_hosts"] == "192.0.2.99")
    }

    @Test func aSitesPostscreenTakesTheProxyHeaderAndItsPassSmtpdDoesNot() throws {
        // smtpd behind postscreen ignores smtpd_upstream_proxy_protocol (smtpd_peer.c).
        let site = try SiteConfigurationTests.site(main: "compatibility_level = 3.6\n")
        let master = try #require(
            try Self.render(Self.configuration(PostfixIdentity(upstreamProxyProtocol: "haproxy"), site: site))
                .siteMaster)
        #expect(master.runsPostscreen)
        #expect(
            Self.options(after: "smtp      inet", in: master.text) == ["-o postscreen_upstream_proxy_protocol=haproxy"])
        #expect(Self.options(after: "smtpd     pass", in: master.text) == ["-o max_use=1"])
        #expect(!master.text.contains("smtpd_upstream_proxy_protocol"))
        let plain = try #require(try Self.render(Self.configuration(PostfixIdentity(), site: site)).siteMaster)
        #expect(Self.options(after: "smtp      inet", in: plain.text).isEmpty)
    }

    @Test func aSitesOwnSmtpdGetsTheProxyOptionAfterItsOwn() throws {
        let site = try SiteConfigurationTests.site(
            main: "compatibility_level = 3.6\n",
            master: """
                smtp inet n - n - - smtpd
                  -o smtpd_upstream_proxy_protocol=
                  -o smtpd_helo_required=yes
                qmgr unix n - n 300 1 qmgr
                """)
        let master = try #require(
            try Self.render(Self.configuration(PostfixIdentity(upstreamProxyProtocol: "haproxy"), site: site))
                .siteMaster)
        #expect(
            Self.options(after: "smtp inet", in: master.text) == [
                "-o smtpd_upstream_proxy_protocol=", "-o smtpd_helo_required=yes", "-o max_use=1",
                "-o smtpd_upstream_proxy_protocol=haproxy",
            ], "the last -o wins (master(5)), so the scenario's key overrides the site's option")
    }

    @Test func instancesWithDifferentIdentityPathsDoNotShare() throws {
        let identities = [
            PostfixIdentity(), PostfixIdentity(upstreamProxyProtocol: "haproxy"),
            PostfixIdentity(xclientHosts: [Self.lb4]),
            PostfixIdentity(xclientHosts: [Self.lb4, Self.lb6]),
            PostfixIdentity(upstreamProxyProtocol: "haproxy", xclientHosts: [Self.lb4]),
        ]
        var keys: Set<String> = []
        for identity in identities {
            let key = try #require(Self.configuration(identity).sharingKey, "\(identity)")
            #expect(!keys.contains(key), "\(identity)")
            keys.insert(key)
            #expect(Self.configuration(identity).sharingKey == key, "equal identities share")
        }
    }

    static func proxyFindings(main: String, master: String? = SiteConfigurationTests.postscreenMaster) throws
        -> [PostfixPreflightReport.Finding]
    {
        let site = try SiteConfigurationTests.site(main: main, master: master)
        let rendered = try Self.render(Self.configuration(PostfixIdentity(), site: site))
        return ReferenceCheck(
            rendered: rendered, mainLocation: { site.location(of: $0) }, availableTypes: nil, exists: { _ in true }
        ).proxyProtocol()
    }

    @Test func thePreflightSaysWhenTheSitesPort25ExpectsAProxyHeader() throws {
        // postscreen in front: its setting counts, smtpd's is ignored.
        let postscreen = try Self.proxyFindings(
            main: "postscreen_upstream_proxy_protocol = haproxy\nsmtpd_upstream_proxy_protocol = haproxy\n")
        #expect(postscreen.map(\.severity) == [.warning, .warning], "\(postscreen)")
        #expect(
            postscreen.contains {
                $0.location == "/site/main.cf:2" && $0.message.contains("smtpd behind postscreen ignores it")
            })
        #expect(
            postscreen.contains {
                $0.location == "/site/main.cf:1"
                    && $0.message.contains("only cases with sender.identity proxy-v1 or proxy-v2")
            })
        // smtpd on port 25, the setting as a master.cf option.
        let smtpd = try Self.proxyFindings(
            main: "biff = no\n", master: "smtp inet n - n - - smtpd\n  -o smtpd_upstream_proxy_protocol=haproxy\n")
        #expect(smtpd.map(\.location) == ["master.cf (-o smtpd_upstream_proxy_protocol=haproxy)"], "\(smtpd)")
        let unknown = try Self.proxyFindings(
            main: "smtpd_upstream_proxy_protocol = nginx\n", master: "smtp inet n - n - - smtpd\n")
        #expect(unknown.map(\.severity) == [.error], "\(unknown)")
        #expect(try Self.proxyFindings(main: "biff = no\n").isEmpty)
    }
}
