import Postfix
import Runner
import RunnerTestKit

/// The built-in parts with Postfix as a receiver (`receivers`: its options, as `--postfix-config`,
/// `--postfix-config-dir` and `--fresh-postfix` set them) and as a sender.
func postfixParts(_ receivers: PostfixReceivers = PostfixReceivers()) -> PartCatalog {
    builtinParts.adding(receivers).adding(PostfixSenders())
}

/// What scenarios may name and set with those parts: the core and Postfix's own keys
/// (`receiver.postfix`, `receiver.postfix_dir`).
let postfixKinds = postfixParts().scenarioKinds
