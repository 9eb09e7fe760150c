import Foundation
import Runner

/// What rspamd made of one message: its log line per scan (`rspamd_task_write_log`, the default
/// `log_format` of logging.inc), read back.
public struct RspamdScan: Sendable, Hashable, CustomStringConvertible {
    /// Postfix's queue id (the milter's `i` macro), when rspamd was told it.
    public var queueID: String?
    /// The client address rspamd scored.
    public var client: String?
    /// `no action`, `add header`, `rewrite subject`, `soft reject`, `reject`, `greylist`.
    public var action: String
    public var score: Double
    /// The reject threshold the score was held against (`[10.80/15.00]`).
    public var requiredScore: Double?
    /// The symbols with their scores, in rspamd's order.
    public var symbols: [(name: String, score: Double)]

    public init(
        queueID: String?, client: String?, action: String, score: Double, requiredScore: Double?,
        symbols: [(name: String, score: Double)]
    ) {
        self.queueID = queueID
        self.client = client
        self.action = action
        self.score = score
        self.requiredScore = requiredScore
        self.symbols = symbols
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.queueID == rhs.queueID && lhs.client == rhs.client && lhs.action == rhs.action && lhs.score == rhs.score
            && lhs.requiredScore == rhs.requiredScore && lhs.symbols.map(\.name) == rhs.symbols.map(\.name)
            && lhs.symbols.map(\.score) == rhs.symbols.map(\.score)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(queueID)
        hasher.combine(score)
    }

    /// `rspamd: 10.80 (add header; reject at 15.00): VIOLATED_DIRECT_SPF 3.50, ...`.
    public var description: String {
        let threshold = requiredScore.map { "; reject at " + String(format: "%.2f", $0) } ?? ""
        let list = symbols.map { "\($0.name) " + String(format: "%.2f", $0.score) }.joined(separator: ", ")
        return "rspamd: " + String(format: "%.2f", score) + " (\(action)\(threshold))"
            + (list.isEmpty ? "" : ": " + list)
    }

    /// The actions with which rspamd's milter refuses or defers the message (a 5xx or 4xx after
    /// DATA): rspamd then answered the sender. `greylist` defers only with a greylisting store,
    /// which the harness's rspamd has not.
    public static let answeringActions: Set<String> = ["reject", "soft reject"]

    /// The scan as the reports show an engine's verdict.
    public var verdict: EngineVerdict {
        EngineVerdict(
            engine: "rspamd", action: action, score: score, rejectScore: requiredScore,
            symbols: symbols.map { EngineVerdict.Symbol(name: $0.name, score: $0.score) },
            answered: Self.answeringActions.contains(action), messageID: queueID)
    }

    /// Every scan in rspamd's log text, in order.
    public static func scans(inLog text: String) -> [RspamdScan] {
        text.split(separator: "\n").compactMap { line in
            line.contains("rspamd_task_write_log") ? parse(String(line)) : nil
        }
    }

    /// One log line: `... id: <MID>, qid: <QID>, ip: ADDR, from: <F>, (default: F (add header):
    /// [10.80/15.00] [SYM(3.50){param;},SYM2(1.00){}]), len: ...`.
    public static func parse(_ line: String) -> RspamdScan? {
        guard let verdict = line.firstMatch(of: /\(default: [TF] \(([a-z ]+)\): \[(-?[0-9.]+)\/(-?[0-9.]+)\] \[/) else {
            return nil
        }
        let action = String(verdict.output.1)
        guard let score = Double(verdict.output.2) else { return nil }
        let required = Double(verdict.output.3)
        // The symbol list runs to the "]), " that closes the verdict; parameters in braces may hold
        // anything but a closing brace.
        var symbols: [(name: String, score: Double)] = []
        var rest = line[verdict.range.upperBound...]
        while let symbol = rest.prefixMatch(of: /([A-Za-z0-9_]+)\((-?[0-9.]+)\)(\{[^}]*\})?,?/) {
            if let value = Double(symbol.output.2) { symbols.append((String(symbol.output.1), value)) }
            rest = rest[symbol.range.upperBound...]
        }
        let queueID = line.firstMatch(of: /qid: <([^>]*)>/).map { String($0.output.1) }
        let client = line.firstMatch(of: /ip: ([0-9A-Fa-f:.]+),/).map { String($0.output.1) }
        return RspamdScan(
            queueID: queueID, client: client, action: action, score: score, requiredScore: required, symbols: symbols)
    }
}
