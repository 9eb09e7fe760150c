import Foundation
import MXHarnessTestKit
import Postfix
import Runner
import RunnerTestKit
import Scenario
import Testing

/// A site's whole Postfix configuration directory as the receiver (issue 25): real-world folders
/// from public mail-server projects (Sites/, provenance and licence beside each) pass the
/// preflight and run library themes; a missing table fails with the warning that names it; a
/// scenario names its own folder.
@Suite(
    .serialized,
    .enabled(
        if: IntegrationEnvironment.canRunWorlds && IntegrationEnvironment.hasPostfix,
        "needs root (network namespaces), unbound and postfix (apt-get install unbound postfix postfix-pcre); run as root"
    ))
struct PostfixSiteTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// Every `Sites/NAME/etc-postfix`.
    static let sites: [String] = {
        let root = repository + "/Tests/PostfixTests/Sites"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.sorted().map { root + "/" + $0 + "/etc-postfix" }.filter {
            FileManager.default.fileExists(atPath: $0 + "/main.cf")
        }
    }()

    @Test func thereAreSitesWithProvenanceAndLicence() {
        #expect(!Self.sites.isEmpty)
        for site in Self.sites {
            let folder = (site as NSString).deletingLastPathComponent
            #expect(FileManager.default.fileExists(atPath: folder + "/PROVENANCE.md"), "\(folder)")
            #expect(FileManager.default.fileExists(atPath: folder + "/LICENSE"), "\(folder)")
        }
    }

    @Test(arguments: sites)
    func aRealSitePassesThePreflightAndRunsTheReverseDNSAndHeloThemes(path: String) async throws {
        let site = PostfixSiteDirectory.load(path: path)
        #expect(site.problem == nil)
        let cases = try ScenarioLoader(kinds: postfixKinds).load(paths: [
            Self.repository + "/Scenarios/reverse-dns", Self.repository + "/Scenarios/helo",
        ])
        let runner = CaseRunner(
            configuration: RunConfiguration(target: .postfix), parts: postfixParts(PostfixReceivers(site: site)))
        let reports = await runner.postfixPreflight(cases)
        #expect(reports.count == 1, "one preflight for the one folder")
        for report in reports {
            print(report.text)
            #expect(report.canServeMail, "\(report.text)")
        }
        let results = await ScenarioRun(runner: runner, jobs: 2).run(cases)
        print(Self.table(results, site: path))
        #expect(results.count == cases.count)
        for result in results {
            if case .error(let message) = result.status { Issue.record("\(result.name): error: \(message)") }
            let reply = result.observed?.reply.map { "\($0.code) \($0.enhanced ?? "") \($0.text)" } ?? ""
            #expect(!reply.contains("Temporary lookup failure"), "\(result.name): \(reply)\n\(result.receiverLog)")
        }
        #expect(results.contains { $0.status == .passed })
        if let master = site.masterCF, SiteMasterCF.render(master).runsPostscreen {
            #expect(
                results.contains {
                    $0.receiverLog.contains("postfix/postscreen[") && $0.receiverLog.contains("CONNECT from")
                },
                "the cases go through the site's postscreen")
        }
    }

    @Test func aMissingTableFailsTheCaseAndTheReportShowsTheWarningThatNamesIt() async throws {
        try await Self.withFolder(["site/main.cf": "virtual_alias_maps = hash:/etc/postfix/virtual\n"]) { root in
            let site = PostfixSiteDirectory.load(path: root + "/site")
            let scenario = try PostfixPoolTests.scenario(
                "missing-table", checks: "fcrdns", extra: PostfixPoolTests.forwardConfirmed,
                expect: PostfixPoolTests.good)
            let runner = CaseRunner(
                configuration: RunConfiguration(), parts: postfixParts(PostfixReceivers(site: site)))
            let reports = await runner.postfixPreflight([scenario])
            let errors = reports.flatMap(\.errors)
            #expect(errors.map(\.location) == [site.path + "/main.cf:1"], "\(reports.map(\.text))")
            #expect(errors.first?.message.contains("hash:/etc/postfix/virtual") == true)
            let result = await runner.run(scenario)
            #expect(result.status == .failed, "\(result.status)")
            #expect(result.observed?.reply?.code == 451)
            #expect(
                result.observed?.reply?.text.contains("Temporary lookup failure") == true,
                "\(String(describing: result.observed))")
            let warnings = result.receiverLog.split(separator: "\n").filter {
                $0.contains(": warning: ") && $0.contains("/etc/postfix/virtual")
            }
            #expect(!warnings.isEmpty, "the reason comes with the failure:\n\(result.receiverLog)")
        }
    }

    @Test func aScenarioNamesItsSiteFolderAndTheSitesHashTableDecides() async throws {
        let yaml = """
            name: site-table
            dns:
              records:
                - example.test. MX 10 mx.example.test.
                - mx.example.test. A 192.0.2.10
                - mail.sender.test. A 203.0.113.25
                - 203.0.113.25 PTR mail.sender.test.
            receiver:
              hostname: mx.example.test
              addresses: [192.0.2.10]
              target: postfix
              postfix_dir: ../site
            sender:
              addresses: {ipv4: 203.0.113.25}
              helo: mail.sender.test
              mail_from: a@sender.test
              rcpt_to: [b@example.test]
            expect: {outcome: bounced, stage: rcpt, code: 554, text: the site says no}
            """
        try await Self.withFolder([
            "site/main.cf": "smtpd_recipient_restrictions = check_recipient_access hash:/etc/postfix/access, permit\n",
            "site/access": "b@example.test REJECT the site says no\n",
            "scenarios/site-table.yaml": yaml,
        ]) { root in
            let cases = try ScenarioLoader(kinds: postfixKinds).load(paths: [root + "/scenarios"])
            let runner = CaseRunner(configuration: RunConfiguration(), parts: postfixParts())
            #expect(await runner.postfixPreflight(cases).allSatisfy(\.canServeMail))
            let results = await ScenarioRun(runner: runner, jobs: 1).run(cases)
            #expect(
                results.map(\.status) == [.passed],
                "\(results.map { "\($0.status) \($0.mismatches) \($0.receiverLog)" })")
        }
    }

    /// A site whose master.cf trusts another XCLIENT host (`-o smtpd_authorized_xclient_hosts`,
    /// which beats main.cf): the case's `receiver.xclient_hosts` still decides, so the proxy the
    /// case names is let through and a proxy it does not name is refused.
    @Test func theCasesXCLIENTHostsBeatASitesMasterCFOption() async throws {
        let stock = try String(contentsOfFile: "/etc/postfix/master.cf", encoding: .utf8)
        var master = ""
        for line in stock.split(separator: "\n", omittingEmptySubsequences: false) {
            master += line + "\n"
            if line.hasPrefix("smtp ") && line.contains(" inet ") {
                master += "  -o smtpd_authorized_xclient_hosts=192.0.2.99\n"
            }
        }
        #expect(
            master.contains("-o smtpd_authorized_xclient_hosts=192.0.2.99"), "the stock master.cf has an smtp inet line"
        )
        func yaml(_ name: String, trusted: String) -> String {
            """
            name: \(name)
            dns:
              records:
                - example.test. MX 10 mx.example.test.
                - mx.example.test. A 192.0.2.10
                - mail.sender.test. A 203.0.113.25
            receiver:
              hostname: mx.example.test
              addresses: [192.0.2.10]
              target: postfix
              postfix_dir: ../site
              policy: fcrdns-strict
              xclient_hosts: [\(trusted)]
            sender:
              addresses: {ipv4: 203.0.113.25}
              identity: xclient
              proxy_address: 198.51.100.5
              xclient_name: mail.sender.test
              helo: mail.sender.test
              mail_from: a@sender.test
              rcpt_to: [b@example.test]
            expect: {outcome: \(trusted == "198.51.100.5" ? "delivered" : "bounced")}
            """
        }
        try await Self.withFolder([
            "site/main.cf": "smtpd_helo_required = yes\n",
            "site/master.cf": master,
            "scenarios/trusted.yaml": yaml("trusted", trusted: "198.51.100.5"),
            "scenarios/untrusted.yaml": yaml("untrusted", trusted: "198.51.100.6"),
        ]) { root in
            let cases = try ScenarioLoader(kinds: postfixKinds).load(paths: [root + "/scenarios"])
            let results = await ScenarioRun(
                runner: CaseRunner(configuration: RunConfiguration(), parts: postfixParts()), jobs: 1
            ).run(cases)
            #expect(
                results.map(\.status) == [.passed, .passed],
                "\(results.map { "\($0.name) \($0.status) \($0.mismatches) \($0.receiverLog)" })")
            #expect(results.last?.observed?.reply?.text == "Error: insufficient authorization")
        }
    }

    /// A temporary folder holding `files` (relative path: contents), removed afterwards.
    static func withFolder(_ files: [String: String], _ body: (String) async throws -> Void) async throws {
        let root = NSTemporaryDirectory() + "/mxh-test-site-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        for (path, contents) in files {
            let full = root + "/" + path
            try FileManager.default.createDirectory(
                atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try contents.write(toFile: full, atomically: true, encoding: .utf8)
        }
        try await body(root)
    }

    /// The outcome table, as `mxharness run` prints it, for the test output.
    static func table(_ results: [CaseResult], site: String) -> String {
        var out = "outcomes on \(site)\n"
        let width = max(40, results.map(\.name.count).max() ?? 0)
        out +=
            "case".padding(toLength: width + 2, withPad: " ", startingAt: 0)
            + "outcome    family  stage  code        verdict\n"
        func pad(_ text: String, _ length: Int) -> String {
            text.padding(toLength: length, withPad: " ", startingAt: 0)
        }
        for result in results {
            let observed = result.observed
            let code: String = observed?.reply.map { "\($0.code) \($0.enhanced ?? "")" } ?? "-"
            var line = pad(result.name, width + 2)
            line += pad(observed?.outcome.rawValue ?? "-", 11)
            line += pad(observed?.family.map { "\($0)" } ?? "-", 8)
            line += pad(observed?.stage?.rawValue ?? "-", 7)
            line += pad(code, 12)
            out += line + result.status.label + "\n"
        }
        return out
    }
}
