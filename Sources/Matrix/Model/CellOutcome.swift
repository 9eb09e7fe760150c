import DNSCore
import Foundation
import Runner
import SMTPProtocol
import Scenario

/// One attempt of a delivery, as the matrix compares and keeps it: `ipv6 tempfailed at rcpt 450 4.7.25`.
public struct AttemptSummary: Sendable, Hashable, CustomStringConvertible, Codable {
    public var family: AddressFamily
    public var result: AttemptResult
    public var stage: SMTPStage?
    public var code: Int?
    public var enhanced: String?

    public init(
        family: AddressFamily, result: AttemptResult, stage: SMTPStage? = nil, code: Int? = nil, enhanced: String? = nil
    ) {
        self.family = family
        self.result = result
        self.stage = stage
        self.code = code
        self.enhanced = enhanced
    }

    public var description: String {
        var parts = [family.rawValue, result.rawValue]
        if let stage { parts += ["at", stage.rawValue] }
        if let code { parts.append(String(code)) }
        if let enhanced { parts.append(enhanced) }
        return parts.joined(separator: " ")
    }

    /// Reads `description` back; nil when the text is not in that form.
    public init?(parsing text: String) {
        var words = text.split(separator: " ").map(String.init)[...]
        guard let familyWord = words.popFirst(), let family = AddressFamily(rawValue: familyWord),
            let resultWord = words.popFirst(), let result = AttemptResult(rawValue: resultWord)
        else { return nil }
        self.init(family: family, result: result)
        if words.first == "at" {
            words.removeFirst()
            guard let stageWord = words.popFirst(), let stage = SMTPStage(rawValue: stageWord) else { return nil }
            self.stage = stage
        }
        if let first = words.first, let code = Int(first), first.count == 3 {
            words.removeFirst()
            self.code = code
        }
        if let enhanced = words.popFirst() { self.enhanced = enhanced }
        guard words.isEmpty else { return nil }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let parsed = AttemptSummary(parsing: text) else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription: "\"\(text)\" is not an attempt (FAMILY RESULT [at STAGE] [CODE] [ENHANCED])"))
        }
        self = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// What one case did against one column's receiver: the part of a result that is compared between
/// columns and with a baseline. Nothing in it changes from run to run of the same world (queue ids
/// in replies are masked), so a baseline written twice is the same file.
public struct CellOutcome: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable, Codable {
        /// The delivery ran (whatever it ended in).
        case ran
        /// Not run, with why (a policy with no Postfix equivalent on `--target postfix`).
        case skipped
        /// The harness could not run it.
        case error
    }

    public var status: Status
    public var outcome: DeliveryOutcome?
    /// The family of the attempt that decided.
    public var family: AddressFamily?
    public var stage: SMTPStage?
    /// The deciding reply, queue ids masked (`queued as <id>`).
    public var reply: SMTPReply?
    public var attempts: [AttemptSummary]
    /// What the sender says about the deciding attempt when no reply explains it (a refused
    /// connection, a timeout, no route).
    public var diagnostic: String?
    /// Why it was skipped, or the error.
    public var reason: String?

    public init(
        status: Status, outcome: DeliveryOutcome? = nil, family: AddressFamily? = nil, stage: SMTPStage? = nil,
        reply: SMTPReply? = nil,
        attempts: [AttemptSummary] = [], diagnostic: String? = nil, reason: String? = nil
    ) {
        self.status = status
        self.outcome = outcome
        self.family = family
        self.stage = stage
        self.reply = reply.map(Self.masked)
        self.attempts = attempts
        self.diagnostic = diagnostic
        self.reason = reason
    }

    /// The outcome of a finished case.
    public init(_ result: CaseResult) {
        switch result.status {
        case .skipped(let reason):
            self.init(status: .skipped, reason: reason)
        case .error(let message):
            self.init(status: .error, reason: message)
        case .passed, .failed:
            let observed = result.observed
            let diagnostic =
                observed?.reply == nil
                ? (result.delivery?.recipients.first?.diagnostic ?? result.decidingAttempt?.error) : nil
            self.init(
                status: .ran, outcome: observed?.outcome, family: observed?.family, stage: observed?.stage,
                reply: observed?.reply,
                attempts: (observed?.attempts ?? []).map {
                    AttemptSummary(
                        family: $0.family, result: $0.result, stage: $0.stage, code: $0.reply?.code,
                        enhanced: $0.reply?.enhanced)
                }, diagnostic: diagnostic)
        }
    }

    /// One line (as a baseline keeps it), and `250 2.0.0 Ok: queued as 7F3A` → `... queued as <id>`:
    /// the id differs on every run.
    static func masked(_ reply: SMTPReply) -> SMTPReply {
        SMTPReply(code: reply.code, enhanced: reply.enhanced, maskQueueID(reply.text))
    }

    static func maskQueueID(_ text: String) -> String {
        guard let range = text.range(of: "queued as ", options: .caseInsensitive) else { return text }
        let rest = text[range.upperBound...]
        let id = rest.prefix { $0.isLetter || $0.isNumber }
        guard !id.isEmpty else { return text }
        return String(text[..<range.upperBound]) + "<id>" + String(rest.dropFirst(id.count))
    }

    /// `v4` / `v6`.
    static func short(_ family: AddressFamily) -> String {
        family == .ipv4 ? "v4" : "v6"
    }

    static func stageName(_ stage: SMTPStage) -> String {
        switch stage {
        case .data: "DATA"
        case .rcpt: "RCPT"
        case .mail: "MAIL"
        case .helo: "HELO"
        case .greeting: "greeting"
        case .connect: "connect"
        }
    }

    /// The cell in a few words: `delivered/v6`, `delivered/v4 after 450`, `bounced/v6 550 5.7.25 at
    /// RCPT`, `deferred/v4 450 4.7.1 at RCPT`, `skipped`, `error`.
    public var label: String {
        switch status {
        case .skipped: return "skipped"
        case .error: return "error"
        case .ran: break
        }
        let outcomeText = outcome?.rawValue ?? "?"
        let familyText = family.map { "/" + Self.short($0) } ?? ""
        switch outcome {
        case .delivered?:
            // Attempts before the one that delivered: what made the sender move on.
            let deciding = attempts.lastIndex { $0.result == .accepted } ?? attempts.count
            let before = attempts[..<deciding].filter { $0.result != .accepted }
            guard !before.isEmpty else { return "delivered" + familyText }
            let reasons = before.map { attempt -> String in
                if let code = attempt.code { return String(code) }
                return attempt.result == .unreachable ? "no connection" : attempt.result.rawValue
            }
            var unique: [String] = []
            for reason in reasons where !unique.contains(reason) { unique.append(reason) }
            return "delivered\(familyText) after \(unique.joined(separator: ", "))"
        default:
            var parts = [outcomeText + familyText]
            if let reply, reply.code != 0 {
                parts.append(String(reply.code))
                if let enhanced = reply.enhanced { parts.append(enhanced) }
            }
            if let stage { parts.append("at \(Self.stageName(stage))") }
            if attempts.isEmpty || attempts.allSatisfy({ $0.result == .unreachable }) {
                parts.append(attempts.isEmpty ? "(no attempt)" : "(no connection)")
            }
            return parts.joined(separator: " ")
        }
    }

    /// The reply behind the label: the deciding reply in full, or why the cell did not run.
    public var replyLine: String {
        switch status {
        case .skipped, .error: return reason ?? ""
        case .ran: return reply?.description ?? "no reply" + (diagnostic.map { ": \($0)" } ?? "")
        }
    }
}

extension CellOutcome: Codable {
    enum CodingKeys: String, CodingKey {
        case outcome, family, stage, reply, diagnostic, attempts, skipped, error
    }

    /// In a baseline a cell is one small object: `{outcome, family, stage, reply, attempts}` for a
    /// delivery, `{skipped: REASON}` or `{error: MESSAGE}` otherwise; replies and attempts are one
    /// line of text each, so a change shows as a changed line in a diff.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch status {
        case .skipped: try container.encode(reason ?? "", forKey: .skipped)
        case .error: try container.encode(reason ?? "", forKey: .error)
        case .ran:
            try container.encodeIfPresent(outcome, forKey: .outcome)
            try container.encodeIfPresent(family?.rawValue, forKey: .family)
            try container.encodeIfPresent(stage?.rawValue, forKey: .stage)
            try container.encodeIfPresent(reply?.description, forKey: .reply)
            try container.encodeIfPresent(diagnostic, forKey: .diagnostic)
            try container.encode(attempts, forKey: .attempts)
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let reason = try container.decodeIfPresent(String.self, forKey: .skipped) {
            self.init(status: .skipped, reason: reason)
            return
        }
        if let message = try container.decodeIfPresent(String.self, forKey: .error) {
            self.init(status: .error, reason: message)
            return
        }
        let family = try container.decodeIfPresent(String.self, forKey: .family).map { text -> AddressFamily in
            guard let family = AddressFamily(rawValue: text) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .family, in: container, debugDescription: "\"\(text)\" is not ipv4 or ipv6")
            }
            return family
        }
        let stage = try container.decodeIfPresent(String.self, forKey: .stage).map { text -> SMTPStage in
            guard let stage = SMTPStage(rawValue: text) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .stage, in: container, debugDescription: "\"\(text)\" is not an SMTP stage")
            }
            return stage
        }
        let reply = try container.decodeIfPresent(String.self, forKey: .reply).map { text -> SMTPReply in
            guard let reply = Self.parseReply(text) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .reply, in: container, debugDescription: "\"\(text)\" is not a reply (CODE [ENHANCED] TEXT)"
                )
            }
            return reply
        }
        self.init(
            status: .ran, outcome: try container.decodeIfPresent(DeliveryOutcome.self, forKey: .outcome),
            family: family, stage: stage, reply: reply,
            attempts: try container.decodeIfPresent([AttemptSummary].self, forKey: .attempts) ?? [],
            diagnostic: try container.decodeIfPresent(String.self, forKey: .diagnostic))
    }

    /// `550 5.7.25 text` back into a reply (the inverse of `SMTPReply.description` for one line).
    static func parseReply(_ text: String) -> SMTPReply? {
        let digits = text.prefix(3)
        guard digits.count == 3, digits.allSatisfy(\.isNumber), let code = Int(digits) else { return nil }
        let rest = text.dropFirst(3)
        guard rest.isEmpty || rest.first == " " else { return nil }
        let split = SMTPReply.splitEnhanced(String(rest.dropFirst()), code: code)
        return SMTPReply(code: code, enhanced: split.enhanced, split.text)
    }
}
