import Foundation
import SMTPProtocol

/// What a real sending MTA's log says about one delivery: the attempts it made, in log order, and
/// each recipient's final status. Each MTA reads its own lines into it (`PostfixDeliveryLog`,
/// `EximDeliveryLog`); `report(for:notes:)` makes the one `DeliveryReport` every real sender gives.
public protocol SenderLog: Sendable {
    /// The MTA as the report names it ("Postfix", "Exim").
    static var mta: String { get }
    /// The attempts, in log order.
    var attempts: [DeliveryAttempt] { get }
    /// Each recipient's final status line, in log order.
    var statuses: [SenderLogStatus] { get }
}

/// One recipient's final status in a sending MTA's log.
public struct SenderLogStatus: Sendable, Hashable {
    public var recipient: String
    public var outcome: DeliveryOutcome
    /// The enhanced status code the MTA logged with it (Postfix's `dsn=`); nil when it logs none.
    public var dsn: String?
    /// What the MTA said: the last server's reply or its own reason.
    public var text: String
    /// Index into `attempts` of the attempt the line reports on; nil when no server decided.
    public var attemptIndex: Int?
    /// No server decided because the last address could not be reached: that connection attempt
    /// is the deciding one, with no reply (as in the built-in model).
    public var failedToConnect: Bool

    public init(
        recipient: String, outcome: DeliveryOutcome, dsn: String? = nil, text: String, attemptIndex: Int? = nil,
        failedToConnect: Bool = false
    ) {
        self.recipient = recipient
        self.outcome = outcome
        self.dsn = dsn
        self.text = text
        self.attemptIndex = attemptIndex
        self.failedToConnect = failedToConnect
    }
}

extension SenderLog {
    /// The status of `recipient`, when logged (the last line for it).
    public func status(of recipient: String) -> SenderLogStatus? {
        statuses.last { $0.recipient.lowercased() == recipient.lowercased() }
    }

    /// The delivery as the log tells it: one attempt per logged try (from the request's source
    /// address of its family), each recipient's outcome from its status line, and `notes`.
    public func report(for request: DeliveryRequest, notes: [String] = []) -> DeliveryReport {
        var attempts = self.attempts
        for index in attempts.indices {
            attempts[index].localAddress = request.sources[attempts[index].family]
        }
        let results = request.recipients.map { recipient -> RecipientResult in
            guard let status = status(of: recipient) else {
                return RecipientResult(
                    address: recipient, outcome: .deferred,
                    diagnostic: "\(Self.mta) logged no status for this recipient in time")
            }
            if let index = status.attemptIndex {
                let attempt = attempts[index]
                return RecipientResult(
                    address: recipient, outcome: status.outcome, stage: attempt.stage, reply: attempt.reply,
                    attemptIndex: index,
                    diagnostic: attempt.error)
            }
            if status.failedToConnect, let lastConnect = attempts.lastIndex(where: { $0.stage == .connect }) {
                return RecipientResult(
                    address: recipient, outcome: status.outcome, stage: .connect, reply: nil, attemptIndex: lastConnect,
                    diagnostic: status.text)
            }
            return RecipientResult(
                address: recipient, outcome: status.outcome, reply: Self.madeReply(status), diagnostic: status.text)
        }
        return DeliveryReport(
            outcome: results.first?.outcome ?? .bounced, recipients: results, attempts: attempts,
            decidingAttempt: results.first?.attemptIndex, destinations: [], destinationSource: nil,
            note: notes.isEmpty ? nil : notes.joined(separator: "; "))
    }

    /// A reply for an outcome no server gave: the logged status code's class, else the outcome's,
    /// with the MTA's reason as the text (450/550 as Postfix's bounce and defer logs use for
    /// locally made replies).
    static func madeReply(_ status: SenderLogStatus) -> SMTPReply {
        let dsn = status.dsn ?? ""
        let permanent = dsn.isEmpty ? status.outcome == .bounced : dsn.hasPrefix("5")
        let success = dsn.isEmpty ? status.outcome == .delivered : dsn.hasPrefix("2")
        return SMTPReply(code: permanent ? 550 : success ? 250 : 451, enhanced: dsn.isEmpty ? nil : dsn, status.text)
    }
}

extension SMTPReply {
    /// A reply as an MTA's log writes it: `450 4.7.25 TEXT`. A multi-line reply is logged with its
    /// lines joined by spaces, each but the last starting with `NNN-` (`554-first line 554-second
    /// 554 last`, Postfix's smtp(8) `smtp_chat.c`): the markers go. Nil when `text` starts with no
    /// reply code.
    public init?(logged text: String) {
        let characters = Array(text)
        guard characters.count >= 3, let code = Int(String(characters[0..<3])), (200...599).contains(code),
            characters.count == 3 || characters[3] == " " || characters[3] == "-"
        else { return nil }
        var joined = text
        if characters.count > 3, characters[3] == "-" {
            let marker = String(code)
            // Each line repeats the first line's enhanced code (RFC 2034 4: "554-5.7.1 ...
            // 554 5.7.1 ..."): it goes with its line's marker.
            let first = text.dropFirst(4).prefix { $0 != " " }
            if first.split(separator: ".").count == 3, first.allSatisfy({ $0.isNumber || $0 == "." }) {
                joined = joined.replacingOccurrences(of: " \(marker)-\(first) ", with: " ").replacingOccurrences(
                    of: " \(marker) \(first) ", with: " ")
            }
            joined = joined.replacingOccurrences(of: " \(marker)-", with: " ").replacingOccurrences(
                of: " \(marker) ", with: " ")
            joined = marker + " " + joined.dropFirst(4)
        }
        let words = joined.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        var rest = words.dropFirst()
        var enhanced: String?
        if let candidate = rest.first, candidate.split(separator: ".").count == 3,
            candidate.allSatisfy({ $0.isNumber || $0 == "." })
        {
            enhanced = String(candidate)
            rest = rest.dropFirst()
        }
        self.init(code: code, enhanced: enhanced, rest.joined(separator: " "))
    }
}

/// A real sending MTA that could not be set up or run.
public struct SenderMTAError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
