import Policy
import Scenario

/// Scenario keys that describe Postfix's own behaviour, which the built-in MX and the Postfix
/// target model and the policy translations for other MTAs do not (yet) express: such a case is
/// skipped on those MTAs with the reason, never run against a receiver that means something else.
func untranslatedFeature(of scenario: ScenarioCase, on mta: String) -> String? {
    if scenario.receiver.policy.rejectAt == .greeting {
        return "reject_at: greeting is not translated for \(mta) (the built-in MX answers at the greeting; the case's expect is written for that)"
    }
    if let mode = scenario.receiver.bareNewline {
        return "receiver.bare_newline: \(mode) is Postfix's smtpd_forbid_bare_newline mode; \(mta) handles a bare <LF> its own way"
    }
    if scenario.expect.messagesAccepted != nil {
        return "expect.messages_accepted is counted on the built-in MX and Postfix only"
    }
    return nil
}
