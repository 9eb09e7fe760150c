import Foundation
import Policy
import Scenario
import Testing
import MXHarnessTestKit

/// Every class of load error, each with its exact file:line:column and key path.
@Suite struct LoadErrorTests {
    /// `formatExample` with one piece replaced (which must be there).
    func example(_ old: String, _ new: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> String {
        #expect(formatExample.contains(old), "the example has no \(old)", sourceLocation: sourceLocation)
        return formatExample.replacingOccurrences(of: old, with: new)
    }

    @Test func unknownCheckInAPolicyList() {
        let yaml = example("  policy: fcrdns-strict", "  policy:\n    ipv6:\n      - fcrdns\n      - fcrnds")
        #expect(
            loadErrors(yaml: yaml) == [
                "Scenarios/rdns.yaml:22:9: receiver.policy.ipv6[1]: unknown check \"fcrnds\" (known: ptr, fcrdns, helo-valid, helo-fqdn, helo-resolves, helo-matches, spf, spf-pass, dnsbl:ZONE, dkim, dmarc, spf-or-dkim); did you mean \"fcrdns\"?"
            ])
    }

    @Test func badDNSBLZone() {
        let yaml = example("  policy: fcrdns-strict", "  policy: {checks: [\"dnsbl:bad zone\"]}")
        #expect(
            loadErrors(yaml: yaml) == [
                "Scenarios/rdns.yaml:19:21: receiver.policy.checks[0]: dnsbl zone \"bad zone\" is not a valid domain name (dnsbl:ZONE, such as dnsbl:bl.example.test)"
            ])
    }

    @Test func unknownKeys() {
        #expect(
            loadErrors(yaml: example("tags: [ipv6, ptr]\n", "tags: [ipv6, ptr]\ntimeout: 5\n")) == [
                "Scenarios/rdns.yaml:6:1: timeout: unknown key \"timeout\" (known here: name, include, description, tags, dns, receiver, sender, expect, variants)"
            ])
        #expect(
            loadErrors(yaml: example("  hostname: mx.example.test", "  hostnme: mx.example.test")) == [
                "Scenarios/rdns.yaml:17:3: receiver.hostnme: unknown key \"hostnme\" (known here: hostname, addresses, target, policy, bare_newline, proxy_protocol, xclient_hosts, tls, engines, rspamd, resolver); did you mean \"hostname\"?"
            ])
        #expect(
            loadErrors(yaml: example("  code: 550", "  code: 550\n  reply: 550")) == [
                "Scenarios/rdns.yaml:32:3: expect.reply: unknown key \"reply\" (known here: outcome, family, stage, code, enhanced, text, attempts, messages_accepted, tls)"
            ])
    }

    @Test func wrongTypes() {
        #expect(
            loadErrors(yaml: example("tags: [ipv6, ptr]", "tags: ipv6")) == [
                "Scenarios/rdns.yaml:5:7: tags: expected a list of strings, found the scalar \"ipv6\""
            ])
        #expect(
            loadErrors(yaml: example("  helo: mail.sender.test", "  helo: {name: mail.sender.test}")) == [
                "Scenarios/rdns.yaml:23:9: sender.helo: expected an EHLO argument, found a map"
            ])
        #expect(
            loadErrors(yaml: example("receiver:\n  hostname", "receiver: [a]\nreceiver_old:\n  hostname")).first
                == "Scenarios/rdns.yaml:16:11: receiver: expected the receiver (a map of keys), found a list")
        #expect(
            loadErrors(yaml: "- just\n- a list\n", file: "l.yaml") == [
                "l.yaml:1:1: a scenario is a map of keys (dns, receiver, sender, expect, ...); found a list"
            ])
    }

    @Test func missingRequiredKeys() {
        let noSender = example(
            "sender:\n  addresses: {ipv6: \"2001:db8:5::25\"}\n  helo: mail.sender.test\n  mail_from: alice@sender.test\n  rcpt_to: [bob@example.test]\n",
            "")
        #expect(
            loadErrors(yaml: noSender) == [
                "Scenarios/rdns.yaml:1:1: sender: required key is missing: the sending MTA (sender: {addresses, helo, mail_from, rcpt_to})"
            ])
        #expect(
            loadErrors(yaml: example("  helo: mail.sender.test\n", "")) == [
                "Scenarios/rdns.yaml:22:3: sender.helo: required key is missing: the EHLO argument (a host name or an address literal such as [IPv6:2001:db8::25])"
            ])
        #expect(
            loadErrors(yaml: example("  mail_from: alice@sender.test", "  mail_from:")) == [
                "Scenarios/rdns.yaml:24:13: sender.mail_from: required, but has no value: the envelope sender (\"\" for the null sender <>)"
            ])
        #expect(
            loadErrors(yaml: example("  addresses: {ipv6: \"2001:db8:5::25\"}", "  addresses: {}")) == [
                "Scenarios/rdns.yaml:22:14: sender.addresses: the sender needs a source address for at least one family (ipv4 or ipv6)"
            ])
    }

    @Test func badAddresses() {
        #expect(
            loadErrors(yaml: example("\"2001:db8::10\"]", "\"2001:db8::1g\"]")) == [
                "Scenarios/rdns.yaml:18:27: receiver.addresses[1]: \"2001:db8::1g\" is not an IP address (IPv4 dotted quad such as 192.0.2.10, or IPv6 such as 2001:db8::10)"
            ])
        #expect(
            loadErrors(yaml: example("{ipv6: \"2001:db8:5::25\"}", "{ipv4: \"2001:db8:5::25\"}")) == [
                "Scenarios/rdns.yaml:22:21: sender.addresses.ipv4: 2001:db8:5::25 is an IPv6 address, but this key is for IPv4"
            ])
    }

    @Test func badRecordLinesPointIntoTheLine() {
        // A plain scalar is on the line as written: the column is the file's own.
        #expect(
            loadErrors(yaml: example("- mx.example.test. A 192.0.2.10", "- mx.example.test. A 192.0.2.999")) == [
                "Scenarios/rdns.yaml:10:26: dns.records[1]: bad record \"mx.example.test. A 192.0.2.999\": \"192.0.2.999\" is not an IPv4 address"
            ])
        #expect(
            loadErrors(yaml: example("- mx.example.test. AAAA 2001:db8::10", "- mx.example.test. AAA 2001:db8::10"))
                == [
                    "Scenarios/rdns.yaml:11:24: dns.records[2]: bad record \"mx.example.test. AAA 2001:db8::10\": unknown record type \"AAA\" (expected A, AAAA, PTR, MX, TXT, CNAME, NS, SOA or TLSA)"
                ])
        // A quoted scalar is not: the item's position, and the column inside the record.
        #expect(
            loadErrors(yaml: example("- mx.example.test. A 192.0.2.10", "- \"mx.example.test. A 192.0.2.999\"")) == [
                "Scenarios/rdns.yaml:10:7: dns.records[1]: bad record \"mx.example.test. A 192.0.2.999\": \"192.0.2.999\" is not an IPv4 address (at column 20 of the record)"
            ])
        // `: ` inside a plain line makes YAML read a map.
        #expect(
            loadErrors(yaml: example("- mx.example.test. A 192.0.2.10", "- 2001:db8:: PTR mx.example.test.")) == [
                "Scenarios/rdns.yaml:10:7: dns.records[1]: expected a zone-file line, found a map: YAML reads \": \" inside a plain line as a key; quote the whole line"
            ])
    }

    @Test func unknownNames() {
        #expect(
            loadErrors(yaml: example("  policy: fcrdns-strict", "  policy: fcrdns-strct")) == [
                "Scenarios/rdns.yaml:19:11: receiver.policy: unknown preset \"fcrdns-strct\" (known: open, reverse, fcrdns, fcrdns-strict, helo-strict, ipv6-strict, gmail-like, microsoft-like, microsoft-like-dkim, gmx-like); did you mean \"fcrdns-strict\"?"
            ])
        #expect(
            loadErrors(
                yaml: example(
                    "    # no PTR for 2001:db8:5::25", "  faults:\n    - {name: x.example.test, fault: brokn}")) == [
                    "Scenarios/rdns.yaml:15:37: dns.faults[0].fault: unknown fault kind \"brokn\" (known: nxdomain, servfail, refused, timeout)"
                ])
        #expect(
            loadErrors(yaml: example("  outcome: bounced", "  outcome: bouncd")) == [
                "Scenarios/rdns.yaml:28:12: expect.outcome: unknown outcome \"bouncd\" (known: delivered, bounced, deferred); did you mean \"bounced\"?"
            ])
        #expect(
            loadErrors(yaml: example("  stage: rcpt", "  stage: rcp")) == [
                "Scenarios/rdns.yaml:30:10: expect.stage: unknown stage \"rcp\" (known: connect, greeting, helo, mail, rcpt, data); did you mean \"rcpt\"?"
            ])
        #expect(
            loadErrors(yaml: example("  family: ipv6", "  family: ipv5")) == [
                "Scenarios/rdns.yaml:29:11: expect.family: unknown family \"ipv5\" (known: ipv4, ipv6); did you mean \"ipv4\"?"
            ])
        #expect(
            loadErrors(yaml: example("  policy: fcrdns-strict", "  policy: fcrdns-strict\n  target: qmail")) == [
                "Scenarios/rdns.yaml:20:11: receiver.target: unknown receiver target \"qmail\" (known: builtin, postfix)"
            ])
        #expect(
            loadErrors(yaml: example("  helo: mail.sender.test", "  helo: mail.sender.test\n  mta: sendmail")) == [
                "Scenarios/rdns.yaml:24:8: sender.mta: unknown sending MTA \"sendmail\" (known: builtin, postfix)"
            ])
        #expect(
            loadErrors(yaml: example("  code: 550", "  code: 550\n  attempts: [{family: ipv6, result: refused}]")) == [
                "Scenarios/rdns.yaml:32:37: expect.attempts[0].result: unknown attempt result \"refused\" (known: accepted, rejected, tempfailed, unreachable)"
            ])
    }

    @Test func badPatterns() {
        #expect(
            loadErrors(yaml: example("  code: 550", "  code: 5.5")) == [
                "Scenarios/rdns.yaml:31:9: expect.code: \"5.5\" is not a reply code: three digits, x for any digit (550, 55x, 5xx), the first 2 to 5"
            ])
        #expect(
            loadErrors(yaml: example("  enhanced: 5.7.25", "  enhanced: 5.7")) == [
                "Scenarios/rdns.yaml:32:13: expect.enhanced: \"5.7\" is not an enhanced status code: class.subject.detail (RFC 3463), x for any component (5.7.25, 5.7.x)"
            ])
        let errors = loadErrors(yaml: example("  text: cannot find your hostname", "  text: /(unclosed/"))
        #expect(errors.count == 1)
        #expect(
            errors.first?.hasPrefix("Scenarios/rdns.yaml:33:9: expect.text: invalid regular expression /(unclosed/: ")
                == true)
    }

    @Test func yamlSyntax() {
        // libyaml reports where it found the token it did not expect: the next key after the open list.
        #expect(
            loadErrors(yaml: example("\"2001:db8::10\"]", "\"2001:db8::10\"")) == [
                "Scenarios/rdns.yaml:19:3: YAML syntax error: did not find expected ',' or ']' (while parsing a flow sequence at line 18, column 14)"
            ])
        #expect(
            loadErrors(yaml: example("tags: [ipv6, ptr]\n", "tags: [ipv6, ptr]\ntags: [x]\n")) == [
                "Scenarios/rdns.yaml:6:1: duplicate key \"tags\" in one map, first at line 5: each key may appear once (the later one would silently win)"
            ])
        #expect(
            loadErrors(yaml: example("  helo: mail.sender.test", "  helo: a.test\n  prefer: ipv6\n  helo: b.test")) == [
                "Scenarios/rdns.yaml:25:3: duplicate key \"helo\" in one map, first at line 23: each key may appear once (the later one would silently win)"
            ])
        #expect(
            loadErrors(yaml: "tags: {a: 1, a: 2}\n", file: "f.yaml") == [
                "f.yaml:1:8: duplicate key \"a\" in one map: each key may appear once (the later one would silently win)"
            ])
        #expect(
            loadErrors(yaml: "dns:\n\t records: []\n", file: "t.yaml") == [
                "t.yaml:2:1: YAML syntax error: found character that cannot start any token (while scanning for the next token at line 2, column 1)"
            ])
    }

    @Test func badNameStillReportsTheRest() {
        let yaml = example("name: ipv6-sender-without-ptr", "name: {a: b}").replacingOccurrences(
            of: "  outcome: bounced", with: "  outcome: lost")
        #expect(
            loadErrors(yaml: yaml) == [
                "Scenarios/rdns.yaml:1:7: name: expected a case name, found a map",
                "Scenarios/rdns.yaml:28:12: expect.outcome: unknown outcome \"lost\" (known: delivered, bounced, deferred)",
            ])
    }

    @Test func variantWithoutName() {
        let yaml = example(
            "expect:\n  outcome: bounced",
            "variants:\n  - expect: {outcome: delivered}\n  - name: ok\nexpect:\n  outcome: bounced")
        #expect(
            loadErrors(yaml: yaml) == [
                "Scenarios/rdns.yaml:28:5: variants[0].name: required key is missing: every variant needs a name (its case is called ipv6-sender-without-ptr/NAME)"
            ])
        let nested = example(
            "expect:\n  outcome: bounced", "variants:\n  - name: a\n    variants: []\nexpect:\n  outcome: bounced")
        #expect(
            loadErrors(yaml: nested) == [
                "Scenarios/rdns.yaml:29:5: variants[0].variants: a variant cannot have variants of its own; make it a scenario of its own"
            ])
    }

    @Test func errorsInsideVariantsPointAtTheVariant() {
        let yaml = example(
            "expect:\n  outcome: bounced",
            "variants:\n  - name: v\n    receiver: {policy: opn}\nexpect:\n  outcome: bounced")
        #expect(
            loadErrors(yaml: yaml) == [
                "Scenarios/rdns.yaml:29:24: receiver.policy: unknown preset \"opn\" (known: open, reverse, fcrdns, fcrdns-strict, helo-strict, ipv6-strict, gmail-like, microsoft-like, microsoft-like-dkim, gmx-like); did you mean \"open\"?"
            ])
    }

    @Test func duplicateNamesAcrossFilesNameBothPlaces() throws {
        let doc = minimalWorld + "\nexpect: {outcome: delivered}\n"
        let folder = try ScenarioFolder([
            "a.yaml": doc, "c.yaml": "name: same\n" + doc, "sub/a.yaml": doc, "sub/b.yaml": "\nname: same\n" + doc,
        ])
        let errors = loadErrors({ () throws(ScenarioLoadError) in try ScenarioLoader().load(paths: [folder.path]) })
        #expect(
            errors.map(\.description) == [
                "\(folder.file("sub/a.yaml")):1:1: name: duplicate case name \"a\", also at \(folder.file("a.yaml")):1:1; case names must be unique in a run (give one a different name:)",
                "\(folder.file("sub/b.yaml")):2:7: name: duplicate case name \"same\", also at \(folder.file("c.yaml")):1:7; case names must be unique in a run (give one a different name:)",
            ])
        #expect(errors.map(\.code) == [.duplicateName, .duplicateName])
    }

    @Test func includeNotFoundAndCycles() throws {
        let doc = minimalWorld + "\nexpect: {outcome: delivered}\n"
        let folder = try ScenarioFolder([
            "missing.yaml": "include: [_profiles/nothere.yaml]\n" + doc,
            "self.yaml": "include: [self.yaml]\n" + doc,
            "cycle.yaml": "include: [_profiles/a.yaml]\n" + doc,
            "_profiles/a.yaml": "include: [b.yaml]\ntags: [a]\n",
            "_profiles/b.yaml": "tags: [b]\ninclude:\n  - a.yaml\n",
        ])
        let errors = loadErrors({ () throws(ScenarioLoadError) in try ScenarioLoader().load(paths: [folder.path]) })
        let real = try #require(
            realpath(folder.path, nil).map { pointer in
                defer { free(pointer) }; return String(cString: pointer)
            })
        #expect(
            errors.map(\.description) == [
                "\(folder.file("_profiles/b.yaml")):3:5: include[0]: include cycle: \(real)/_profiles/a.yaml → \(real)/_profiles/b.yaml → \(real)/_profiles/a.yaml; a profile cannot include itself",
                "\(folder.file("missing.yaml")):1:11: include[0]: cannot include \"_profiles/nothere.yaml\": no file \(folder.file("_profiles/nothere.yaml")) (include paths are relative to the including file, \(folder.file("missing.yaml")))",
                "\(folder.file("self.yaml")):1:11: include[0]: include cycle: \(real)/self.yaml → \(real)/self.yaml; a profile cannot include itself",
            ])
        #expect(errors.allSatisfy { $0.code == .include })
    }

    @Test func allErrorsOfAllFilesAreCollected() throws {
        let folder = try ScenarioFolder([
            "one.yaml": "dns: {}\nreceiver: {addresses: [bad]}\nsender: x\nexpect: {outcome: nope}\n",
            "two.yaml": "key: [unclosed\n",
            "three.yaml": minimalWorld + "\nexpect: {outcome: delivered}\n",
        ])
        let errors = loadErrors({ () throws(ScenarioLoadError) in try ScenarioLoader().load(paths: [folder.path]) })
        #expect(
            errors.map {
                "\($0.location.line):\($0.location.column) \($0.keyPath.isEmpty ? "-" : $0.keyPath) \($0.code)"
            } == [
                "2:24 receiver.addresses[0] invalid-value",
                "3:9 sender wrong-type",
                "4:19 expect.outcome invalid-value",
                "2:1 - syntax",
            ])
        #expect(
            errors.map { URL(fileURLWithPath: $0.location.file).lastPathComponent } == [
                "one.yaml", "one.yaml", "one.yaml", "two.yaml",
            ])
        let error = ScenarioLoadError(diagnostics: errors)
        #expect(error.description.split(separator: "\n").count == 5)
        #expect(error.description.hasSuffix("4 errors in 2 files of scenarios; fix them and load again"))
    }

    @Test func unreadableInputs() throws {
        let folder = try ScenarioFolder(["notes.txt": "x", "_profiles/p.yaml": "tags: [x]\n"])
        try Data([0x6e, 0x61, 0x6d, 0x65, 0x3a, 0x0a, 0x20, 0x20, 0x78, 0xff, 0x0a]).write(
            to: URL(fileURLWithPath: folder.file("latin1.yaml")))
        let errors = loadErrors({ () throws(ScenarioLoadError) in
            try ScenarioLoader().load(paths: [
                folder.file("nothing.yaml"), folder.file("notes.txt"), folder.file("_profiles/p.yaml"),
                folder.file("latin1.yaml"),
            ])
        })
        #expect(
            errors.map(\.description) == [
                "\(folder.file("nothing.yaml")):1:1: no such file or folder",
                "\(folder.file("notes.txt")):1:1: not a scenario file: scenario files end in .yaml or .yml",
                "\(folder.file("_profiles/p.yaml")):1:1: this is a profile (it is under a folder named _profiles), not a scenario: give a scenario that includes it",
                "\(folder.file("latin1.yaml")):2:4: not UTF-8 text (byte 0xff at offset 9); scenario files are UTF-8",
            ])
    }
}

/// Format 1.1: the policy map's `reject_at: greeting` and `reply`, and `sender.postfix`.
@Suite struct PolicyMapReplyLoadTests {
    func with(_ policy: String) -> String {
        formatExample.replacingOccurrences(of: "  policy: fcrdns-strict", with: "  policy: \(policy)")
    }

    @Test func aReplyAndAGreetingLoad() throws {
        let yaml = with(
            "{checks: [fcrdns], reject_at: greeting, reply: {code: 554, enhanced: 5.7.1, text: \"Bad DNS PTR resource record\"}}"
        )
        let policy = try #require(try ScenarioLoader().load(yaml: yaml, file: "Scenarios/rdns.yaml").first).receiver
            .policy
        #expect(policy.rejectAt == .greeting)
        #expect(
            policy.siteReply?.code == 554 && policy.siteReply?.enhanced == "5.7.1"
                && policy.siteReply?.text == "Bad DNS PTR resource record")
    }

    @Test func aReplyCodeThatDisagreesWithOnFailIsAnErrorAtTheCode() {
        #expect(
            loadErrors(yaml: with("{checks: [fcrdns], on_fail: defer, reply: {code: 554, text: \"no\"}}")) == [
                "Scenarios/rdns.yaml:19:60: receiver.policy.reply.code: reply code 554 does not agree with on_fail: defer (defer answers 4xx); set on_fail: reject or a 4xx code"
            ])
        #expect(
            loadErrors(yaml: with("{checks: [fcrdns], reply: {code: 421, text: \"no\"}}")) == [
                "Scenarios/rdns.yaml:19:44: receiver.policy.reply.code: reply code 421 does not agree with on_fail: reject (reject answers 5xx); set on_fail: defer or a 5xx code"
            ])
    }

    @Test func badReplyValues() {
        #expect(
            loadErrors(yaml: with("{checks: [fcrdns], reply: {code: 250, text: \"no\"}}")) == [
                "Scenarios/rdns.yaml:19:44: receiver.policy.reply.code: \"250\" is not a failure reply code: three digits, 4xx or 5xx (554, 421)"
            ])
        #expect(
            loadErrors(yaml: with("{checks: [fcrdns], reply: {code: 550, enhanced: 4.7.1, text: \"no\"}}")) == [
                "Scenarios/rdns.yaml:19:59: receiver.policy.reply.enhanced: enhanced code 4.7.1 is of class 4 but the code 550 of class 5; they must agree (RFC 3463 2)"
            ])
        #expect(
            loadErrors(yaml: with("{checks: [fcrdns], reply: {code: 550}}")) == [
                "Scenarios/rdns.yaml:19:37: receiver.policy.reply.text: required key is missing: the reply text (\"Bad DNS PTR resource record\")"
            ])
    }

    @Test func rejectAtHELOAndMAILLoad() throws {
        for stage in [RejectStage.helo, .mail] {
            let yaml = with("{checks: [fcrdns, helo-fqdn], reject_at: \(stage.rawValue)}")
            let policy = try #require(try ScenarioLoader().load(yaml: yaml, file: "Scenarios/rdns.yaml").first).receiver
                .policy
            #expect(policy.rejectAt == stage)
        }
        #expect(
            try ScenarioLoader().load(yaml: with("{checks: [spf], reject_at: mail}"), file: "Scenarios/rdns.yaml")
                .first?.receiver.policy.rejectAt == .mail)
    }

    @Test func aHELORejectCannotRunSPF() {
        #expect(
            loadErrors(yaml: with("{checks: [fcrdns, spf-pass], reject_at: helo}")) == [
                "Scenarios/rdns.yaml:19:51: receiver.policy.reject_at: reject_at: helo answers before MAIL FROM, so check spf-pass has no envelope sender to check there (use reject_at: mail or rcpt)"
            ])
    }

    @Test func aGreetingRejectCannotRunHELOOrSPFChecks() {
        #expect(
            loadErrors(yaml: with("{checks: [fcrdns, spf], reject_at: greeting}")) == [
                "Scenarios/rdns.yaml:19:46: receiver.policy.reject_at: reject_at: greeting answers before HELO and MAIL FROM, so check spf cannot run there; at the greeting only ptr, fcrdns and dnsbl:ZONE can (use reject_at: rcpt for the others)"
            ])
    }
}
