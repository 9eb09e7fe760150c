import DNSCore
import Foundation
import SMTPProtocol
import Sender

/// A `DeliveryReport` from what a real Postfix logged: one attempt per logged try, each
/// recipient's outcome from its `status=` line.
enum PostfixSenderReport {
    static func make(request: DeliveryRequest, log: PostfixDeliveryLog, queueJSON: String, timedOut: Bool) -> DeliveryReport {
        var attempts = log.attempts
        for index in attempts.indices {
            attempts[index].localAddress = request.sources[attempts[index].family]
        }
        var results: [RecipientResult] = []
        for recipient in request.recipients {
            guard let status = log.status(of: recipient) else {
                results.append(RecipientResult(
                    address: recipient, outcome: .deferred, diagnostic: "Postfix logged no status for this recipient in time"))
                continue
            }
            if let index = status.attemptIndex {
                let attempt = attempts[index]
                results.append(RecipientResult(
                    address: recipient, outcome: status.outcome, stage: attempt.stage, reply: attempt.reply, attemptIndex: index,
                    diagnostic: attempt.error))
            } else {
                // relay=none: no server decided (every connection failed, or DNS did). The last
                // connection failure, if any, is the deciding attempt, as in the built-in model.
                let lastConnect = status.text.hasPrefix("connect to ") ? attempts.lastIndex { $0.stage == .connect } : nil
                // A failed connection has no reply, as in the built-in model.
                results.append(RecipientResult(
                    address: recipient, outcome: status.outcome, stage: lastConnect == nil ? nil : .connect,
                    reply: lastConnect == nil ? made(dsn: status.dsn, text: status.text) : nil, attemptIndex: lastConnect,
                    diagnostic: status.text))
            }
        }
        var notes: [String] = []
        if timedOut { notes.append("Postfix had not logged every recipient's status in time") }
        let queued = queueJSON.split(separator: "\n").filter { !$0.isEmpty }.count
        if queued > 0 { notes.append("left in the Postfix sender's queue: \(queued) message(s)") }
        return DeliveryReport(
            outcome: results.first?.outcome ?? .bounced, recipients: results, attempts: attempts,
            decidingAttempt: results.first?.attemptIndex, destinations: [], destinationSource: nil,
            note: notes.isEmpty ? nil : notes.joined(separator: "; "))
    }

    /// A reply for an outcome no server gave: the DSN's class with Postfix's reason as the text
    /// (450/550 as Postfix's bounce and defer logs use for locally made replies).
    static func made(dsn: String, text: String) -> SMTPReply {
        SMTPReply(code: dsn.hasPrefix("5") ? 550 : dsn.hasPrefix("2") ? 250 : 451, enhanced: dsn.isEmpty ? nil : dsn, text)
    }
}
