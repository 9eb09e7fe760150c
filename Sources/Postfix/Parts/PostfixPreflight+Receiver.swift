import Logging
import Runner
import Scenario

extension PostfixReceivers {
    /// The Postfix preflight (`PostfixPreflight`) of every configuration source the cases use (a
    /// site's folder, a `--postfix-config` file), once each. Cases with neither (the harness's own
    /// main.cf) need none.
    public func preflight(_ cases: [ScenarioCase], settings: RunConfiguration, logger: Logger) async
        -> [PreflightReport]
    {
        await postfixPreflight(cases, settings: settings, logger: logger).map {
            PreflightReport(text: $0.text, canServeMail: $0.canServeMail)
        }
    }

    /// The Postfix reports themselves, for callers that read their findings.
    public func postfixPreflight(_ cases: [ScenarioCase], settings: RunConfiguration, logger: Logger) async
        -> [PostfixPreflightReport]
    {
        var reports: [PostfixPreflightReport] = []
        var checked: Set<String> = []
        for scenario in cases {
            let postfix = configuration(for: scenario, settings: settings)
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

extension CaseRunner {
    /// The Postfix preflight of the cases that run on Postfix (the catalog's Postfix receivers).
    public func postfixPreflight(_ cases: [ScenarioCase]) async -> [PostfixPreflightReport] {
        guard let postfix = parts.receivers[.postfix] as? PostfixReceivers else { return [] }
        return await postfix.postfixPreflight(
            cases.filter { configuration.target(for: $0) == .postfix }, settings: configuration, logger: logger)
    }
}
