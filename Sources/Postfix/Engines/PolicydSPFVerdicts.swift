import Foundation
import Runner

/// What policyd-spf answered, per message, read from the instance's maillog: policyd-spf itself
/// logs to syslog only (spf_engine calls `syslog.syslog`, with no file or stderr option), so the
/// harness has Postfix log both of its answers:
/// - a refusal (`Reason_Message`, "Message rejected due to: ..." or "Message deferred due to: ...")
///   is smtpd's own `reject:` line;
/// - an accepted message carries the `Received-SPF:` field policyd-spf asked smtpd to prepend
///   (`PREPEND`, which smtpd does not log), and the instance's `header_checks` answer it with
///   `INFO` (header_checks(5), Postfix 3.2 and later), which cleanup(8) logs with the queue id:
///   `QUEUEID: info: header Received-SPF: Pass (mailfrom) ... from NAME[ADDR]; from=<...> ...`.
public enum PolicydSPFVerdicts {
    /// The engine's name in reports, as `receiver.engines` writes it.
    public static let engine = "policyd-spf"
    /// The `header_checks` table (regexp_table(5)) that logs the field, in the table directory.
    public static let headerTableName = "mxh-received-spf.regexp"
    public static let headerTable = "/^Received-SPF:/ INFO \(engine)\n"

    /// Every verdict in `lines` (a case's log), in log order.
    public static func verdicts(in lines: [String]) -> [EngineVerdict] {
        lines.compactMap(verdict(in:))
    }

    /// The verdict one log line records, or nil.
    public static func verdict(in line: String) -> EngineVerdict? {
        if let match = line.firstMatch(of: /: ([0-9A-Za-z]+): info: header (Received-SPF: (\S+).*?) from \S+; from=</) {
            return EngineVerdict(
                engine: engine, action: match.output.3.lowercased(), answered: false,
                messageID: String(match.output.1), text: match.output.2.trimmingCharacters(in: .whitespaces))
        }
        if line.contains(" reject: "),
            let match = line.firstMatch(
                of:
                    /\]: ([45][0-9][0-9]) ([45]\.[0-9]{1,3}\.[0-9]{1,3}) .*?(Message (rejected|deferred) due to: .*?)(; from=<.*)?$/
            )
        {
            let action = match.output.4 == "rejected" && match.output.1.hasPrefix("5") ? "reject" : "defer"
            return EngineVerdict(
                engine: engine, action: action, answered: true,
                text: "\(match.output.1) \(match.output.2) \(match.output.3)")
        }
        return nil
    }
}
