import DNSCore
import Foundation
import Policy
@testable import Postfix
import Testing

/// A site's configuration directory made into a case's instance configuration: master.cf,
/// main.cf layers, what is reported as overridden, sharing, references and the preflight's reading.
struct SiteConfigurationTests {
    /// docker-mailserver's master.cf, shortened: postscreen on port 25, its pass smtpd, submission.
    static let postscreenMaster = """
        # comment
        smtp      inet  n       -       y       -       1       postscreen
        smtpd     pass  -       -       y       -       -       smtpd
        dnsblog   unix  -       -       y       -       0       dnsblog
        submission inet n       -       y       -       -       smtpd
          -o syslog_name=postfix/submission
          -o smtpd_sasl_auth_enable=yes
        pickup    fifo  n       -       y       60      1       pickup
        """

    static func site(main: String, master: String? = postscreenMaster, files: [String: String] = [:]) throws
        -> PostfixSiteDirectory
    {
        PostfixSiteDirectory(
            path: "/site", mainCF: try MainCF.parse(main, source: "/site/main.cf"), masterCF: master,
            files: files.mapValues { PostfixSiteDirectory.File(contents: Data($0.utf8), mode: 0o644) })
    }

    static func configuration(_ site: PostfixSiteDirectory, policy: ReceiverPolicy = .open) -> PostfixConfiguration {
        PostfixConfiguration(
            hostname: "mx.example.test", addresses: [IPAddress("192.0.2.10")!], domains: ["example.test"],
            policy: policy, site: site)
    }

    @Test func postscreenStaysOnPort25WithItsPassSmtpdServingOneConnectionAndOtherListenersGo() throws {
        let master = SiteMasterCF.render(Self.postscreenMaster)
        #expect(master.runsPostscreen)
        #expect(master.smtpLine == 2)
        #expect(master.dropped == ["master.cf:5: submission inet (smtpd)"])
        let lines = master.text.split(separator: "\n").map(String.init)
        #expect(lines.contains("smtp      inet  n       -       n       -       1       postscreen"))
        let pass = try #require(lines.firstIndex(of: "smtpd     pass  -       -       n       -       -       smtpd"))
        #expect(lines.indices.contains(pass + 1) && lines[pass + 1] == "  -o max_use=1")
        #expect(!master.text.contains("submission") && !master.text.contains("smtpd_sasl_auth_enable"))
        #expect(
            lines.contains("pickup    fifo  n       -       n       60      1       pickup"), "chroot off everywhere")
    }

    @Test func aPlainSmtpdOnPort25GetsTheOverrideAfterTheSitesOwnOptions() {
        let master = SiteMasterCF.render(
            """
            0.0.0.0:25 inet n - n - - smtpd
              -o max_use=100
              -o smtpd_helo_required=yes
            qmgr unix n - n 300 1 qmgr
            """)
        #expect(!master.runsPostscreen)
        let lines = master.text.split(separator: "\n").map(String.init)
        #expect(
            Array(lines[1...4]) == [
                "0.0.0.0:25 inet n - n - - smtpd", "  -o max_use=100", "  -o smtpd_helo_required=yes", "  -o max_use=1",
            ])
    }

    /// A site's `-o smtpd_authorized_xclient_hosts` would beat the case's `receiver.xclient_hosts`
    /// (main.cf): the case's hosts follow the site's own options, on the port-25 smtpd and on
    /// postscreen's `pass` smtpd alike.
    @Test func theCasesXCLIENTHostsFollowASitesOwnOption() throws {
        let hosts = [try #require(IPAddress("198.51.100.7")), try #require(IPAddress("2001:db8:7::7"))]
        let plain = SiteMasterCF.render(
            """
            smtp inet n - n - - smtpd
              -o smtpd_authorized_xclient_hosts=192.0.2.99
            """, identity: PostfixIdentity(xclientHosts: hosts))
        #expect(
            plain.text.split(separator: "\n").map(String.init).suffix(3) == [
                "  -o smtpd_authorized_xclient_hosts=192.0.2.99",
                "  -o max_use=1",
                "  -o smtpd_authorized_xclient_hosts=198.51.100.7,[2001:db8:7::7]",
            ])
        let screened = SiteMasterCF.render(Self.postscreenMaster, identity: PostfixIdentity(xclientHosts: hosts))
        let lines = screened.text.split(separator: "\n").map(String.init)
        let pass = try #require(lines.firstIndex(of: "smtpd     pass  -       -       n       -       -       smtpd"))
        #expect(
            lines[(pass + 1)...].prefix(2) == [
                "  -o max_use=1", "  -o smtpd_authorized_xclient_hosts=198.51.100.7,[2001:db8:7::7]",
            ])
        #expect(
            !SiteMasterCF.render(Self.postscreenMaster).text.contains("xclient"), "nothing when the case names no hosts"
        )
    }

    @Test func theSitesMainCFIsTheBaseAndWhatTheHarnessOwnsIsReportedWithItsLine() throws {
        let site = try Self.site(
            main: """
                biff = no
                inet_interfaces = all
                daemon_directory = /usr/libexec/postfix
                smtpd_helo_required = yes
                """)
        let rendered = try Self.configuration(site).render(paths: PostfixPaths(under: "/case/postfix"))
        #expect(rendered.parameters["smtpd_helo_required"] == "yes")
        #expect(rendered.parameters["inet_interfaces"] == "192.0.2.10")
        #expect(rendered.parameters["daemon_directory"] == nil, "this machine's installation path applies")
        #expect(rendered.overridden.contains("inet_interfaces (/site/main.cf:2)"))
        #expect(rendered.overridden.contains("daemon_directory (/site/main.cf:3)"))
        #expect(
            rendered.overridden.contains(
                "/site/master.cf:5: submission inet (smtpd) not started (the harness listens on port 25 only)"))
        #expect(rendered.runsPostscreen)
        #expect(rendered.masterCF(stock: "unused") == SiteMasterCF.render(Self.postscreenMaster).text)
    }

    @Test func aMasterCFWithoutPort25AndAnUnreadableFolderAreErrors() throws {
        let noSmtp = try Self.site(main: "biff = no\n", master: "pickup fifo n - n 60 1 pickup\n")
        #expect(throws: PostfixConfigurationError.self) {
            try Self.configuration(noSmtp).render(paths: PostfixPaths(under: "/c"))
        }
        let missing = PostfixSiteDirectory.load(path: "/nonexistent-mxh-site")
        #expect(missing.problem?.contains("main.cf cannot be read") == true)
        #expect(throws: PostfixConfigurationError.self) {
            try Self.configuration(missing).render(paths: PostfixPaths(under: "/c"))
        }
    }

    @Test func postscreenIsNotSharedAndSiteFilesAreInTheKey() throws {
        let screened = Self.configuration(try Self.site(main: "biff = no\n"))
        #expect(screened.sharingKey == nil)
        #expect(screened.sharingRefusal?.contains("postscreen") == true)
        let plain = "25 inet n - n - - smtpd\n"
        let a = Self.configuration(
            try Self.site(main: "biff = no\n", master: plain, files: ["virtual": "a@example.test b@example.test\n"]))
        let b = Self.configuration(
            try Self.site(main: "biff = no\n", master: plain, files: ["virtual": "a@example.test c@example.test\n"]))
        let keyA = try #require(a.sharingKey)
        #expect(b.sharingKey != nil && b.sharingKey != keyA, "a changed table is another instance")
        #expect(a.sharingKey == keyA)
    }

    @Test func loadingAFolderKeepsItsFilesButNotCompiledTables() throws {
        let root = NSTemporaryDirectory() + "/mxh-test-site-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root + "/maps", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try "biff = no\nvirtual_alias_maps = hash:/etc/postfix/virtual\n".write(
            toFile: root + "/main.cf", atomically: true, encoding: .utf8)
        try "25 inet n - n - - smtpd\n".write(toFile: root + "/master.cf", atomically: true, encoding: .utf8)
        try "a@example.test b@example.test\n".write(toFile: root + "/virtual", atomically: true, encoding: .utf8)
        try "stale".write(toFile: root + "/virtual.db", atomically: true, encoding: .utf8)
        try "/x/ REJECT\n".write(toFile: root + "/maps/checks.pcre", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(
            atPath: root + "/maps/linked.pcre", withDestinationPath: root + "/maps/checks.pcre")
        let site = PostfixSiteDirectory.load(path: root)
        #expect(site.problem == nil)
        #expect(Set(site.files.keys) == ["virtual", "maps/checks.pcre", "maps/linked.pcre"])
        #expect(
            site.files["maps/linked.pcre"]?.contents == Data("/x/ REJECT\n".utf8),
            "a link is copied as the file it names")
        #expect(site.masterCF == "25 inet n - n - - smtpd\n")
        #expect(site.mainCF.lines["virtual_alias_maps"] == 2)
        #expect(site.location(of: "virtual_alias_maps") == (root as NSString).standardizingPath + "/main.cf:2")
    }

    @Test func referencesAreFoundBehindProxyInListsAndInMasterOptions() {
        let found = PostfixReferences.scan([
            ("virtual_alias_maps", "proxy:hash:/etc/postfix/virtual, texthash:/etc/postfix/more"),
            (
                "smtpd_recipient_restrictions",
                "check_recipient_access pcre:/etc/postfix/maps/r.pcre, check_policy_service inet:127.0.0.1:10023, permit"
            ),
            ("virtual_mailbox_domains", "/etc/postfix/vhost, example.test"),
            ("smtpd_milters", "unix:/run/opendkim.sock"),
            ("relay_domains", "mysql:/etc/postfix/sql/relay.cf"),
            ("smtpd_tls_session_cache_database", "btree:${data_directory}/smtpd_scache"),
            ("virtual_transport", "lmtp:unix:/var/run/dovecot/lmtp"),
            ("local_recipient_maps", "proxy:unix:passwd.byname $alias_maps"),
        ])
        #expect(
            found.map { "\($0.parameter) \($0.kind) \($0.path)" } == [
                "virtual_alias_maps indexedTable(type: \"hash\") /etc/postfix/virtual",
                "virtual_alias_maps fileTable(type: \"texthash\") /etc/postfix/more",
                "smtpd_recipient_restrictions fileTable(type: \"pcre\") /etc/postfix/maps/r.pcre",
                "smtpd_recipient_restrictions endpoint(type: \"inet\") 127.0.0.1:10023",
                "virtual_mailbox_domains file /etc/postfix/vhost",
                "smtpd_milters endpoint(type: \"unix\") /run/opendkim.sock",
                "relay_domains serverTable(type: \"mysql\") /etc/postfix/sql/relay.cf",
            ])
        #expect(
            PostfixReferences.masterOptions(
                "smtp inet n - n - - smtpd\n  -o smtpd_sasl_auth_enable=yes\n#  -o commented=out\n  -o a=b=c\n"
            ).map { "\($0.name)=\($0.value)" }
                == ["smtpd_sasl_auth_enable=yes", "a=b=c"])
    }

    @Test func thePreflightReadsMissingTablesAndSealedWorldSettingsWithTheirLines() throws {
        let site = try Self.site(
            main: """
                virtual_alias_maps = hash:/etc/postfix/virtual
                header_checks = pcre:/etc/postfix/header_checks.pcre
                relayhost = [smtp.example.net]:587
                smtpd_milters = inet:127.0.0.1:8891
                smtpd_sasl_auth_enable = yes
                smtpd_sasl_type = dovecot
                smtpd_sasl_path = private/auth
                relay_domains = mysql:/etc/postfix/relay.cf
                alias_maps = hash:/etc/aliases-mxh-none
                smtpd_tls_cert_file = /etc/postfix/cert.pem
                smtpd_recipient_restrictions = check_policy_service unix:private/policyd, permit
                """, master: "25 inet n - n - - smtpd\n", files: ["virtual": "a@example.test b\n"])
        let rendered = try Self.configuration(site).render(paths: PostfixPaths(under: "/case/postfix"))
        let present: Set<String> = ["/etc/postfix/virtual"]
        let check = ReferenceCheck(
            rendered: rendered, mainLocation: { site.location(of: $0) }, availableTypes: ["hash", "pcre", "texthash"],
            exists: { present.contains($0) })
        let findings = check.findings()
        func finding(_ line: Int) -> [PostfixPreflightReport.Finding] {
            findings.filter { $0.location == "/site/main.cf:\(line)" }
        }
        #expect(finding(1).isEmpty, "the table's source is in the folder: \(finding(1))")
        #expect(finding(2).map(\.severity) == [.error])
        #expect(finding(2).first?.message.contains("/etc/postfix/header_checks.pcre, which does not exist") == true)
        #expect(finding(3).map(\.severity) == [.warning])
        #expect(finding(4).map(\.severity) == [.error], "milter_default_action is tempfail by default")
        #expect(finding(5).map(\.severity) == [.error])
        #expect(finding(5).first?.message.contains("no SASL authentication mechanisms") == true)
        #expect(finding(8).first?.message.contains("table type mysql is not available") == true)
        #expect(finding(9).map(\.severity) == [.warning], "only local delivery reads alias_maps")
        #expect(finding(10).map(\.severity) == [.warning], "without its certificate smtpd serves without TLS")
        #expect(finding(11).map(\.severity) == [.error])
        #expect(finding(11).first?.message.contains("policy service") == true)
        let report = PostfixPreflightReport(source: "/site", findings: findings, overridden: rendered.overridden)
        #expect(!report.canServeMail)
        #expect(report.text.hasPrefix("Postfix preflight of /site: 5 error(s), 3 warning(s)\n"), "\(report.text)")
    }
    /// A case whose policy checks DKIM brings the harness's own milters (they run in the case's
    /// namespace): the preflight of the site's configuration does not take them for the site's.
    @Test func theHarnessMiltersOfADKIMPolicyAreNoFindingOfTheSite() throws {
        let site = try Self.site(main: "myhostname = mx.example.test\n", master: "25 inet n - n - - smtpd\n")
        let rendered = try Self.configuration(site, policy: ReceiverPolicy(ipv4: [.dkim], rejectAt: .data)).render(
            paths: PostfixPaths(under: "/case/postfix"))
        #expect(rendered.parameters["smtpd_milters"] != nil, "the policy's milters are in the rendered main.cf")
        let check = ReferenceCheck(
            rendered: rendered, mainLocation: { site.location(of: $0) }, availableTypes: nil, exists: { _ in false })
        #expect(!check.findings().contains { $0.message.contains("smtpd_milters") }, "\(check.findings())")
    }
}
