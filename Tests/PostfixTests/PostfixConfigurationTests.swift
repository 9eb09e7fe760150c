import Foundation
import DNSCore
import Policy
@testable import Postfix
import Scenario
import Testing

private let paths = PostfixPaths(under: "/tmp/mxh-1-1-case/postfix")
private let v4 = IPAddress("192.0.2.10")!
private let v6 = IPAddress("2001:db8::10")!

private func configuration(_ policy: ReceiverPolicy = .open, settings: [String: String] = [:], base: MainCF? = nil)
    -> PostfixConfiguration
{
    PostfixConfiguration(
        hostname: "mx.example.test", addresses: [v4, v6], domains: ["example.test"], policy: policy, settings: settings,
        base: base)
}

private func render(_ configuration: PostfixConfiguration) throws(PostfixConfigurationError)
    -> RenderedPostfixConfiguration
{
    try configuration.render(paths: paths)
}

struct PostfixConfigurationTests {
    @Test func bareNewlineGoesThroughWithEmptyExclusions() throws {
        let standard = try render(configuration()).parameters
        #expect(standard["smtpd_forbid_bare_newline"] == "normalize")
        #expect(standard["smtpd_forbid_bare_newline_exclusions"] == "")
        var no = configuration()
        no.bareNewline = "no"
        #expect(try render(no).parameters["smtpd_forbid_bare_newline"] == "no")
        // receiver.postfix still wins.
        var overridden = configuration(settings: ["smtpd_forbid_bare_newline": "reject"])
        overridden.bareNewline = "no"
        #expect(try render(overridden).parameters["smtpd_forbid_bare_newline"] == "reject")
    }

    @Test func theHarnessDefaultsMakeAPrivateReceiverForTheCase() throws {
        let main = try render(configuration()).parameters
        #expect(main["myhostname"] == "mx.example.test")
        #expect(main["inet_interfaces"] == "192.0.2.10, [2001:db8::10]")
        #expect(main["inet_protocols"] == "all")
        #expect(main["mydestination"] == "$myhostname, localhost, example.test")
        #expect(main["local_recipient_maps"] == "")
        #expect(main["smtpd_banner"] == "$myhostname ESMTP")
        #expect(main["queue_directory"] == "/tmp/mxh-1-1-case/postfix/queue")
        #expect(main["data_directory"] == "/tmp/mxh-1-1-case/postfix/data")
        #expect(main["maillog_file"] == "/tmp/mxh-1-1-case/postfix/postfix.log")
        #expect(main["maillog_file_prefixes"] == "/var, /dev/stdout, /tmp/mxh-1-1-case/postfix")
        #expect(main["smtpd_delay_reject"] == "yes")
        #expect(main["disable_dns_lookups"] == "no")
        #expect(main["smtp_host_lookup"] == "dns")
        #expect(main["biff"] == "no")
        #expect(main["compatibility_level"] == "3.6")
        #expect(main["smtputf8_enable"] == "no")
        #expect(
            main["mynetworks"] == "127.0.0.0/8 [::1]/128", "the sender's addresses on the same link are not trusted")
        #expect(main["local_transport"]?.hasPrefix("discard:") == true)
        #expect(main["default_transport"]?.hasPrefix("discard:") == true, "nothing is relayed out of the namespace")
        #expect(main["smtpd_client_restrictions"] == nil, "open: no restrictions")
    }

    @Test func theRenderedTextReadsBackAsTheSameParameters() throws {
        let rendered = try render(
            configuration(Preset.heloStrict.policy, settings: ["smtpd_reject_footer": "see \\n test"]))
        let reread = try MainCF.parse(rendered.mainCF)
        #expect(reread == rendered.parameters)
        #expect(
            rendered.mainCF.contains("# policy helo-strict\nsmtpd_helo_restrictions = reject_invalid_helo_hostname"))
    }

    @Test(arguments: Preset.allCases)
    func everyPresetRendersItsPostfixColumnOrIsUnsupported(preset: Preset) throws {
        let config = configuration(preset.policy)
        if let settings = preset.postfixSettings {
            let main = try render(config).parameters
            for (key, value) in settings {
                #expect(main[key] == value, "\(preset.rawValue): \(key)")
            }
            #expect(config.unsupportedReason == nil)
        } else if MilterChecks(policy: preset.policy).isNeeded {
            // DKIM checks: played by the milters (MilterTranslationTests).
            #expect(try render(config).parameters["smtpd_milters"] != nil, "\(preset.rawValue)")
            #expect(config.unsupportedReason == nil)
            #expect(preset.postfixUnsupportedReason == nil)
        } else if let reason = preset.postfixUnsupportedReason {
            #expect(throws: PostfixConfigurationError.unsupported(PostfixUnsupported(reason: reason))) {
                try render(config)
            }
            #expect(config.unsupportedReason == reason)
        } else {
            // Translated check by check (ipv6-strict: IPv6's own class, its spf check asked of
            // policyd-spf, which a Postfix receiver always runs).
            var withSPF = config
            withSPF.engines = PostfixEngineSetup(runsPolicydSPF: true)
            #expect(withSPF.unsupportedReason == nil, "\(preset.rawValue)")
            #expect(try render(withSPF).parameters["smtpd_restriction_classes"] != nil, "\(preset.rawValue)")
        }
    }

    @Test func fcrdnsPresetsDifferOnlyInTheRejectCode() throws {
        let soft = try render(configuration(Preset.fcrdns.policy)).parameters
        let strict = try render(configuration(Preset.fcrdnsStrict.policy)).parameters
        #expect(soft["smtpd_client_restrictions"] == "reject_unknown_client_hostname")
        #expect(soft["unknown_client_reject_code"] == nil, "Postfix's default, 450")
        #expect(strict["unknown_client_reject_code"] == "550")
    }

    @Test func aMapPolicyTranslatesEachCheckInOrder() throws {
        let policy = ReceiverPolicy(
            ipv4: [.ptr, .fcrdns, .heloValid, .heloFQDN, .heloResolves, .dnsbl(zone: "bl.example.test")],
            ipv6: [.ptr, .fcrdns, .heloValid, .heloFQDN, .heloResolves, .dnsbl(zone: "bl.example.test")])
        let main = try render(configuration(policy)).parameters
        #expect(
            main["smtpd_client_restrictions"]
                == "reject_unknown_reverse_client_hostname, reject_unknown_client_hostname, reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname, reject_unknown_helo_hostname, reject_rbl_client bl.example.test"
        )
        #expect(main["smtpd_helo_required"] == "yes")
        #expect(main["unknown_client_reject_code"] == "550")
        #expect(main["invalid_hostname_reject_code"] == "501")
        #expect(main["non_fqdn_reject_code"] == "504")
        #expect(main["unknown_hostname_reject_code"] == "550")
        #expect(main["maps_rbl_reject_code"] == "554")
    }

    @Test func onFailDeferSendsEveryFailureAs450() throws {
        let policy = ReceiverPolicy(
            ipv4: [.fcrdns, .heloFQDN, .dnsbl(zone: "bl.example.test")],
            ipv6: [.fcrdns, .heloFQDN, .dnsbl(zone: "bl.example.test")], onFail: .defer)
        let main = try render(configuration(policy)).parameters
        #expect(main["unknown_client_reject_code"] == "450")
        #expect(main["non_fqdn_reject_code"] == "450")
        #expect(main["maps_rbl_reject_code"] == "450")
        #expect(main["invalid_hostname_reject_code"] == nil, "only the codes of the checks in use are set")
    }

    @Test func listsThatDifferPerFamilyGoThroughACidrTableOfRestrictionClasses() throws {
        let rendered = try render(configuration(ReceiverPolicy(ipv4: [.ptr], ipv6: [.fcrdns])))
        let table = paths.tableDirectory + "/" + PolicyTranslation.familyTableName
        #expect(rendered.parameters["smtpd_client_restrictions"] == "check_client_access cidr:\(table)")
        #expect(rendered.parameters["smtpd_restriction_classes"] == "mxh_ipv4_checks, mxh_ipv6_checks")
        #expect(rendered.parameters["mxh_ipv4_checks"] == "reject_unknown_reverse_client_hostname")
        #expect(rendered.parameters["mxh_ipv6_checks"] == "reject_unknown_client_hostname")
        let lines = rendered.files[table]?.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(lines == ["0.0.0.0/0 mxh_ipv4_checks", "::/0 mxh_ipv6_checks"])
    }

    @Test func aFamilyWithoutChecksHasNoLineInTheTable() throws {
        let rendered = try render(configuration(ReceiverPolicy(ipv6: [.fcrdns])))
        let table = paths.tableDirectory + "/" + PolicyTranslation.familyTableName
        #expect(rendered.parameters["smtpd_restriction_classes"] == "mxh_ipv6_checks")
        #expect(rendered.parameters["mxh_ipv4_checks"] == nil)
        #expect(rendered.files[table]?.contains("0.0.0.0/0") == false)
    }

    /// helo-matches: check_helo_a_access with a table per family that refuses every address but the
    /// client's (cidr `!` negation matches its own family only, so the other family is listed).
    @Test func heloMatchesIsATableOfTheClientsAddress() throws {
        var config = configuration(ReceiverPolicy(ipv4: [.heloMatches], ipv6: [.fcrdns, .heloMatches]))
        config.heloClients = [.ipv4: IPAddress(literal: "203.0.113.25"), .ipv6: IPAddress(literal: "2001:db8:5::25")]
        let rendered = try render(config)
        let v4 = paths.tableDirectory + "/mxh-helo-matches-ipv4.cidr"
        let v6 = paths.tableDirectory + "/mxh-helo-matches-ipv6.cidr"
        #expect(rendered.parameters["mxh_ipv4_checks"] == "check_helo_a_access cidr:\(v4)")
        #expect(
            rendered.parameters["mxh_ipv6_checks"] == "reject_unknown_client_hostname, check_helo_a_access cidr:\(v6)")
        #expect(rendered.parameters["smtpd_helo_required"] == "yes")
        let lines4 = rendered.files[v4]?.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(
            lines4 == [
                "!203.0.113.25 550 5.7.1 does not match calling host", "::/0 550 5.7.1 does not match calling host",
            ])
        let deferring = PolicyTranslation.heloMatchTable(
            client: IPAddress(literal: "2001:db8:5::25"), family: .ipv6, deferring: true)
        #expect(deferring.contains("!2001:db8:5::25 450 4.7.1 does not match calling host\n"))
        #expect(deferring.contains("0.0.0.0/0 450 4.7.1 does not match calling host\n"))
        // A HELO name with an address of the family: that address decides, the other family's are
        // not looked at (the format's "in the client's family").
        let named = PolicyTranslation.heloMatchTable(
            client: IPAddress(literal: "2001:db8:5::25"), family: .ipv6, refusingOtherFamily: false, deferring: false)
        #expect(
            named.split(separator: "\n").filter { !$0.hasPrefix("#") } == [
                "!2001:db8:5::25 550 5.7.1 does not match calling host"
            ])
        // A sender without an address of the family: every address there is another host's.
        let none = PolicyTranslation.heloMatchTable(client: nil, family: .ipv4, deferring: false)
        #expect(none.contains("0.0.0.0/0 550") && none.contains("::/0 550"))
    }

    /// The library's helo-matches cases run on Postfix; a world whose HELO name Postfix cannot
    /// answer exactly (several AAAA records, none at all, a literal smtpd does not read) is skipped.
    @Test func heloMatchesWorldsPostfixAnswersExactly() throws {
        let root = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let cases = try ScenarioLoader().load(paths: [
            root.appendingPathComponent("Scenarios/helo/helo-name-a-only.yaml").path,
            root.appendingPathComponent("Scenarios/helo/helo-address-literal.yaml").path,
        ])
        let matching = cases.filter { $0.receiver.policy.ipv6.contains(.heloMatches) }
        #expect(matching.count == 5)
        for scenario in matching {
            #expect(PostfixReceivers.heloMatchesReason(scenario) == nil, "\(scenario.name)")
            #expect(PostfixReceivers().configuration(for: scenario).unsupportedReason == nil)
        }
        var aOnly = try #require(matching.first { $0.name.hasSuffix("ipv6-first") })
        #expect(PostfixReceivers().configuration(for: aOnly).heloNameFamilies == [.ipv4])
        // Behind a PROXY header smtpd's client is the sender's own address: it runs; behind XCLIENT not.
        var proxied = aOnly
        for identity in [IdentityPath.proxyV1, .proxyV2] {
            proxied.sender.identity = identity
            #expect(PostfixReceivers.heloMatchesReason(proxied) == nil, "\(identity)")
        }
        proxied.sender.identity = .xclient
        #expect(PostfixReceivers.heloMatchesReason(proxied)?.contains("builtin only") == true)
        aOnly.dns.records += [
            ResourceRecord(owner: "mail.sender.test", data: .aaaa(IPAddress(literal: "2001:db8:5::25"))),
            ResourceRecord(owner: "mail.sender.test", data: .aaaa(IPAddress(literal: "2001:db8:5::99"))),
        ]
        #expect(PostfixReceivers.heloMatchesReason(aOnly)?.contains("several in one family") == true)
        aOnly.sender.helo = "gone.sender.test"
        #expect(PostfixReceivers.heloMatchesReason(aOnly)?.contains("no address record") == true)
        aOnly.sender.helo = "[2001:db8:5::25]"
        #expect(PostfixReceivers.heloMatchesReason(aOnly)?.contains("valid_mailhost_addr") == true)
    }

    @Test func rejectAtDataListsTheChecksAtTheEndOfData() throws {
        let rendered = try render(configuration(ReceiverPolicy(ipv4: [.fcrdns], ipv6: [.fcrdns], rejectAt: .data)))
        #expect(rendered.parameters["smtpd_end_of_data_restrictions"] == "reject_unknown_client_hostname")
        #expect(rendered.parameters["smtpd_client_restrictions"] == nil)
        #expect(rendered.parameters["smtpd_delay_reject"] == "yes")
        #expect(rendered.parameters["unknown_client_reject_code"] == "550")
    }

    @Test(arguments: [
        (ReceiverPolicy(ipv4: [.spf], ipv6: [.spf]), "spf"),
        (ReceiverPolicy(ipv6: [.fcrdns, .spfPass]), "spf-pass"),
        (
            ReceiverPolicy(
                ipv6: [.ptr], customReplies: [.ipv6: [.ptr: CustomReply(code: 550, enhanced: "5.7.1", text: "no")]]),
            "custom reply"
        ),
    ])
    func checksWithoutAPostfixRestrictionAreUnsupportedWithAReason(policy: ReceiverPolicy, mentions: String) throws {
        let config = configuration(policy)
        do {
            _ = try render(config)
            Issue.record("expected unsupported")
        } catch {
            #expect(error.unsupportedReason?.contains(mentions) == true, "\(error)")
        }
        #expect(config.unsupportedReason?.contains(mentions) == true)
    }

    @Test func layersApplyInOrderAndTheHarnessKeepsWhatItOwns() throws {
        var base = MainCF()
        base["smtpd_banner"] = "$myhostname ESMTP base"
        base["message_size_limit"] = "1000"
        base["smtpd_client_restrictions"] = "permit"
        base["queue_directory"] = "/var/spool/postfix"
        base["myhostname"] = "other.example.test"
        let rendered = try render(
            configuration(
                Preset.fcrdns.policy, settings: ["message_size_limit": "2000", "inet_interfaces": "all"], base: base))
        let main = rendered.parameters
        #expect(main["smtpd_banner"] == "$myhostname ESMTP base", "the base overrides harness defaults")
        #expect(main["smtpd_client_restrictions"] == "reject_unknown_client_hostname", "the policy overrides the base")
        #expect(main["message_size_limit"] == "2000", "receiver.postfix overrides the base")
        #expect(main["queue_directory"] == paths.queueDirectory)
        #expect(main["myhostname"] == "mx.example.test")
        #expect(main["inet_interfaces"] == "192.0.2.10, [2001:db8::10]")
        #expect(
            Set(rendered.overridden) == [
                "queue_directory (base main.cf)", "myhostname (base main.cf)", "inet_interfaces (receiver.postfix)",
            ])
    }

    @Test func scenarioSettingsOverrideThePolicy() throws {
        let main = try render(
            configuration(Preset.fcrdnsStrict.policy, settings: ["unknown_client_reject_code": "554"])
        ).parameters
        #expect(main["unknown_client_reject_code"] == "554")
    }

    @Test func badSettingsAndReceiversAreErrorsNotSkips() {
        #expect(
            throws: PostfixConfigurationError.invalidSetting(
                name: "bad name", origin: "receiver.postfix", problem: "not a parameter name (letters, digits and _)")
        ) {
            try render(configuration(settings: ["bad name": "x"]))
        }
        #expect(
            throws: PostfixConfigurationError.invalidSetting(
                name: "smtpd_banner", origin: "receiver.postfix", problem: "a value must be one line")
        ) {
            try render(configuration(settings: ["smtpd_banner": "a\nmaster_service_disable = smtp"]))
        }
        #expect(throws: PostfixConfigurationError.self) {
            try PostfixConfiguration(hostname: "mx", addresses: [v4], domains: []).render(paths: paths)
        }
        #expect(throws: PostfixConfigurationError.self) {
            try PostfixConfiguration(hostname: "mx.example.test", addresses: [], domains: []).render(paths: paths)
        }
        let error = PostfixConfigurationError.invalidSetting(name: "x", origin: "receiver.postfix", problem: "p")
        #expect(error.unsupportedReason == nil)
    }

    @Test func maildirDeliveryUsesVirtualWithOneMaildir() throws {
        var config = configuration()
        config.delivery = .maildir(uid: 65534, gid: 65534)
        let main = try render(config).parameters
        #expect(main["local_transport"] == "virtual")
        #expect(main["virtual_mailbox_base"] == paths.mailDirectory)
        #expect(main["virtual_mailbox_maps"] == "static:Maildir/")
        #expect(main["virtual_uid_maps"] == "static:65534")
    }
}

struct MainCFTests {
    @Test func parsesContinuationsAndComments() throws {
        let text = """
            # a comment
            myhostname = mx.example.test

            smtpd_client_restrictions =
                reject_unknown_client_hostname,
              reject_unknown_reverse_client_hostname
            empty =
            smtpd_banner = one
            smtpd_banner = two\r
            """
        let main = try MainCF.parse(text)
        #expect(main.names == ["myhostname", "smtpd_client_restrictions", "empty", "smtpd_banner"])
        #expect(
            main["smtpd_client_restrictions"]
                == "reject_unknown_client_hostname, reject_unknown_reverse_client_hostname")
        #expect(main["empty"] == "")
        #expect(main["smtpd_banner"] == "two", "the last definition wins, as in Postfix")
    }

    @Test func reportsTheLineOfABadEntry() {
        #expect(
            throws: PostfixConfigurationError.invalidBase(
                source: "my.cf", line: 3, problem: "expected `name = value`, got `nonsense`")
        ) {
            try MainCF.parse("a = b\n\nnonsense\n", source: "my.cf")
        }
        #expect(
            throws: PostfixConfigurationError.invalidBase(
                source: "main.cf", line: 1,
                problem: "a continuation line (starting with white space) before any parameter")
        ) {
            try MainCF.parse("  x\n")
        }
        #expect(throws: PostfixConfigurationError.self) { try MainCF.parse("bad-name = 1\n") }
    }
}

struct MasterCFTests {
    static let stock = """
        # comment
        smtp      inet  n       -       y       -       -       smtpd
        #submission inet n       -       y       -       -       smtpd
        submission inet n       -       y       -       -       smtpd
          -o syslog_name=postfix/submission
          -o smtpd_client_restrictions={ permit_sasl_authenticated,  reject }
        pickup    unix  n       -       y       60      1       pickup
        relay     unix  -       -       y       -       -       smtp
                -o syslog_name=postfix/$service_name
        postlog   unix-dgram n  -       n       -       1       postlogd
        """

    @Test func onlySmtpdOnPort25ListensAndNothingIsChrooted() {
        let text = MasterCF.render(stock: Self.stock)
        let entries = text.split(separator: "\n").filter {
            !$0.hasPrefix("#") && !$0.hasPrefix(" ") && !$0.hasPrefix("\t")
        }
        #expect(
            entries.map { $0.split(separator: " ").first.map(String.init) ?? "" } == [
                "25", "pickup", "relay", "postlog",
            ])
        for entry in entries {
            #expect(entry.split(whereSeparator: { $0 == " " }).dropFirst(4).first == "n", "\(entry)")
        }
        #expect(!text.contains("syslog_name=postfix/submission"), "the options of a removed inet service go with it")
        #expect(text.contains("        -o syslog_name=postfix/$service_name"), "other options are kept as written")
        #expect(text.contains("pickup    unix  n       -       n       60      1       pickup"))
    }
}

/// Policy map 1.1 on Postfix: what it can express (a site's reject code) and what it cannot.
@Suite struct PostfixPolicyMapTests {
    @Test func aGreetingRejectIsSkippedWithTheReason() {
        let reason = PolicyTranslation.unsupportedReason(
            ReceiverPolicy(ipv4: [.fcrdns], ipv6: [.fcrdns], rejectAt: .greeting))
        #expect(reason?.contains("reject_at: greeting needs postscreen") == true)
    }

    @Test func aSiteCodeWithPostfixsOwnTextSetsTheChecksCodeParameter() throws {
        let site = CustomReply(
            code: 554, enhanced: "5.7.1",
            text: "Client host rejected: cannot find your reverse hostname, [2001:db8::66]")
        let policy = ReceiverPolicy(ipv4: [.ptr], ipv6: [.ptr], siteReply: site)
        guard case .success(let settings) = PolicyTranslation.settings(for: policy, tableDirectory: "/tables") else {
            Issue.record("expected Postfix settings")
            return
        }
        #expect(settings.parameters["unknown_client_reject_code"] == "554")
        #expect(settings.parameters["smtpd_client_restrictions"] == "reject_unknown_reverse_client_hostname")
    }

    @Test func aSiteTextOrCheckPostfixCannotSayIsSkipped() {
        let text = ReceiverPolicy(
            ipv4: [.fcrdns], ipv6: [.fcrdns],
            siteReply: CustomReply(code: 554, enhanced: "5.7.1", text: "Bad DNS PTR resource record"))
        #expect(PolicyTranslation.unsupportedReason(text)?.contains("is not Postfix's own for check fcrdns") == true)
        let enhanced = ReceiverPolicy(
            ipv4: [.fcrdns], ipv6: [.fcrdns],
            siteReply: CustomReply(
                code: 550, enhanced: "5.7.1", text: "Client host rejected: cannot find your hostname, [192.0.2.7]"))
        #expect(PolicyTranslation.unsupportedReason(enhanced) != nil)
    }

    @Test func aDNSBLsSiteReplyIsPostfixsRBLReplyTemplate() throws {
        let site = CustomReply(code: 550, enhanced: "5.7.1", text: "Listed: [ADDR] costs $5")
        let policy = ReceiverPolicy(
            ipv4: [.dnsbl(zone: "bl.example.test")], ipv6: [.dnsbl(zone: "bl.example.test")], siteReply: site)
        guard case .success(let settings) = PolicyTranslation.settings(for: policy, tableDirectory: "/tables") else {
            Issue.record("expected Postfix settings")
            return
        }
        #expect(settings.parameters["maps_rbl_reject_code"] == "550")
        #expect(settings.parameters["default_rbl_reply"] == "$rbl_code 5.7.1 Listed: [$rbl_what] costs $$5")
        let bare = ReceiverPolicy(
            ipv4: [.dnsbl(zone: "bl.example.test")], siteReply: CustomReply(code: 554, enhanced: nil, text: "no"))
        #expect(PolicyTranslation.unsupportedReason(bare)?.contains("needs an enhanced code") == true)
    }
}

/// Format 1.2's `reject_at: helo|mail` on Postfix: smtpd_delay_reject = no, and the restrictions in
/// the list smtpd evaluates at that command (smtpd.c helo_cmd()/ehlo_cmd(), mail_cmd()).
@Suite struct PostfixEarlyRejectTests {
    @Test(arguments: [(RejectStage.helo, "smtpd_helo_restrictions"), (.mail, "smtpd_sender_restrictions")])
    func theChecksGoInTheStagesListWithoutDelayedRejects(stage: RejectStage, list: String) throws {
        let policy = ReceiverPolicy(ipv4: [.fcrdns, .heloFQDN], ipv6: [.fcrdns, .heloFQDN], rejectAt: stage)
        let settings = try PolicyTranslation.settings(for: policy, tableDirectory: "/tables").get()
        #expect(settings.parameters["smtpd_delay_reject"] == "no")
        #expect(settings.parameters[list] == "reject_unknown_client_hostname, reject_non_fqdn_helo_hostname")
        #expect(settings.parameters["smtpd_client_restrictions"] == nil, "client restrictions would answer at CONNECT")
        #expect(settings.parameters["smtpd_helo_required"] == "yes")
    }

    @Test func listsPerFamilyUseTheStagesList() throws {
        let policy = ReceiverPolicy(ipv4: [.ptr], ipv6: [.fcrdns], rejectAt: .mail, onFail: .defer)
        let settings = try PolicyTranslation.settings(for: policy, tableDirectory: "/tables").get()
        #expect(
            settings.parameters["smtpd_sender_restrictions"]
                == "check_client_access cidr:/tables/\(PolicyTranslation.familyTableName)")
        #expect(settings.parameters[PolicyTranslation.ipv6Class] == "reject_unknown_client_hostname")
        #expect(settings.parameters["unknown_client_reject_code"] == "450")
    }

    @Test func aPolicyWithoutChecksKeepsDelayedRejects() throws {
        let settings = try PolicyTranslation.settings(for: ReceiverPolicy(rejectAt: .helo), tableDirectory: "/tables")
            .get()
        #expect(settings.parameters["smtpd_delay_reject"] == nil)
    }
}
