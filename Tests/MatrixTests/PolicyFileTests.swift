import Matrix
import Policy
import Testing

struct PolicyFileTests {
    @Test func theMapFormReadsAsReceiverPolicyDoes() throws {
        let file = try PolicyFile.parse(
            """
            name: strict-v6
            description: >
              Our MX after the change.
            policy:
              checks: [fcrdns]
              ipv6: [fcrdns, spf-pass, "dnsbl:bl.example.test"]
              reject_at: data
              on_fail: reject
            """, file: "policies/v6.yaml")
        #expect(file.name == "strict-v6")
        #expect(file.description == "Our MX after the change.")
        #expect(
            file.policy
                == ReceiverPolicy(
                    ipv4: [.fcrdns], ipv6: [.fcrdns, .spfPass, .dnsbl(zone: "bl.example.test")], rejectAt: .data,
                    onFail: .reject))
    }

    @Test func aPresetNameIsAPolicyAndTheFileNameIsTheDefaultName() throws {
        let file = try PolicyFile.parse("policy: fcrdns-strict\n", file: "policies/tight.yml")
        #expect(file.name == "tight")
        #expect(file.policy == Preset.fcrdnsStrict.policy)
        let open = try PolicyFile.parse("policy: {}\n", file: "open.yaml")
        #expect(open.policy == ReceiverPolicy())
    }

    @Test func mistakesAreReportedWithFileLineAndColumnAllAtOnce() {
        let text = """
            policy:
              ipv6: [fcrdns, fcrnds]
              on_fial: reject
              reject_at: connect
            colour: blue
            """
        #expect {
            try PolicyFile.parse(text, file: "p.yaml")
        } throws: { error in
            guard let error = error as? PolicyFileError else { return false }
            let lines = error.diagnostics.map(\.description)
            return lines.contains(
                "p.yaml:2:18: policy.ipv6[1]: unknown check \"fcrnds\" (known: ptr, fcrdns, helo-valid, helo-fqdn, helo-resolves, helo-matches, spf, spf-pass, dnsbl:ZONE, dkim, dmarc, spf-or-dkim); did you mean fcrdns?"
            )
                && lines.contains {
                    $0.hasPrefix("p.yaml:3:3: policy.on_fial: unknown key \"on_fial\"")
                        && $0.hasSuffix("did you mean on_fail?")
                }
                && lines.contains(
                    "p.yaml:4:14: policy.reject_at: unknown reject stage \"connect\" (known: rcpt, data, greeting, helo, mail)"
                )
                && lines.contains { $0.hasPrefix("p.yaml:5:1: colour: unknown key \"colour\"") }
                && error.description.hasSuffix("4 errors in the policy file; fix it and run again")
        }
    }

    @Test func wrongShapesAndSyntaxAreErrorsNotCrashes() {
        let cases: [(String, String)] = [
            ("", "the file is empty"),
            ("name: x\n", "missing key \"policy\""),
            ("policy: [fcrdns]\n", "expected a preset name"),
            ("policy: {ipv6: fcrdns}\n", "expected a list of checks"),
            ("policy: {ipv6: [[fcrdns]]}\n", "expected a check name"),
            ("policy: {ipv6: [\"dnsbl:not a zone\"]}\n", "dnsbl zone"),
            ("policy: fcrdns-strikt\n", "did you mean fcrdns-strict?"),
            ("policy: {ipv6: [fcrdns]\n", "YAML syntax"),
            ("- just\n- a list\n", "expected a policy file"),
            ("name: \"a,b\"\npolicy: open\n", "without commas"),
            ("policy: open\npolicy: fcrdns\n", "twice"),
        ]
        for (text, message) in cases {
            #expect(throws: PolicyFileError.self, "\(text)") { try PolicyFile.parse(text, file: "p.yaml") }
            do {
                _ = try PolicyFile.parse(text, file: "p.yaml")
            } catch {
                #expect(error.description.contains(message), "\(text): \(error.description)")
                #expect(error.description.hasPrefix("p.yaml:"), "\(error.description)")
            }
        }
    }

    @Test func aMissingFileSaysSo() {
        #expect { try PolicyFile.load(path: "/nonexistent/policy.yaml") } throws: {
            "\($0)".contains("/nonexistent/policy.yaml:1:1: cannot read this policy file")
        }
    }
}
