import PostfixTarget
import Scenario

extension CaseRunner {
    /// The Postfix preflight (`PostfixPreflight`) of every configuration source the Postfix cases
    /// of `cases` use (a site's folder, a `--postfix-config` file), once each, before any case
    /// runs. Cases with neither (the harness's own main.cf) need none.
    public func postfixPreflight(_ cases: [ScenarioCase]) async -> [PostfixPreflightReport] {
        var reports: [PostfixPreflightReport] = []
        var checked: Set<String> = []
        for scenario in cases where target(for: scenario) == .postfix {
            let postfix = postfixConfiguration(for: scenario)
            guard postfix.unsupportedReason == nil else { continue }
            let source: String
            if let site = postfix.site {
                source = site.path
            } else if let base = postfix.base {
                source = base.source ?? "--postfix-config"
            } else {
                continue
            }
            guard checked.insert(source).inserted else { continue }
            reports.append(await PostfixPreflight.check(postfix, source: source, logger: logger))
        }
        return reports
    }
}
