import DNSCore
import Delivery
import SMTPProtocol

/// Postfix smtp(8)'s walk over a destination's addresses (smtp_connect.c `smtp_connect_inet`,
/// smtp_trouble.c) as a pure state machine: which address next, which recipients go there, and
/// when each recipient is delivered, bounced or deferred.
///
/// - A connection that fails, and any temporary failure (4xx, a 5xx greeting under
///   `smtp_skip_5xx_greeting`, a timeout or lost connection), leaves the recipients it concerned
///   for the next address; with no address left they are deferred.
/// - A 5xx at EHLO/HELO, MAIL or the end of DATA bounces the recipients of that session; a 5xx
///   to RCPT bounces that recipient. Bounced recipients are not tried elsewhere.
/// - A recipient that got 4xx to RCPT goes on to the next address with the others still open,
///   while those accepted in the same session are delivered (smtp_rcpt_fail: "don't defer this
///   recipient record just yet when this error qualifies for trying other mail servers").
/// - At most `sessionLimit` sessions are made (`smtp_mx_session_limit`, default 2; 0 is no
///   limit). smtp_connect.c counts a session once `smtp_helo()` succeeded ("Don't count
///   handshake errors towards the session limit" / "Do count delivery errors towards the session
///   limit"): a refused or timed-out connection, a 4xx/5xx greeting and a failed EHLO/HELO do not
///   count; a session that reached MAIL does, whatever happened after.
public struct DeliveryStateMachine: Sendable {
    public enum Action: Sendable, Hashable {
        /// Connect to `destination` from `source` and run one SMTP session for `recipients`.
        case attempt(Destination, source: IPAddress, recipients: [String])
        /// Every recipient has its outcome; `report(...)` has them.
        case finished
    }

    private enum Fate: Sendable {
        case open
        case delivered
        case bounced
    }

    private struct Recipient: Sendable {
        var address: String
        var fate: Fate = .open
        var stage: SMTPStage?
        var reply: SMTPReply?
        var attemptIndex: Int?
        var diagnostic: String?
    }

    private enum State: Sendable {
        case idle
        case attempting(destination: Int, recipients: [Int])
        case finished
    }

    public let destinations: [Destination]
    public let sources: [AddressFamily: IPAddress]
    public private(set) var attempts: [DeliveryAttempt] = []
    /// `smtp_mx_session_limit`; 0 means no limit.
    public let sessionLimit: Int
    /// Sessions counted towards `sessionLimit` so far.
    public private(set) var sessions = 0
    /// True when the session limit ended the walk with destinations left.
    public private(set) var stoppedBySessionLimit = false

    private var recipients: [Recipient]
    private var nextDestination = 0
    private var state: State = .idle

    /// `destinations` are the candidates in order of trial (already limited to `smtp_mx_address_limit`).
    public init(
        recipients: [String], destinations: [Destination], sources: [AddressFamily: IPAddress], sessionLimit: Int = 2
    ) {
        self.recipients = recipients.map { Recipient(address: $0) }
        self.destinations = destinations
        self.sources = sources
        self.sessionLimit = sessionLimit
    }

    /// Whether an attempt counts towards `smtp_mx_session_limit`: the greeting and EHLO/HELO
    /// succeeded (smtp_connect.c calls smtp_xfer only then).
    static func countsAsSession(_ attempt: DeliveryAttempt) -> Bool {
        switch attempt.stage {
        case .connect, .greeting, .helo: false
        case .mail, .rcpt, .data: attempt.result != .unreachable
        }
    }

    public var isFinished: Bool {
        if case .finished = state { return true }
        return false
    }

    public mutating func start() -> Action {
        guard case .idle = state else { return isFinished ? .finished : currentAction }
        return advance()
    }

    /// Feeds the result of the attempt last asked for.
    public mutating func attemptFinished(_ attempt: DeliveryAttempt) -> Action {
        guard case .attempting(_, let tried) = state else { return isFinished ? .finished : advance() }
        let attemptIndex = attempts.count
        attempts.append(attempt)
        if Self.countsAsSession(attempt) { sessions += 1 }

        for (position, recipientIndex) in tried.enumerated() {
            // Statuses come in envelope order; match by position, by address as a fallback.
            let status: SMTPClientRecipientStatus?
            if position < attempt.recipients.count,
                attempt.recipients[position].address == recipients[recipientIndex].address
            {
                status = attempt.recipients[position]
            } else {
                status = attempt.recipients.first { $0.address == recipients[recipientIndex].address }
            }
            var recipient = recipients[recipientIndex]
            recipient.attemptIndex = attemptIndex
            recipient.diagnostic = attempt.error
            if let status, attempt.result != .unreachable {
                recipient.stage = status.stage
                recipient.reply = status.reply
                switch status.outcome {
                case .accepted: recipient.fate = .delivered
                case .rejected: recipient.fate = .bounced
                case .tempfailed, .unreachable: recipient.fate = .open
                }
            } else {
                recipient.stage = attempt.stage
                recipient.reply = attempt.reply
                recipient.fate = .open
            }
            recipients[recipientIndex] = recipient
        }
        return advance()
    }

    private var currentAction: Action {
        switch state {
        case .attempting(let destination, let tried):
            let target = destinations[destination]
            return .attempt(
                target, source: sources[target.family] ?? target.address,
                recipients: tried.map { recipients[$0].address })
        case .idle, .finished:
            return .finished
        }
    }

    private mutating func advance() -> Action {
        let open = recipients.indices.filter { recipients[$0].fate == .open }
        guard !open.isEmpty else {
            state = .finished
            return .finished
        }
        if sessionLimit > 0, sessions >= sessionLimit {
            stoppedBySessionLimit = destinations[nextDestination...].contains { sources[$0.family] != nil }
            state = .finished
            return .finished
        }
        while nextDestination < destinations.count {
            let index = nextDestination
            nextDestination += 1
            let destination = destinations[index]
            guard let source = sources[destination.family], source.family == destination.family else { continue }
            state = .attempting(destination: index, recipients: open)
            return .attempt(destination, source: source, recipients: open.map { recipients[$0].address })
        }
        state = .finished
        return .finished
    }

    /// The report once finished (recipients still open are deferred).
    public func report(plan: DestinationPlan) -> DeliveryReport {
        var results: [RecipientResult] = []
        for recipient in recipients {
            let outcome: DeliveryOutcome
            switch recipient.fate {
            case .delivered: outcome = .delivered
            case .bounced: outcome = .bounced
            case .open: outcome = .deferred
            }
            if recipient.attemptIndex == nil, let failure = plan.failure {
                results.append(
                    RecipientResult(
                        address: recipient.address, outcome: failure.outcome, stage: failure.stage,
                        reply: failure.reply, diagnostic: failure.note))
            } else if recipient.attemptIndex == nil {
                results.append(
                    RecipientResult(
                        address: recipient.address, outcome: .deferred,
                        reply: SMTPReply(code: 451, enhanced: "4.3.0", "server unavailable or unable to receive mail"),
                        diagnostic: "no address was tried"))
            } else {
                results.append(
                    RecipientResult(
                        address: recipient.address, outcome: outcome, stage: recipient.stage, reply: recipient.reply,
                        attemptIndex: recipient.attemptIndex, diagnostic: recipient.diagnostic))
            }
        }
        var notes = plan.notes
        if let failure = plan.failure { notes.insert(failure.note, at: 0) }
        var destinations = plan.destinations
        if stoppedBySessionLimit {
            notes.append(
                "smtp_mx_session_limit (\(sessionLimit)) reached: \(sessions) SMTP sessions made, the other addresses were not tried"
            )
            let tried = Set(attempts.map(\.remoteAddress))
            var passedLast = false
            let last = attempts.last?.remoteAddress
            for index in destinations.indices where destinations[index].status == .candidate {
                if destinations[index].address == last { passedLast = true; continue }
                if passedLast, !tried.contains(destinations[index].address), sources[destinations[index].family] != nil
                {
                    destinations[index].status = .beyondSessionLimit
                }
            }
        }
        return DeliveryReport(
            outcome: results.first?.outcome ?? .bounced,
            recipients: results,
            attempts: attempts,
            decidingAttempt: results.first?.attemptIndex,
            destinations: destinations,
            destinationSource: plan.source,
            note: notes.isEmpty ? (recipients.isEmpty ? "no recipients" : nil) : notes.joined(separator: "; "))
    }
}
