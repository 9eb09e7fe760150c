import Foundation
import DNSCore
import Policy

/// A receiver policy as Postfix settings: main.cf parameters and the lookup tables they name.
public struct PostfixPolicySettings: Sendable, Hashable {
    public var parameters: MainCF
    /// Files the parameters refer to, by absolute path, with their contents.
    public var files: [String: String]
    /// master.cf entries of the services the parameters name (the policy services answering SPF).
    public var services: [String]

    public init(parameters: MainCF = MainCF(), files: [String: String] = [:], services: [String] = []) {
        self.parameters = parameters
        self.files = files
        self.services = services
    }
}

/// Translates the scenario format's policies into Postfix restrictions (spec "Policies" and the
/// presets table's Postfix column).
public enum PolicyTranslation {
    /// The file, in `tableDirectory`, that sends each family to its own restriction class.
    public static let familyTableName = "mxh-client-family.cidr"
    public static let ipv4Class = "mxh_ipv4_checks"
    public static let ipv6Class = "mxh_ipv6_checks"

    /// Why `policy` cannot be played by Postfix, or nil when it can.
    public static func unsupportedReason(
        _ policy: ReceiverPolicy, engines: PostfixEngineSetup = PostfixEngineSetup(),
        heloClients: [AddressFamily: IPAddress] = [:], heloNameFamilies: Set<AddressFamily> = []
    ) -> String? {
        if case .failure(let unsupported) = settings(
            for: policy, tableDirectory: "/unused", engines: engines, heloClients: heloClients,
            heloNameFamilies: heloNameFamilies)
        {
            return unsupported.reason
        }
        return nil
    }

    /// Whether Postfix's restrictions (not the milters) answer an `spf` or `spf-pass` check of
    /// `policy`, which then needs policyd-spf.
    public static func asksPolicydSPF(_ policy: ReceiverPolicy) -> Bool {
        let milters = MilterChecks(policy: policy)
        if let preset = policy.preset, !milters.isNeeded, preset.postfixSettings != nil { return false }
        return AddressFamily.allCases.contains { family in
            milters.restrictionChecks(family).contains { PolicydSPFService.Rule($0) != nil }
        }
    }

    /// The Postfix settings of `policy`; tables it needs are placed in `tableDirectory`. The
    /// `spf` and `spf-pass` checks are asked of policyd-spf (`PolicydSPFService`) when `engines`
    /// runs it, and have no Postfix equivalent otherwise. `helo-matches` is a table of the case's
    /// own: `heloClients` is the sender's address per family, `heloNameFamilies` the families in which
    /// the case's HELO name has an address record (`heloMatchTable`).
    public static func settings(
        for policy: ReceiverPolicy, tableDirectory: String, engines: PostfixEngineSetup = PostfixEngineSetup(),
        heloClients: [AddressFamily: IPAddress] = [:], heloNameFamilies: Set<AddressFamily> = []
    ) -> Result<PostfixPolicySettings, PostfixUnsupported> {
        let milters = MilterChecks(policy: policy)
        if let preset = policy.preset, !milters.isNeeded {
            if let settings = preset.postfixSettings {
                return .success(PostfixPolicySettings(parameters: MainCF(settings.sorted { $0.key < $1.key })))
            }
            // A preset without settings of its own is translated check by check, unless it cannot be.
            if let reason = preset.postfixUnsupportedReason { return .failure(PostfixUnsupported(reason: reason)) }
        }
        if let reason = milters.unsupportedReason {
            return .failure(PostfixUnsupported(reason: reason))
        }
        if policy.rejectAt == .greeting {
            return .failure(
                PostfixUnsupported(
                    reason:
                        "reject_at: greeting needs postscreen(8), which answers its own texts and cannot run these checks before the greeting (smtpd answers client restrictions at CONNECT only with smtpd_delay_reject = no, and then after a 220 greeting): builtin only"
                ))
        }
        let early = policy.rejectAt == .helo || policy.rejectAt == .mail
        if early, AddressFamily.allCases.contains(where: { !milters.connectionChecks($0).isEmpty }) {
            return .failure(
                PostfixUnsupported(
                    reason:
                        "reject_at: \(policy.rejectAt.rawValue) with checks the decision milter words is not translated for Postfix (the milter answers them at RCPT): builtin only"
                ))
        }
        if milters.isNeeded ? milters.restrictionCustomReplies : !policy.customReplies.isEmpty {
            return .failure(
                PostfixUnsupported(reason: "custom reply texts have no Postfix equivalent without a policy service"))
        }
        if let site = policy.siteReply, let reason = siteReplyUnsupportedReason(site, policy: policy) {
            return .failure(PostfixUnsupported(reason: reason))
        }
        var restrictions: [AddressFamily: [String]] = [:]
        var spfServices: [PolicydSPFService] = []
        var files: [String: String] = [:]
        let deferring = policy.onFail == .defer
        for family in AddressFamily.allCases {
            var list: [String] = []
            for check in milters.restrictionChecks(family) {
                if check == .heloMatches {
                    let path = tableDirectory + "/mxh-helo-matches-\(family == .ipv4 ? "ipv4" : "ipv6").cidr"
                    files[path] = heloMatchTable(
                        client: heloClients[family], family: family,
                        refusingOtherFamily: !heloNameFamilies.contains(family), deferring: deferring)
                    list.append("check_helo_a_access cidr:" + path)
                    continue
                }
                if let rule = PolicydSPFService.Rule(check), engines.runsPolicydSPF {
                    let service = engines.policydSPF(rule)
                    if !spfServices.contains(service) { spfServices.append(service) }
                    list.append(service.restriction)
                    continue
                }
                switch restriction(for: check) {
                case .success(let restriction): list.append(restriction)
                case .failure(let unsupported): return .failure(unsupported)
                }
            }
            restrictions[family] = list
        }
        let v4 = restrictions[.ipv4] ?? [], v6 = restrictions[.ipv6] ?? []
        var parameters = MainCF()
        // One list, in the policy's order, so that the first failing check decides, as in the
        // spec. With smtpd_delay_reject = yes, smtpd_client_restrictions are evaluated at RCPT,
        // when the HELO name is known, so HELO restrictions work there too (postconf(5)).
        // Format 1.2's reject_at: helo and mail: with smtpd_delay_reject = no, smtpd.c evaluates
        // smtpd_helo_restrictions in helo_cmd()/ehlo_cmd() and smtpd_sender_restrictions in
        // mail_cmd(), and answers the command with the failure; client restrictions may be listed
        // in either (smtpd_check.c generic_checks()). smtpd_client_restrictions would answer at
        // CONNECT instead of the greeting, so the list goes in the stage's own parameter.
        // reject_at: data: smtpd_end_of_data_restrictions, which smtpd_check_eod() evaluates after
        // the final dot (postconf(5): "the SMTP END-OF-DATA command"); generic_checks() accepts
        // client, HELO and policy-service restrictions in any list, and the reply is the same.
        let listParameter: String
        switch policy.rejectAt {
        case .helo: listParameter = "smtpd_helo_restrictions"
        case .mail: listParameter = "smtpd_sender_restrictions"
        case .data: listParameter = "smtpd_end_of_data_restrictions"
        case .rcpt, .greeting: listParameter = "smtpd_client_restrictions"
        }
        if early, !(v4.isEmpty && v6.isEmpty) { parameters["smtpd_delay_reject"] = "no" }
        if v4 == v6 {
            if !v4.isEmpty { parameters[listParameter] = v4.joined(separator: ", ") }
        } else {
            // Lists that differ per family: a cidr table (cidr_table(5)) maps each family's whole
            // range to a restriction class (smtpd_restriction_classes) holding that family's list.
            let path = tableDirectory + "/" + familyTableName
            var classes: [String] = []
            var table = "# client address family -> restriction class (written by mxharness)\n"
            if !v4.isEmpty {
                classes.append(ipv4Class)
                table += "0.0.0.0/0 \(ipv4Class)\n"
            }
            if !v6.isEmpty {
                classes.append(ipv6Class)
                table += "::/0 \(ipv6Class)\n"
            }
            parameters["smtpd_restriction_classes"] = classes.joined(separator: ", ")
            if !v4.isEmpty { parameters[ipv4Class] = v4.joined(separator: ", ") }
            if !v6.isEmpty { parameters[ipv6Class] = v6.joined(separator: ", ") }
            parameters[listParameter] = "check_client_access cidr:\(path)"
            files[path] = table
        }
        // The checks Postfix's restrictions answer; the milters answer the rest (`MilterChecks`).
        let all = Set(AddressFamily.allCases.flatMap { milters.restrictionChecks($0) })
        if milters.isNeeded {
            for (name, value) in MilterConfiguration.mainCF.parameters { parameters[name] = value }
        }
        let heloChecks: Set<Check> = [.heloValid, .heloFQDN, .heloResolves, .heloMatches]
        if !all.isDisjoint(with: heloChecks) {
            // Without it a client that sends no HELO at all would pass every HELO restriction.
            parameters["smtpd_helo_required"] = "yes"
        }
        // Reply codes (postconf(5)); a 4xx code also turns the enhanced code's class into 4
        // (smtpd_check.c), which is the spec's on_fail: defer.
        if all.contains(.ptr) || all.contains(.fcrdns) {
            parameters["unknown_client_reject_code"] = deferring ? "450" : "550"
        }
        if all.contains(.heloValid) { parameters["invalid_hostname_reject_code"] = deferring ? "450" : "501" }
        if all.contains(.heloFQDN) { parameters["non_fqdn_reject_code"] = deferring ? "450" : "504" }
        if all.contains(.heloResolves) { parameters["unknown_hostname_reject_code"] = deferring ? "450" : "550" }
        if all.contains(where: { if case .dnsbl = $0 { true } else { false } }) {
            parameters["maps_rbl_reject_code"] = deferring ? "450" : "554"
        }
        var services: [String] = []
        for service in spfServices.sorted(by: { $0.rule.serviceName < $1.rule.serviceName }) {
            let path = tableDirectory + "/" + service.configurationName
            files[path] = service.configuration
            services.append(service.masterEntry(configurationPath: path))
            for (name, value) in service.mainCF { parameters[name] = value }
        }
        if !spfServices.isEmpty {
            // policyd-spf logs to syslog only: the Received-SPF field it has smtpd prepend is logged
            // by cleanup(8) with the queue id (`PolicydSPFVerdicts`).
            let path = tableDirectory + "/" + PolicydSPFVerdicts.headerTableName
            files[path] = PolicydSPFVerdicts.headerTable
            parameters["header_checks"] = "regexp:" + path
        }
        if !spfServices.isEmpty, deferring {
            // policyd-spf answers 550; with soft_bounce smtpd sends it as 450 and the enhanced
            // code's class as 4 (smtpd_check.c smtpd_check_reject), the format's on_fail: defer.
            parameters["soft_bounce"] = "yes"
        }
        if let site = policy.siteReply {
            // The site's code in the one parameter each check's restriction answers with
            // (postconf(5)); siteReplyUnsupportedReason has made sure there is one and the text is Postfix's.
            for check in all {
                if let parameter = codeParameter(for: check) { parameters[parameter] = String(site.code) }
            }
            // A DNSBL reply is a template of its own (postconf(5) default_rbl_reply); with an enhanced
            // code in it smtpd sends that one instead of 5.7.1 (seen with Postfix 3.x). `$` is main.cf's.
            if all.contains(where: { if case .dnsbl = $0 { true } else { false } }), let enhanced = site.enhanced {
                let text = site.text.replacingOccurrences(of: "$", with: "$$").replacingOccurrences(
                    of: "[ADDR]", with: "[$rbl_what]")
                parameters["default_rbl_reply"] = "$rbl_code \(enhanced) \(text)"
            }
        }
        return .success(PostfixPolicySettings(parameters: parameters, files: files, services: services))
    }

    /// The main.cf parameter that sets a check's reject code (postconf(5)).
    static func codeParameter(for check: Check) -> String? {
        switch check {
        case .ptr, .fcrdns: "unknown_client_reject_code"
        case .heloValid: "invalid_hostname_reject_code"
        case .heloFQDN: "non_fqdn_reject_code"
        case .heloResolves: "unknown_hostname_reject_code"
        case .dnsbl: "maps_rbl_reject_code"
        case .spf, .spfPass, .heloMatches, .dkim, .dmarc, .spfOrDKIM: nil
        }
    }

    /// Why Postfix cannot answer a failing check with `site` (nil when it can): its code goes in the
    /// check's code parameter, but the text and enhanced code stay Postfix's own (smtpd_check.c), so
    /// `reply` must say them as Postfix does.
    static func siteReplyUnsupportedReason(_ site: CustomReply, policy: ReceiverPolicy) -> String? {
        let client = IPAddress(literal: "192.0.2.1")
        for check in Set(policy.ipv4 + policy.ipv6) {
            if case .dnsbl = check {
                // default_rbl_reply takes any one-line text; smtpd adds 5.7.1 when it has no enhanced code.
                guard site.enhanced != nil, !site.text.contains("\n") else {
                    return
                        "reply: on check \(check.name) needs an enhanced code and one line for Postfix's default_rbl_reply (smtpd adds 5.7.1 to a reply without one): builtin only"
                }
                continue
            }
            guard let parameter = codeParameter(for: check),
                let postfix = check.standardReply(for: .fail, client: client, helo: "helo.test")
            else {
                return "reply: on check \(check.name) has no Postfix equivalent (no reject code parameter)"
            }
            let enhanced = postfix.enhanced.map { String(site.code / 100) + $0.dropFirst() }
            guard normalized(site.text) == normalized(postfix.text), site.enhanced == nil || site.enhanced == enhanced
            else {
                return
                    "reply: text \"\(site.text)\" is not Postfix's own for check \(check.name) (\"\(postfix.text)\"): Postfix sets only the code (\(parameter)); custom texts need a policy service: builtin only"
            }
        }
        return nil
    }

    /// A reply text with its client address and HELO name replaced by placeholders.
    private static func normalized(_ text: String) -> String {
        text.replacingOccurrences(of: #"\[(IPv6:)?[0-9A-Fa-f:.]+\]"#, with: "[ADDR]", options: .regularExpression)
            .replacingOccurrences(of: #"<[^<>]*>: Helo"#, with: "<HELO>: Helo", options: .regularExpression)
    }

    /// The cidr table (cidr_table(5)) `check_helo_a_access` looks up for `helo-matches` from clients
    /// of `family`: smtpd_check.c check_server_access() looks up an address literal's address, or
    /// each A and AAAA address of a HELO name, and the first address the table has decides. Every
    /// address of the family but the client's own (`!`, which matches addresses of its own family
    /// only) answers "does not match calling host" as the format words it (`<HELO>: Helo command
    /// rejected: ` is smtpd's, check_table_result()); the client's own is not found, so the check
    /// passes. Addresses of the other family are refused too (`refusingOtherFamily`) unless the HELO
    /// name has an address of this family, which then decides alone, as the format's "resolves, in
    /// the client's family": so a literal of the other family, or a name with only the other
    /// family's addresses, does not match. Exact for a literal, a bare address and a name with at
    /// most one address record per family: not for a name with several, or none at all, or a DNS
    /// error (the first address found refuses whatever follows it, getaddrinfo(3) failures are
    /// skipped, never deferred, and check_helo_a_access may never answer OK: forbid_allowlist()),
    /// so those worlds are skipped (`PostfixReceivers.heloMatchesReason`).
    public static func heloMatchTable(
        client: IPAddress?, family: AddressFamily, refusingOtherFamily: Bool = true, deferring: Bool
    ) -> String {
        let reply = deferring ? "450 4.7.1 does not match calling host" : "550 5.7.1 does not match calling host"
        var table = "# HELO addresses that are not the client's (written by mxharness)\n"
        if let client, client.family == family {
            table += "!\(client) \(reply)\n"
        } else {
            table += (family == .ipv4 ? "0.0.0.0/0" : "::/0") + " \(reply)\n"
        }
        if refusingOtherFamily { table += (family == .ipv4 ? "::/0" : "0.0.0.0/0") + " \(reply)\n" }
        return table
    }

    /// The Postfix restriction equivalent to one check.
    public static func restriction(for check: Check) -> Result<String, PostfixUnsupported> {
        switch check {
        case .ptr: .success("reject_unknown_reverse_client_hostname")
        case .fcrdns: .success("reject_unknown_client_hostname")
        case .heloValid: .success("reject_invalid_helo_hostname")
        case .heloFQDN: .success("reject_non_fqdn_helo_hostname")
        case .heloResolves: .success("reject_unknown_helo_hostname")
        case .dnsbl(let zone): .success("reject_rbl_client \(zone)")
        case .spf, .spfPass:
            .failure(
                PostfixUnsupported(
                    reason:
                        "check \(check.name) needs SPF in Postfix, which needs a policy service (policyd-spf)"
                ))
        case .dkim, .dmarc, .spfOrDKIM:
            .failure(
                PostfixUnsupported(
                    reason: "check \(check.name) is no restriction: the milters answer it (MilterChecks)"))
        case .heloMatches:
            .failure(
                PostfixUnsupported(
                    reason:
                        "check helo-matches is a table of the case's client address (check_helo_a_access, heloMatchTable)"
                ))
        }
    }
}
