import Scenario
import Testing
import MXHarnessTestKit

/// A kind's own key as the loader reads it: decoded by the kind, kept opaque in the model by name,
/// written by `explain`, its problems at file:line:column under the key's path.
@Suite struct KindKeyTests {
    /// `receiver.banner: {text: TEXT}`, a key of a kind these tests make up.
    struct Banner: PartSettings, Equatable {
        var text: String

        var explained: ExplainedValue? { .flowMap([ExplainedEntry("text", .plain(text))]) }

        static let key = ScenarioKey(.receiver, "banner") { value in
            guard let map = value.map(what: "a banner ({text: TEXT})") else { return nil }
            let text = map.optional("text")
            map.finish()
            guard let text else {
                value.invalid("a banner needs its text")
                return nil
            }
            guard let words = text.nonEmptyString(what: "the banner's text") else { return nil }
            guard !words.contains("\n") else {
                text.invalid("a banner is one line")
                return nil
            }
            return Banner(text: words)
        }
    }

    let kinds = ScenarioKinds(
        receivers: [.builtin, ReceiverTarget(named: "bannered")], senders: [.builtin], keys: [Banner.key])

    func yaml(_ lines: String) -> String {
        formatExample.replacingOccurrences(of: "  policy: fcrdns-strict", with: "  policy: fcrdns-strict\n" + lines)
    }

    func problems(_ yaml: String, kinds: ScenarioKinds) -> [String] {
        loadErrors({ () throws(ScenarioLoadError) in
            try ScenarioLoader(kinds: kinds).load(yaml: yaml, file: "Scenarios/rdns.yaml")
        })
        .map(\.description)
    }

    @Test func theKindReadsItsKey() throws {
        let text = yaml("  target: bannered\n  banner: {text: hello there}")
        let c = try #require(try ScenarioLoader(kinds: kinds).load(yaml: text, file: "a.yaml").first)
        #expect(c.receiver.target == ReceiverTarget(named: "bannered"))
        #expect(c.receiver.settings("banner") == Banner(text: "hello there"))
        #expect(explain(c).contains("  banner: {text: hello there}\n"), "\(explain(c))")
        let back = try #require(try ScenarioLoader(kinds: kinds).load(yaml: explain(c), file: "a.yaml").first)
        #expect(back.receiver.settings("banner") == Banner(text: "hello there"))
    }

    @Test func anAbsentKeyIsNotSet() throws {
        let c = try #require(try ScenarioLoader(kinds: kinds).load(yaml: formatExample, file: "a.yaml").first)
        #expect(c.receiver.settings("banner", as: Banner.self) == nil)
        #expect(!explain(c).contains("banner"))
    }

    @Test func theKindsProblemsNameFileLineColumnAndKey() {
        #expect(
            problems(yaml("  banner: {text: \"a\\nb\"}"), kinds: kinds) == [
                "Scenarios/rdns.yaml:20:18: receiver.banner.text: a banner is one line"
            ])
        #expect(
            problems(yaml("  banner: {txt: a}"), kinds: kinds) == [
                "Scenarios/rdns.yaml:20:12: receiver.banner.txt: unknown key \"txt\" (known here: text); did you mean \"text\"?",
                "Scenarios/rdns.yaml:20:11: receiver.banner: a banner needs its text",
            ])
    }

    @Test func withoutTheKindItsNameAndKeyAreUnknown() {
        #expect(
            problems(yaml("  target: bannered\n  banner: {text: hi}"), kinds: .core) == [
                "Scenarios/rdns.yaml:20:11: receiver.target: unknown receiver target \"bannered\" (known: builtin, postfix)",
                "Scenarios/rdns.yaml:21:3: receiver.banner: unknown key \"banner\" (known here: hostname, addresses, target, policy, bare_newline, proxy_protocol, xclient_hosts, tls, engines, rspamd, resolver)",
            ])
    }
}
