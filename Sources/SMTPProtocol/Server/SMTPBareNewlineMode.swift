/// How the server treats a line that ends in a bare `<LF>` (no `<CR>` before it), after Postfix
/// 3.7's `smtpd_forbid_bare_newline` (postfix-3.7.11 `smtpd/smtpd.c`, `global/smtp_stream.c`).
///
/// In every mode a line ends at `<LF>` only; a bare `<CR>` never ends a line (RFC 5321 2.3.8).
/// - `no`: every `<CR>` just before the `<LF>` is dropped and a bare `<LF>` is an ordinary line
///   end, so `<LF>.<LF>` ends the message (`smtp_get_noexcept()` without `smtp_detect_bare_lf`).
/// - `normalize` (`yes` is Postfix's alias): one `<CR>` before the `<LF>` is dropped; the message
///   ends only at `<CR><LF>.<CR><LF>`: a `.` line ending in a bare `<LF>`, or after one, is
///   dropped from the message and reading goes on (`receive_data_message()`).
/// - `reject`: as `normalize`; a command ending in a bare `<LF>` gets
///   `550 5.5.2 <myhostname> Error: bare <LF> received` and the session is closed; a message
///   with such a line is read to its real end and then refused with that reply, the session
///   going on.
public enum SMTPBareNewlineMode: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    case no
    case normalize
    case reject

    /// A mode by its Postfix name: `no`, `normalize`, `yes` (Postfix's alias for `normalize`) or
    /// `reject`; nil for anything else.
    public init?(postfixName name: String) {
        if name == "yes" {
            self = .normalize
        } else {
            self.init(rawValue: name)
        }
    }

    /// The names the scenario key and Postfix accept.
    public static let names = ["no", "normalize", "yes", "reject"]

    /// Whether a line's ending is looked at (Postfix's `smtp_detect_bare_lf`).
    var detects: Bool { self != .no }

    public var description: String { rawValue }
}
