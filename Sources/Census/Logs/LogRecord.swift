/// Where a line of a log is: the file as given and the line number (1-based).
public struct LogPosition: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int

    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }

    public var description: String { "\(file):\(line)" }
}

/// How a line (or a journal entry) was framed.
public enum LogFraming: String, Sendable, Hashable, CaseIterable, Codable {
    /// `Mar  1 12:00:00 host prog[pid]: text`: classic syslog, `journalctl -o short` and Postfix's
    /// own `maillog_file` (msg_logger.c writes `%b %d %H:%M:%S host prog[pid]: text`).
    case syslog
    /// `2024-03-01T12:00:00.123456+01:00 host prog[pid]: text`: rsyslog's RFC 3339 timestamps (Debian 12's
    /// default) and `journalctl -o short-iso`.
    case isoSyslog = "iso-syslog"
    /// `<22>1 2024-03-01T12:00:00Z host prog pid - - text` (RFC 5424 6).
    case rfc5424
    /// `journalctl -o export`: `FIELD=value` lines, binary fields, entries separated by a blank line.
    case journalExport = "journal-export"
    /// `journalctl -o json`: one JSON object per line.
    case journalJSON = "journal-json"
    /// Exim's own main log: `2024-03-01 12:00:00 [pid] text`.
    case eximMain = "exim-main"
}

/// One entry of a log, whatever its framing: who wrote it and what.
public struct LogRecord: Sendable {
    public var position: LogPosition
    public var framing: LogFraming
    /// The host that logged it (the syslog host field, journald's `_HOSTNAME`); nil when the
    /// framing has none (Exim's own log).
    public var host: String?
    /// The syslog tag without its pid: `postfix/smtpd`, `postfix/submission/smtpd`, `exim4`,
    /// `policyd-spf`; `exim` for Exim's own log.
    public var program: String
    public var pid: Int?
    /// The text after `prog[pid]: `.
    public var message: Substring
    /// The timestamp as written (for the report's first and last line).
    public var timestamp: Substring?

    public init(
        position: LogPosition, framing: LogFraming, host: String?, program: String, pid: Int?, message: Substring,
        timestamp: Substring? = nil
    ) {
        self.position = position
        self.framing = framing
        self.host = host
        self.program = program
        self.pid = pid
        self.message = message
        self.timestamp = timestamp
    }
}

/// A log census cannot read: the file, the line, and what was there (escaped, cut short).
public struct LogReadError: Error, Sendable, CustomStringConvertible {
    public var position: LogPosition
    public var reason: String

    public init(_ position: LogPosition, _ reason: String) {
        self.position = position
        self.reason = reason
    }

    public var description: String { "\(position): \(reason)" }
}
