import DKIM
import DNSCore
import Milter
import Policy
@testable import Postfix
import SMTPProtocol
import Testing

private let id = "mxh-verify-0a1b2c3d"

/// A session at the end of a message from `client`, with `fields` as its Authentication-Results.
private func context(
    client: String = "2001:db8:5::25", resolve: String = "OK", ptr: String = "mail.sender.test",
    from: String = "Alice <alice@sender.test>", fields: [String], signed: Bool = true
) -> MilterContext {
    var context = MilterContext()
    context.address = client
    context.macros = ["{client_resolve}": resolve, "{client_ptr}": ptr]
    context.helo = "mail.sender.test"
    context.headers = fields.map { ("Authentication-Results", $0) } + [("From", " " + from)]
    if signed { context.headers.append(("DKIM-Signature", " v=1; a=rsa-sha256; d=sender.test; s=s2026; b=...")) }
    return context
}

struct AuthenticationResultsTests {
    @Test func readsMethodsResultsCommentsAndProperties() throws {
        let field = try #require(
            AuthenticationResults(
                " \(id);\r\n\tdkim=pass (2048-bit key; unprotected) header.d=sender.test header.i=@sender.test header.b=\"AbC;d\";\r\n\tdkim=fail (1024-bit key; test mode) header.d=mailer.test"
            ))
        #expect(field.authservID == id)
        #expect(field.results.count == 2)
        #expect(field.results[0].method == "dkim" && field.results[0].result == "pass")
        #expect(field.results[0].comments == ["2048-bit key; unprotected"])
        #expect(field.results[0].properties["header.d"] == "sender.test")
        #expect(field.results[1].comments == ["1024-bit key; test mode"])
        #expect(field.results[1].properties["header.d"] == "mailer.test")
        let reasoned = try #require(
            AuthenticationResults(
                "\(id); dkim=fail reason=\"key not found in DNS\" header.d=sender.test; dkim-atps=neutral"))
        #expect(reasoned.results.map(\.method) == ["dkim", "dkim-atps"])
        #expect(reasoned.results[0].properties == ["reason": "key not found in DNS", "header.d": "sender.test"])
    }

    @Test func onlyTheReceiversOwnFieldsCount() {
        let values = [
            "mx.google.com; dkim=pass header.d=sender.test", "\(id); dkim=none",
            "\(id) 1; spf=pass smtp.mailfrom=sender.test",
        ]
        #expect(AuthenticationResults.results("dkim", in: values, authservID: id).map(\.result) == ["none"])
        #expect(
            AuthenticationResults.results("spf", in: values, authservID: id).map(\.result) == ["pass"],
            "a version after the id")
        #expect(AuthenticationResults("") == nil)
    }
}

struct MilterDecisionTests {
    @Test func dkimNeedsAPassingSignatureNotInTestMode() {
        let decision = MilterDecision(policy: ReceiverPolicy(ipv4: [.dkim], ipv6: [.dkim]), authservID: id)
        let refused = "550 5.7.20 No passing DKIM signature found"
        #expect(
            decision.reply(
                at: .endOfMessage, context: context(fields: ["\(id); dkim=pass (2048-bit key) header.d=mailer.test"]))
                == nil)
        #expect(
            decision.reply(
                at: .endOfMessage, context: context(fields: ["\(id); dkim=fail (bad signature) header.d=sender.test"]))
                == refused)
        #expect(
            decision.reply(
                at: .endOfMessage,
                context: context(fields: ["\(id); dkim=pass (1024-bit key; test mode) header.d=sender.test"]))
                == refused)
        #expect(
            decision.reply(at: .endOfMessage, context: context(fields: ["\(id); dkim=none"], signed: false)) == refused)
        #expect(
            decision.reply(at: .endOfMessage, context: context(fields: ["\(id); dkim=temperror header.d=sender.test"]))
                == "451 4.7.20 DKIM temporary error")
        #expect(
            decision.reply(at: .endOfMessage, context: context(fields: ["evil.test; dkim=pass header.d=sender.test"]))
                == refused,
            "a field the sender wrote is not the receiver's result")
        #expect(decision.reply(at: .rcpt, context: context(fields: [])) == nil, "no check at RCPT")
    }

    /// The world's key record behind OpenDKIM's result: `t=y` makes a pass no signature (RFC 6376
    /// 3.6.1), a record that gives no key makes OpenDKIM's temperror a permerror (6.1.2); a DNS
    /// fault, several records or a signed world leave OpenDKIM's answer as it is.
    @Test(arguments: ["dkim", "spf-or-dkim"])
    func theWorldsKeyRecordDecidesWhatOpenDKIMsFieldDoesNotSay(check: String) throws {
        let good = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
        let testing = "v=DKIM1; k=ed25519; t=y; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
        let truncated = "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu2Zs"
        func world(_ text: String, faults: [DNSFault] = [], signed: Bool = false, twice: Bool = false)
            -> WorldKeyRecords
        {
            let record = ResourceRecord(owner: "s2026._domainkey.sender.test", data: .txt([Array(text.utf8)]))
            return WorldKeyRecords(records: twice ? [record, record] : [record], faults: faults, signed: signed)
        }
        let checks: [Check] = check == "dkim" ? [.dkim] : [.spfOrDKIM]
        let policy = ReceiverPolicy(ipv4: checks, ipv6: checks)
        let fail = check == "dkim" ? "550 5.7.20" : "550 5.7.26"
        let temporary = check == "dkim" ? "451 4.7.20" : "451 4.7.26"
        let pass =
            "\(id); spf=fail smtp.mailfrom=sender.test; dkim=pass (256-bit key) header.d=sender.test header.i=@sender.test header.a=ed25519-sha256 header.s=s2026"
        let temperror =
            "\(id); spf=fail smtp.mailfrom=sender.test; dkim=temperror header.d=sender.test header.a=rsa-sha256 header.s=s2026"
        func reply(_ keyRecords: WorldKeyRecords, _ field: String) -> String? {
            let decision = MilterDecision(policy: policy, authservID: id, keyRecords: keyRecords)
            return decision.reply(at: .endOfMessage, context: context(fields: [field]))
        }
        #expect(reply(world(good), pass) == nil)
        #expect(reply(world(testing), pass)?.hasPrefix(fail) == true, "t=y: no signature")
        #expect(reply(world(truncated), temperror)?.hasPrefix(fail) == true, "no key: permerror")
        let ed25519Temperror = temperror.replacingOccurrences(of: "rsa-sha256", with: "ed25519-sha256")
        #expect(
            reply(world(good), ed25519Temperror)?.hasPrefix(temporary) == true, "a usable key: OpenDKIM's temperror")
        let faulted = world(truncated, faults: [DNSFault(name: "_domainkey.sender.test", kind: .servfail)])
        #expect(reply(faulted, temperror)?.hasPrefix(temporary) == true)
        #expect(reply(world(truncated, signed: true), temperror)?.hasPrefix(temporary) == true)
        #expect(reply(world(truncated, twice: true), temperror)?.hasPrefix(temporary) == true)
        #expect(reply(WorldKeyRecords(), pass) == nil, "no record known: OpenDKIM's pass")
        let described = MilterDecision(policy: policy, authservID: id, keyRecords: world(truncated))
            .dkimResults(AuthenticationResults.results("dkim", in: [temperror], authservID: id))
        #expect(described.map(\.result) == ["permerror"])
        #expect(described.first?.comments.last?.contains("RFC 6376 6.1.2") == true)
    }

    /// DMARC is decided by the built-in MX's evaluator over the world's records, OpenDKIM's results
    /// without `t=y` signatures and OpenDMARC's SPF result, whatever OpenDMARC concluded: its pass on
    /// a `t=y` signature alone is no pass, and a subdomain gets the organisational record's `sp=`.
    @Test func dmarcIsTheBuiltInEvaluatorsOverTheWorld() {
        let testingKey = "v=DKIM1; k=ed25519; t=y; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
        func world(_ dmarc: String, key: String = testingKey, keyDomain: String = "sender.test", signed: Bool = false)
            -> WorldKeyRecords
        {
            WorldKeyRecords(
                records: [
                    ResourceRecord(owner: "s2026._domainkey.\(keyDomain)", data: .txt([Array(key.utf8)])),
                    ResourceRecord(owner: "_dmarc.sender.test", data: .txt([Array(dmarc.utf8)])),
                ], signed: signed)
        }
        func field(spf: String = "fail", d: String = "sender.test", dmarc: String = "pass (p=reject dis=none)")
            -> String
        {
            "\(id); spf=\(spf) smtp.mailfrom=\(d); dkim=pass (256-bit key) header.d=\(d) header.a=ed25519-sha256 header.s=s2026; dmarc=\(dmarc) header.from=\(d)"
        }
        let policy = ReceiverPolicy(ipv4: [.dmarc], ipv6: [.dmarc])
        func reply(_ keyRecords: WorldKeyRecords, _ field: String, from: String = "Alice <alice@sender.test>")
            -> String?
        {
            MilterDecision(policy: policy, authservID: id, keyRecords: keyRecords)
                .reply(at: .endOfMessage, context: context(from: from, fields: [field]))
        }
        let refused = "550 5.7.1 Unauthenticated email is not accepted due to the sender domain's DMARC policy"
        #expect(reply(world("v=DMARC1; p=reject"), field()) == refused, "OpenDMARC's pass on t=y alone")
        #expect(reply(world("v=DMARC1; p=reject", signed: true), field()) == refused, "records as served")
        #expect(reply(world("v=DMARC1; p=reject"), field(spf: "pass")) == nil, "SPF passed for an aligned domain")
        #expect(reply(world("v=DMARC1; p=quarantine"), field()) == nil, "the policy does not reject")
        #expect(reply(world("v=DMARC1; p=reject; pct=0"), field()) == nil, "pct=0: not sampled")
        let good = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
        #expect(reply(world("v=DMARC1; p=reject", key: good), field()) == nil, "an aligned pass")
        #expect(
            reply(world("v=DMARC1; p=reject", key: good), field(dmarc: "fail (p=reject dis=none)")) == nil,
            "the evaluator's pass, whatever OpenDMARC said")
        // A subdomain author with no record of its own: the organisational record's sp= applies.
        let news = field(d: "news.sender.test", dmarc: "pass (p=none dis=none)")
        let newsFrom = "Alice <alice@news.sender.test>"
        #expect(
            reply(world("v=DMARC1; p=none; sp=reject", keyDomain: "news.sender.test"), news, from: newsFrom)
                == refused)
        #expect(
            reply(world("v=DMARC1; p=reject; sp=none", keyDomain: "news.sender.test"), news, from: newsFrom) == nil)
        #expect(reply(world("v=DMARC1; p=none; sp=reject"), field()) == nil, "p= for the organisational domain")
        #expect(
            reply(world("v=DMARC1; p=reject"), field(dmarc: "temperror")) == "451 4.7.1 DMARC temporary error",
            "OpenDMARC's lookup failed")
        let faulted = WorldKeyRecords(
            records: [ResourceRecord(owner: "_dmarc.sender.test", data: .txt([Array("v=DMARC1; p=reject".utf8)]))],
            faults: [DNSFault(name: "_dmarc.sender.test", kind: .servfail)])
        #expect(
            reply(faulted, field()) == "451 4.7.1 DMARC temporary error", "the world's fault, as on the built-in MX")
        #expect(reply(WorldKeyRecords(), field(dmarc: "fail (p=reject dis=none)")) == nil, "no record in the world")
    }

    /// What the decision record says: the built-in MX's evaluation.
    @Test func theDMARCDecisionNamesTheRecordAndTheTestingSignature() throws {
        let world = WorldKeyRecords(records: [
            ResourceRecord(
                owner: "s2026._domainkey.sender.test",
                data: .txt([Array("v=DKIM1; k=ed25519; t=y; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=".utf8)])),
            ResourceRecord(owner: "_dmarc.sender.test", data: .txt([Array("v=DMARC1; p=reject".utf8)])),
        ])
        let fields = [
            "\(id); spf=fail smtp.mailfrom=sender.test; dkim=pass (256-bit key) header.d=sender.test header.a=ed25519-sha256 header.s=s2026; dmarc=pass header.from=sender.test"
        ]
        let decision = MilterDecision(
            policy: ReceiverPolicy(ipv4: [.dmarc], ipv6: [.dmarc]), authservID: id, keyRecords: world)
        let evaluation = try #require(decision.dmarcEvaluation(context(fields: fields), fields: fields))
        #expect(evaluation.result == .fail && evaluation.disposition == .reject)
        #expect(evaluation.recordDomain == "sender.test")
        #expect(evaluation.reason.contains("no DKIM signature passed"), "\(evaluation.reason)")
    }

    @Test func gmailLikeAnswersWithItsOwnRepliesAfterTheDot() {
        let decision = MilterDecision(policy: Preset.gmailLike.policy, authservID: id)
        let spfFail = "\(id); spf=fail smtp.mailfrom=sender.test"
        #expect(
            decision.reply(
                at: .endOfMessage, context: context(fields: [spfFail, "\(id); dkim=pass header.d=sender.test"])) == nil)
        #expect(
            decision.reply(
                at: .endOfMessage,
                context: context(
                    fields: ["\(id); spf=pass smtp.mailfrom=sender.test", "\(id); dkim=none"], signed: false)) == nil)
        let unauthenticated =
            "550 5.7.26 This mail is unauthenticated, which poses a security risk to the sender and Gmail users, and has been blocked. The sender must authenticate with at least one of SPF or DKIM."
        #expect(
            decision.reply(
                at: .endOfMessage, context: context(fields: [spfFail, "\(id); dkim=pass header.d=mailer.test"]))
                == unauthenticated, "not aligned")
        #expect(
            decision.reply(
                at: .endOfMessage, context: context(fields: [spfFail, "\(id); dkim=fail header.d=sender.test"]))
                == unauthenticated)
        #expect(
            decision.reply(at: .endOfMessage, context: context(fields: [spfFail, "\(id); dkim=none"], signed: false))
                == "550 5.7.1 Our system has detected that this message does not meet IPv6 sending guidelines regarding PTR records and authentication."
        )
        #expect(
            decision.reply(
                at: .endOfMessage,
                context: context(resolve: "FORGED", fields: [spfFail, "\(id); dkim=pass header.d=sender.test"]))
                == "550 5.7.1 Our system has detected that this message does not meet IPv6 sending guidelines regarding PTR records and authentication.",
            "fcrdns comes first, also at the end of the message")
        #expect(
            decision.reply(at: .endOfMessage, context: context(client: "203.0.113.25", resolve: "FAIL", fields: []))
                == "550 5.7.25 The IP address sending this message does not have a PTR record setup, or the corresponding forward DNS entry does not point to the sending IP."
        )
        #expect(
            decision.reply(at: .endOfMessage, context: context(client: "203.0.113.25", resolve: "TEMP", fields: []))
                == "450 4.7.25 Client host rejected: cannot find your hostname, [203.0.113.25]")
    }

    @Test func microsoftLikeDKIMAnswersPtrAtRcptAndSPFOrDKIMAfterTheDot() {
        let decision = MilterDecision(policy: Preset.microsoftLikeDKIM.policy, authservID: id)
        #expect(
            decision.reply(at: .rcpt, context: context(resolve: "FAIL", ptr: "unknown", fields: []))
                == "450 4.7.25 Service unavailable, sending IPv6 address [2001:db8:5::25] must have reverse DNS record."
        )
        #expect(decision.reply(at: .rcpt, context: context(fields: [])) == nil)
        #expect(decision.reply(at: .rcpt, context: context(client: "IPv6:2001:db8:5::25", fields: [])) == nil)
        #expect(
            decision.reply(
                at: .endOfMessage,
                context: context(fields: [
                    "\(id); spf=fail smtp.mailfrom=sender.test", "\(id); dkim=neutral (no key) header.d=sender.test",
                ]))
                == "450 4.7.26 Service unavailable, message sent over IPv6 [2001:db8:5::25] must pass either SPF or DKIM validation."
        )
        #expect(
            decision.reply(at: .endOfMessage, context: context(client: "203.0.113.25", fields: [])) == nil,
            "no check for IPv4")
    }

    @Test func repliesAreWrittenAsLibmilterWritesThem() {
        #expect(
            MilterDecision.milterReply(SMTPReply(code: 554, enhanced: nil, lines: ["a", "100%"]))
                == "554-a\r\n554 100%%")
    }
}

struct MilterTranslationTests {
    @Test func messageChecksRunTheMiltersAndLeaveTheRestToRestrictions() throws {
        let policy = ReceiverPolicy(ipv4: [.fcrdns, .dkim], ipv6: [.fcrdns, .dkim])
        let settings = try PolicyTranslation.settings(for: policy, tableDirectory: "/t").get()
        #expect(settings.parameters["smtpd_milters"] == "inet:127.0.0.1:8891, inet:127.0.0.1:8893, inet:127.0.0.1:8895")
        #expect(settings.parameters["milter_default_action"] == "tempfail")
        #expect(settings.parameters["smtpd_client_restrictions"] == "reject_unknown_client_hostname")
        #expect(MilterChecks(policy: policy).atEndOfMessage(.ipv4) == [.dkim])
        let open = try PolicyTranslation.settings(for: ReceiverPolicy(ipv4: [.fcrdns]), tableDirectory: "/t").get()
        #expect(open.parameters["smtpd_milters"] == nil)
    }

    @Test func presetsWithSPFOrDKIMAreTranslated() throws {
        let gmail = try PolicyTranslation.settings(for: Preset.gmailLike.policy, tableDirectory: "/t").get()
        #expect(gmail.parameters["smtpd_milters"] != nil)
        #expect(gmail.parameters["smtpd_client_restrictions"] == nil, "fcrdns is the milter's, after the dot")
        let microsoft = try PolicyTranslation.settings(for: Preset.microsoftLikeDKIM.policy, tableDirectory: "/t").get()
        #expect(microsoft.parameters["smtpd_milters"] != nil)
        #expect(MilterChecks(policy: Preset.microsoftLikeDKIM.policy).atRcpt(.ipv6) == [.ptr])
        #expect(
            PolicyTranslation.unsupportedReason(Preset.microsoftLike.policy) != nil,
            "SPF alone at RCPT is still builtin only")
    }

    @Test func whatTheDecisionMilterCannotAnswerIsSkippedWithAReason() throws {
        let helo = ReceiverPolicy(ipv4: [.heloValid, .dkim], rejectAt: .data)
        let reason = try #require(PolicyTranslation.unsupportedReason(helo))
        #expect(reason.contains("helo-valid"), "\(reason)")
        let spf = ReceiverPolicy(ipv4: [.spf, .dkim])
        #expect(PolicyTranslation.unsupportedReason(spf)?.contains("SPF") == true)
    }

    @Test func milterConfigurationsAreNotShared() {
        let configuration = PostfixConfiguration(
            hostname: "mx.example.test", addresses: [IPAddress("192.0.2.10")!], domains: ["example.test"],
            policy: ReceiverPolicy(ipv4: [.dkim]))
        #expect(configuration.sharingRefusal?.contains("smtpd_milters") == true)
        #expect(configuration.sharingKey == nil)
    }

    @Test func theMiltersConfigurationNamesTheAuthservIDAndTheWorldsResolver() {
        let configuration = MilterConfiguration(authservID: id, directory: "/c/milters")
        #expect(configuration.openDKIM.contains("AuthservID              \(id)\n"))
        #expect(configuration.openDKIM.contains("ResolverConfiguration   /c/milters/libunbound.conf\n"))
        #expect(MilterConfiguration.libunbound.contains("  local-zone: \"test.\" nodefault\n"))
        #expect(MilterConfiguration.libunbound.contains("  do-not-query-localhost: no\n"))
        #expect(configuration.openDKIM.contains("Mode                    v\n"))
        #expect(configuration.openDMARC.contains("TrustedAuthservIDs      \(id)\n"))
        #expect(configuration.openDMARC.contains("PublicSuffixList        /c/milters/public_suffix_list.dat\n"))
        #expect(MilterConfiguration.publicSuffixList.split(separator: "\n").contains("co.uk"))
    }
}
