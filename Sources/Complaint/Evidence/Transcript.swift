import DNSCore
import Foundation
import SMTPProtocol

/// A pasted SMTP dialogue: swaks (`<- `, ` -> `, `<** `), `mxharness send`, `S:`/`C:`, `<<<`/`>>>`,
/// Postfix's `In:`/`Out:`, or bare lines (replies start with a code, commands with a verb).
/// The first 4xx/5xx reply decides; its stage is that of the command it answered.
enum Transcript {
    private enum Line {
        /// A reply; `marked` when a prefix says it is the server's (not a bare line with a code).
        case server(String, marked: Bool)
        case client(String)
        case note(String)
    }

    private static let serverPrefixes = ["<** ", "<-  ", "<- ", "<~ ", "S: ", "<<< ", "In: ", "S ", "SERVER -> CLIENT: ", "Recv: "]
    private static let clientPrefixes = [" -> ", "-> ", "**> ", " ~> ", "~> ", "C: ", ">>> ", "Out: ", "C ", "CLIENT -> SERVER: ", "Send: "]
    private static let verbs = ["EHLO", "HELO", "LHLO", "MAIL FROM:", "RCPT TO:", "DATA", "QUIT", "RSET", "STARTTLS", "BDAT", "NOOP"]

    /// The dialogue part of a line behind a log prefix: OpenSMTPD's `mta: 0x...: <<< 554 ...`,
    /// PHPMailer's `2020-12-04 11:27:10 SERVER -> CLIENT: 421 ...`, Roundcube's `[date]: <id> Recv: ...`.
    private static func dialogue(_ line: String) -> String {
        let markers = [(": <<< ", "<<< "), (": >>> ", ">>> "), (" SERVER -> CLIENT: ", "SERVER -> CLIENT: "),
                       (" CLIENT -> SERVER: ", "CLIENT -> SERVER: "), ("> Recv: ", "Recv: "), ("> Send: ", "Send: ")]
        for (marker, prefix) in markers where !line.hasPrefix(prefix) {
            if let range = line.range(of: marker) { return prefix + line[range.upperBound...] }
        }
        return line
    }

    private static func classify(_ raw: Substring) -> Line? {
        let line = dialogue(String(raw))
        if line.hasPrefix("=== ") || line.hasPrefix("*** ") { return .note(String(line.dropFirst(4))) }
        for prefix in serverPrefixes where line.hasPrefix(prefix) {
            let rest = String(line.dropFirst(prefix.count))
            // `S ` and `C ` (Hesk's and others' logs) only in front of a reply or a command.
            if prefix == "S ", ReplyText.reply(Substring(rest)) == nil { continue }
            return .server(rest, marked: true)
        }
        for prefix in clientPrefixes where line.hasPrefix(prefix) {
            let rest = String(line.dropFirst(prefix.count))
            if prefix == "C ", !verbs.contains(where: { rest.uppercased().hasPrefix($0) }) { continue }
            return .client(rest)
        }
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if ReplyText.reply(Substring(trimmed)) != nil { return .server(trimmed, marked: false) }
        if verbs.contains(where: { trimmed.uppercased().hasPrefix($0) }) || trimmed == "." { return .client(trimmed) }
        return nil
    }

    static func read(_ raw: [Substring]) -> Result<Evidence, ReaderMiss> {
        let lines = raw.compactMap(classify)
        let commands = lines.filter { if case .client(let text) = $0 { verbs.contains { text.uppercased().hasPrefix($0) } } else { false } }
        let replies = lines.filter { if case .server(let text, _) = $0 { ReplyText.reply(Substring(text)) != nil } else { false } }
        // Server lines marked as such are a dialogue even without a command (a greeting that refused).
        let marked = lines.contains { if case .server(let text, true) = $0 { ReplyText.reply(Substring(text)) != nil } else { false } }
        guard !commands.isEmpty || marked, !replies.isEmpty else {
            return .failure(ReaderMiss("no SMTP dialogue: needs client commands (EHLO, MAIL FROM, RCPT TO, ...) and server replies (`250 ...`)"))
        }
        var evidence = Evidence(source: .transcript)
        // sendmail -v: `Connecting to mx.example.test. via esmtp...`.
        for line in raw where line.hasPrefix("Connecting to ") {
            let target = line.dropFirst("Connecting to ".count).prefix { $0 != " " }
            if let address = ReplyText.bracketedAddresses(String(target)).first {
                evidence.setReceiverAddress(address, from: "`\(line)`")
            } else {
                evidence.setReceiverName(String(target.hasSuffix(".") ? target.dropLast() : target), from: "`\(line)`")
            }
        }
        // Replies answer commands in the order sent (RFC 2920 3: a pipelining client, such as
        // sendmail -v shows, sends RCPT TO and DATA before their replies come).
        var sent: [(stage: SMTPStage, text: String)] = []
        var answered = 0
        var greeted = false
        var stage = SMTPStage.greeting
        var inMessage = false
        var pending: [String] = []
        var lastCommand = "the connection (the greeting: no command had been sent)"
        var decided: (reply: SMTPReply, stage: SMTPStage, after: String)?
        var last: (reply: SMTPReply, stage: SMTPStage, after: String)?
        for line in lines {
            switch line {
            case .note(let text):
                noteLine(text, into: &evidence)
            case .client(let text):
                if inMessage {
                    if text == "." {
                        inMessage = false
                        sent.append((.data, "the end of the message"))
                    }
                    continue
                }
                guard decided == nil else { continue }
                let upper = text.uppercased()
                if upper.hasPrefix("EHLO ") || upper.hasPrefix("HELO ") || upper.hasPrefix("LHLO ") {
                    stage = .helo
                    evidence.setHelo(text.dropFirst(5).trimmingCharacters(in: .whitespaces), from: "`\(text)`")
                } else if upper.hasPrefix("MAIL FROM:") {
                    stage = .mail
                    if let from = ReplyText.angle(after: "MAIL FROM:", in: text) { evidence.setMailFrom(from, from: "`\(text)`") }
                } else if upper.hasPrefix("RCPT TO:") {
                    stage = .rcpt
                    if let to = ReplyText.angle(after: "RCPT TO:", in: text) { evidence.addRecipient(to, from: "`\(text)`") }
                } else if upper.hasPrefix("DATA") || upper.hasPrefix("BDAT") {
                    stage = .data
                }
                sent.append((commandStage(upper) ?? stage, "`\(text)`"))
            case .server(let text, _):
                guard let part = ReplyText.reply(Substring(text)) else { continue }
                let chars = Array(text.prefix(4))
                pending.append(part.text)
                if chars.count == 4, chars[3] == "-" { continue }
                let reply = SMTPReply(code: part.code, enhanced: part.enhanced, lines: pending)
                pending = []
                // The reply to the oldest command not yet answered; none before the greeting's.
                var replyStage = SMTPStage.greeting
                if !greeted, reply.code == 220 || answered == sent.count {
                    lastCommand = "the connection (the greeting: no command had been sent)"
                } else if answered < sent.count {
                    (replyStage, lastCommand) = sent[answered]
                    answered += 1
                } else {
                    replyStage = stage
                }
                greeted = true
                let stage = replyStage
                if stage == .greeting, reply.code == 220, evidence.receiverName == nil, let name = reply.lines.first?.split(separator: " ").first {
                    evidence.setReceiverName(String(name), from: "the greeting `220 \(name) ...`")
                }
                if reply.code == 354 { inMessage = true }
                if decided == nil {
                    last = (reply, stage, lastCommand)
                    if reply.code >= 400 { decided = (reply, stage, lastCommand) }
                }
            }
        }
        guard let deciding = decided ?? last else {
            return .failure(ReaderMiss("an SMTP dialogue without a complete reply"))
        }
        evidence.setReply(deciding.reply, from: "the reply to \(deciding.after)")
        evidence.setStage(deciding.stage, from: "the reply came after \(deciding.after)")
        return .success(evidence)
    }

    private static func commandStage(_ upper: String) -> SMTPStage? {
        if upper.hasPrefix("EHLO ") || upper.hasPrefix("HELO ") || upper.hasPrefix("LHLO ") { return .helo }
        if upper.hasPrefix("MAIL FROM:") { return .mail }
        if upper.hasPrefix("RCPT TO:") { return .rcpt }
        if upper.hasPrefix("DATA") || upper.hasPrefix("BDAT") { return .data }
        return nil
    }

    /// swaks' `Trying mx.example.test:25...` / `Connected to 2001:db8::10.` and mxharness's
    /// `Trying [2001:db8::10]:25 from [2001:db8::66]...`.
    private static func noteLine(_ text: String, into evidence: inout Evidence) {
        if text.hasPrefix("Trying ") {
            let addresses = ReplyText.bracketedAddresses(text)
            if let remote = addresses.first { evidence.setReceiverAddress(remote, from: "`=== \(text)`") }
            if addresses.count > 1, text.contains(" from [") { evidence.setClient(addresses[1], from: "`=== \(text)`") }
            if addresses.isEmpty, let target = text.dropFirst("Trying ".count).split(separator: ":").first {
                evidence.setReceiverName(String(target), from: "`=== \(text)`")
            }
        } else if text.hasPrefix("Connected to "), let address = IPAddress(text.dropFirst("Connected to ".count).trimmingCharacters(in: CharacterSet(charactersIn: ". "))) {
            evidence.setReceiverAddress(address, from: "`=== \(text)`")
        }
    }
}
