import DNSCore
import Foundation
import SMTPProtocol

/// A receiving server's structured log (`key=value` fields, logfmt), as mox writes it: `m="smtp
/// command result" cmd=ehlo code=501 ecode=5.5.2 err="..." cid=...`, with the connection's
/// `remote=[ADDR]:PORT` on its `new connection` line. The first 4xx/5xx result decides; its
/// `cmd=` names the command it answered.
enum KeyValueLog {
    private static let code = try! NSRegularExpression(pattern: #"(?:^|\s)code=([245]\d\d)(?=\s|$)"#)
    private static let enhanced = try! NSRegularExpression(
        pattern: #"(?:^|\s)(?:ecode|enhanced(?:_?code)?)=["']?([245]\.\d{1,3}\.\d{1,3})(?=["'\s]|$)"#)
    private static let command = try! NSRegularExpression(
        pattern: #"(?:^|\s)(?:cmd|command|verb)=["']?([A-Za-z]+(?:[ _](?:FROM|TO|from|to))?)"#)

    static func read(_ lines: [String]) -> Result<Evidence, ReaderMiss> {
        for line in lines {
            guard let verb = capture(command, in: line) else { continue }
            var evidence = Evidence(source: .keyValueLog)
            let said: String
            if let code = capture(code, in: line).flatMap({ Int($0) }) {
                guard code >= 400 else { continue }
                let enhancedCode = capture(enhanced, in: line)
                // The reply's words are not logged; the error the server logged with it says why.
                let text = quoted("err", in: line) ?? quoted("error", in: line) ?? quoted("reason", in: line) ?? ""
                said = "`cmd=\(verb) code=\(code)\(enhancedCode.map { " ecode=" + $0 } ?? "")`"
                evidence.setReply(
                    SMTPReply(code: code, enhanced: enhancedCode, text.replacingOccurrences(of: "\\\"", with: "\"")),
                    from: said + (text.isEmpty ? "" : " with the logged error as its text"))
            } else if let result = quoted("result", in: line) ?? quoted("reply", in: line)
                ?? quoted("response", in: line),
                let found = ReplyText.reply(Substring(result)), found.code >= 400
            {
                // OpenSMTPD's `smtp event=failed-command command="RCPT TO: <...>" result="550 Invalid recipient"`.
                said = "`command=\(verb) result=\"\(found.code) ...\"`"
                evidence.setReply(
                    SMTPReply(code: found.code, enhanced: found.enhanced, ReplyText.cleaned(found.text)),
                    from: "\(said): the logged reply")
            } else {
                continue
            }
            if let stage = ReplyText.stage(command: verb.replacingOccurrences(of: "_", with: " ")) {
                evidence.setStage(stage, from: "\(said): the result of the command `\(verb)`")
            }
            // The connection's remote end, from the line of the same connection (`cid=`) that names it.
            // OpenSMTPD starts each line with the session's id and logs the client's `address=` on
            // its `event=connected` line.
            let connection = ReplyText.value(of: "cid", in: line)
            let session = line.range(of: #"^[0-9a-f]{16}\b"#, options: .regularExpression).map { String(line[$0]) }
            for other in lines where other.contains("remote=") || other.contains("event=connected") {
                if let connection, ReplyText.value(of: "cid", in: other) != connection { continue }
                if connection == nil, let session, !other.hasPrefix(session) { continue }
                let key = other.contains("remote=") ? "remote" : "address"
                guard let value = ReplyText.value(of: key, in: other),
                    let address = AddressWords.address(at: value)
                else { continue }
                evidence.setClient(address, from: "`\(key)=\(value)` of the connection (the client)")
                break
            }
            return .success(evidence)
        }
        return .failure(
            ReaderMiss("no `key=value` log line with `cmd=VERB` and a 4xx/5xx `code=` or `result=\"CODE ...\"`"))
    }

    private static func capture(_ regex: NSRegularExpression, in line: String) -> String? {
        guard let match = regex.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)),
            let range = Range(match.range(at: 1), in: line)
        else { return nil }
        return String(line[range])
    }

    /// The value of `key="..."` (with `\"` inside), or nil.
    private static func quoted(_ key: String, in line: String) -> String? {
        guard let range = line.range(of: #"(?:^|\s)"# + key + #"="((?:[^"\\]|\\.)*)""#, options: .regularExpression)
        else { return nil }
        let field = line[range]
        guard let open = field.firstIndex(of: "\"") else { return nil }
        let value = field[field.index(after: open)...].dropLast()
        return value.isEmpty ? nil : String(value)
    }
}
