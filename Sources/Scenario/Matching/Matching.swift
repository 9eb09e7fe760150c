import DNSCore
import SMTPProtocol

/// What happened to one delivery, in the terms `expect` is written in.
public struct ObservedDelivery: Sendable, Hashable {
    public var outcome: DeliveryOutcome
    /// The family of the attempt that decided the outcome.
    public var family: AddressFamily?
    /// Where the deciding reply came.
    public var stage: SMTPStage?
    /// The deciding reply; nil when no server answered (every address unreachable).
    public var reply: SMTPReply?
    public var attempts: [ObservedAttempt]
    /// How many messages the receiver accepted; nil when the receiver did not say.
    public var messagesAccepted: Int?
    /// The deciding session ran over TLS; nil when no session decided.
    public var tls: Bool?

    public init(
        outcome: DeliveryOutcome, family: AddressFamily? = nil, stage: SMTPStage? = nil, reply: SMTPReply? = nil,
        attempts: [ObservedAttempt] = [],
        messagesAccepted: Int? = nil
    ) {
        self.messagesAccepted = messagesAccepted
        self.outcome = outcome
        self.family = family
        self.stage = stage
        self.reply = reply
        self.attempts = attempts
    }
}

/// One connection attempt of a delivery.
public struct ObservedAttempt: Sendable, Hashable, CustomStringConvertible {
    public var family: AddressFamily
    public var result: AttemptResult
    public var stage: SMTPStage?
    public var reply: SMTPReply?

    public init(family: AddressFamily, result: AttemptResult, stage: SMTPStage? = nil, reply: SMTPReply? = nil) {
        self.family = family
        self.result = result
        self.stage = stage
        self.reply = reply
    }

    /// `ipv6 tempfailed at rcpt 450 4.7.25`.
    public var description: String {
        var parts = [family.rawValue, result.rawValue]
        if let stage { parts.append("at \(stage)") }
        if let reply {
            parts.append(String(reply.code))
            if let enhanced = reply.enhanced { parts.append(enhanced) }
        }
        return parts.joined(separator: " ")
    }
}

/// One key of `expect` that did not hold.
public struct Mismatch: Sendable, Hashable, CustomStringConvertible {
    /// The key as written in `expect`: `code`, `attempts`, `attempts[1].result`.
    public var key: String
    public var expected: String
    public var got: String

    public init(key: String, expected: String, got: String) {
        self.key = key
        self.expected = expected
        self.got = got
    }

    /// `code: expected 550, got 450`.
    public var description: String { "\(key): expected \(expected), got \(got)" }
}

extension Expectation {
    /// The keys given in this expectation that `observed` does not satisfy, in the order of the
    /// format's table; empty when the expectation holds. Keys not given are not checked.
    public func mismatches(_ observed: ObservedDelivery) -> [Mismatch] {
        var out: [Mismatch] = []
        if let outcome, outcome != observed.outcome {
            out.append(Mismatch(key: "outcome", expected: outcome.rawValue, got: observed.outcome.rawValue))
        }
        if let family, family != observed.family {
            out.append(
                Mismatch(
                    key: "family", expected: family.rawValue,
                    got: observed.family?.rawValue ?? "none (no attempt decided)"))
        }
        if let stage, stage != observed.stage {
            out.append(
                Mismatch(
                    key: "stage", expected: stage.rawValue, got: observed.stage?.rawValue ?? "none (no attempt decided)"
                ))
        }
        out += Self.replyMismatches(prefix: "", code: code, enhanced: enhanced, text: text, reply: observed.reply)
        if let attempts {
            out += Self.attemptMismatches(attempts, observed.attempts)
        }
        if let tls, tls != observed.tls {
            out.append(
                Mismatch(
                    key: "tls", expected: tls ? "true (over TLS)" : "false (in plaintext)",
                    got: observed.tls.map { $0 ? "true (over TLS)" : "false (in plaintext)" } ?? "no session decided"))
        }
        if let messagesAccepted, messagesAccepted != observed.messagesAccepted {
            out.append(
                Mismatch(
                    key: "messages_accepted", expected: String(messagesAccepted),
                    got: observed.messagesAccepted.map(String.init) ?? "unknown (the receiver does not say)"))
        }
        return out
    }

    static func replyMismatches(
        prefix: String, code: CodePattern?, enhanced: EnhancedPattern?, text: TextMatcher?, reply: SMTPReply?
    ) -> [Mismatch] {
        var out: [Mismatch] = []
        if let code, !(reply.map { code.matches($0.code) } ?? false) {
            out.append(
                Mismatch(key: prefix + "code", expected: code.pattern, got: reply.map { String($0.code) } ?? "no reply")
            )
        }
        if let enhanced, !enhanced.matches(reply?.enhanced) {
            let got = reply.map { $0.enhanced ?? "no enhanced code (reply \($0.description))" } ?? "no reply"
            out.append(Mismatch(key: prefix + "enhanced", expected: enhanced.description, got: got))
        }
        if let text, !(reply.map { text.matches($0.text) } ?? false) {
            let expected: String
            switch text {
            case .substring(let needle): expected = "text containing \"\(needle)\""
            case .regex(let pattern): expected = "text matching /\(pattern)/"
            }
            out.append(
                Mismatch(key: prefix + "text", expected: expected, got: reply.map { "\"\($0.text)\"" } ?? "no reply"))
        }
        return out
    }

    static func attemptMismatches(_ expected: [ExpectedAttempt], _ observed: [ObservedAttempt]) -> [Mismatch] {
        var out: [Mismatch] = []
        if expected.count != observed.count {
            let list = observed.isEmpty ? "" : " (" + observed.map(\.description).joined(separator: "; ") + ")"
            out.append(
                Mismatch(key: "attempts", expected: Self.count(expected.count), got: Self.count(observed.count) + list))
        }
        for (index, (want, got)) in zip(expected, observed).enumerated() {
            let prefix = "attempts[\(index)]."
            if want.family != got.family {
                out.append(Mismatch(key: prefix + "family", expected: want.family.rawValue, got: got.family.rawValue))
            }
            if want.result != got.result {
                out.append(Mismatch(key: prefix + "result", expected: want.result.rawValue, got: got.result.rawValue))
            }
            if let stage = want.stage, stage != got.stage {
                out.append(
                    Mismatch(key: prefix + "stage", expected: stage.rawValue, got: got.stage?.rawValue ?? "none"))
            }
            out += replyMismatches(
                prefix: prefix, code: want.code, enhanced: want.enhanced, text: nil, reply: got.reply)
        }
        return out
    }

    private static func count(_ n: Int) -> String { n == 1 ? "1 attempt" : "\(n) attempts" }
}
