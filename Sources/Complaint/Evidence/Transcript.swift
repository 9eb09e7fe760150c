import DNSCore
import Foundation
import SMTPProtocol

/// A pasted SMTP dialogue of any two-sided form: swaks (`<-`, `->`), sendmail's `>>>`/`<<<`,
/// `S:`/`C:`, curl's `<`/`>`, `Sent:`/`Got:`, `SENT:`/`RECEIVED:`, a desktop client's
/// `READ`/`WROTE` blocks, lower-case `s:`/`c:` (CPP-SMTPClient), `-->`/`<--`, Exchange's protocol
/// log (`,>,` and `,<,` columns), Python smtplib's `send:`/`reply:`, markers behind a log prefix, or
/// bare lines (replies start with a code, commands with a verb). Which marker is the server's is read from what its lines hold:
/// the side whose lines are replies. The first 4xx/5xx reply decides; its stage is that of the
/// command it answered.
enum Transcript {
    enum Side: Equatable {
        case server, client
    }

    private enum Line {
        /// A reply line; `marked` when a marker says it is the server's (not a bare line with a code).
        case server(String, marked: Bool)
        case client(String)
        case note(String)
    }

    /// A line as read: its marker (normalised), the text after it.
    private struct Marked {
        var marker: String?
        var text: String
        /// A note line (swaks' `===`, a block header, a connection event).
        var isNote = false
        /// The remote endpoint of an Exchange protocol log line.
        var remote: String?
    }

    static let verbs = [
        "EHLO", "HELO", "LHLO", "MAIL FROM", "RCPT TO", "DATA", "QUIT", "RSET", "STARTTLS", "BDAT", "NOOP", "AUTH",
        "XCLIENT", "XFORWARD", "VRFY", "EXPN",
    ]

    /// Markers that may follow a log prefix (a time, a session number), with the side they
    /// usually mean; what the lines hold decides.
    private static let markers: [(pattern: String, usual: Side?)] = [
        (#"SERVER -> CLIENT:"#, .server), (#"CLIENT -> SERVER:"#, .client),
        (#"SMTP -> FROM SERVER:"#, .server), (#"SMTP -> (?:get_lines\(\)|ERROR):"#, nil),
        (#"Writing response to client:"#, .server), (#"Client sent:"#, .client),
        (#"Net::SMTP(?:=GLOB\(0x[0-9a-fA-F]+\))?<<<"#, .server),
        (#"Net::SMTP(?:=GLOB\(0x[0-9a-fA-F]+\))?>>>"#, .client),
        (#"SMTP<<"#, .server), (#"SMTP>>"#, .client),
        (#"<<<"#, .server), (#">>>"#, .client),
        (#"<--"#, nil), (#"-->"#, nil),
        (#"<\*\*"#, .server), (#"\*\*>"#, .client), (#"<~"#, .server), (#"~>"#, .client),
        (#"<-"#, nil), (#"->"#, nil), (#"<="#, nil), (#"=>"#, nil),
        (
            #"(?:Got|Recv|RECV|Rcvd|Received|RECEIVED|Read|In|inp|IN|Server|SERVER|S|s|reply|Response|RESPONSE):"#,
            .server
        ),
        (#"(?:Sent|SENT|Send|SEND|Wrote|Out|out|OUT|Client|CLIENT|C|c|send|Request|REQUEST):"#, .client),
        (#"\[S\]"#, .server), (#"\[C\]"#, .client),
    ]

    private static let markerRegex: NSRegularExpression = {
        let alternatives = markers.map(\.pattern).joined(separator: "|")
        // A marker at the start, or after a log prefix that ends in white space, `:` or `]`.
        return try! NSRegularExpression(pattern: #"^(.*?(?:^|[\s:\]"]))("# + alternatives + #")(?:\s|$|(?<=:))"#)
    }()

    /// Single-letter and one-character markers, only at the start of a line: `S 220`, `C EHLO`
    /// (Hesk's log), curl's `< 220` and `> EHLO`.
    private static let shortMarkers: [(prefix: String, usual: Side)] = [
        ("< ", .server), ("> ", .client), ("S ", .server), ("C ", .client),
    ]

    /// `<` or `>` after a log prefix that ends in `:` or `]` and a space.
    private static let prefixedShortMarker = try! NSRegularExpression(pattern: #"^(.*?[:\]])\s+([<>])\s"#)

    /// A desktop client's block header: `READ Dec 31 11:39:39.553 [...] -- host:... -- port:587`, and
    /// the connection events around them.
    private static let blockHeader = try! NSRegularExpression(
        pattern:
            #"^\s*(READ|WROTE|SENT|RECEIVED|INITIATING CONNECTION|CONNECTED|DISCONNECTED|SOCKET CLOSED)\b\s*(?:[A-Z][a-z]{2}\s+\d|\d{1,4}[-/:.]|\[|--|$)"#
    )

    /// What may stand before a marker: a time, a level, a session number, `key=value` fields, not a
    /// sentence (`... Unexpected return code - Expected: 250, Got: 501` is prose about a reply) and
    /// not a command or a reply.
    private static func isLogPrefix(_ prefix: Substring) -> Bool {
        let text = String(prefix)
        if isReply(text) || isCommand(text) { return false }
        // An exception's message (`Caused by: ...NegativeSmtpReplyException: Negative SMTP reply: 550 ...`)
        // is a client library's words about a reply, not a log line of a dialogue.
        if text.range(of: #"[A-Za-z](?:Exception|Error)\b|\bCaused by:"#, options: .regularExpression) != nil {
            return false
        }
        // A reply code in it (`Expected: 250, Got: 553`) makes it words about a reply.
        if text.range(of: #"(?<![\d.:\-])[2-5]\d\d(?![\d.:\-])"#, options: .regularExpression) != nil { return false }
        return text.range(of: #"(?:\b[A-Za-z]{2,} ){3}[A-Za-z]{2,}\b"#, options: .regularExpression) == nil
    }

    private static func isReply(_ text: String) -> Bool {
        ReplyText.reply(Substring(text.trimmingCharacters(in: .whitespaces))) != nil
    }

    /// A client command as RFC 5321 4.1.1 writes it: `MAIL FROM:`/`RCPT TO:` with their colon,
    /// `DATA`, `QUIT`, `RSET`, `STARTTLS`, `NOOP` alone, the others with an argument after a space.
    static func isCommand(_ text: String) -> Bool {
        let upper = text.trimmingCharacters(in: .whitespaces).uppercased()
        for verb in verbs where upper.hasPrefix(verb) {
            let rest = upper.dropFirst(verb.count)
            switch verb {
            case "MAIL FROM", "RCPT TO": if rest.drop(while: { $0 == " " }).first == ":" { return true }
            case "DATA", "QUIT", "RSET", "STARTTLS", "NOOP": if rest.isEmpty { return true }
            default: if rest.isEmpty || rest.first == " " { return true }
            }
        }
        return false
    }

    /// The text a logger quoted: Python's `b'250 ok\r\n'`, Ruby's `"250 ok\r\n"`, `\r\n` escapes.
    private static func unwrapped(_ text: String) -> String {
        var out = text.trimmingCharacters(in: .whitespaces)
        // A logger that quotes the whole message: `msg="Writing response to client: \n250 OK\r\n"`.
        while out.hasPrefix("\\n") || out.hasPrefix("\\r") { out.removeFirst(2) }
        if out.hasSuffix("\""), !out.dropLast().contains("\"") { out.removeLast() }
        // Python's `b'250 ok\r\n'`, Ruby's `"250 ok\r\n"` (whose `\r\n` may have become a line break).
        if out.hasPrefix("b'") || out.hasPrefix("b\"") { out.removeFirst() }
        if let first = out.first, first == "'" || first == "\"" {
            out.removeFirst()
            if out.last == first { out.removeLast() }
        }
        for escape in ["\\r\\n", "\\n", "\\r", "<CRLF>"] where out.hasSuffix(escape) {
            out = String(out.dropLast(escape.count))
        }
        return out
    }

    /// Python smtplib's debug line `reply: retcode (550); Msg: b'5.7.1 text'`, which repeats the
    /// reply its `reply: b'550 ...'` lines gave.
    private static func smtplibReply(_ text: String) -> String? {
        guard let range = text.range(of: #"retcode \((\d{3})\); Msg: "#, options: .regularExpression) else {
            return nil
        }
        return String(text[range.upperBound...])
    }

    /// Exchange's SMTP protocol log: `date,connector,session,seq,local,remote,EVENT,data,context`.
    private static func exchangeLine(_ line: String) -> Marked? {
        let fields = csvFields(line)
        guard fields.count >= 8, ["<", ">", "+", "-", "*"].contains(fields[6]),
            fields[4].contains(":") || fields[4].isEmpty
        else { return nil }
        let event = fields[6]
        if event == "+" || event == "-" || event == "*" {
            return Marked(marker: nil, text: fields[7], isNote: true, remote: fields[5])
        }
        return Marked(marker: "exchange" + event, text: fields[7], remote: fields[5])
    }

    private static func csvFields(_ line: String) -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var iterator = line.makeIterator()
        while let character = iterator.next() {
            if character == "\"" {
                quoted.toggle()
            } else if character == ",", !quoted {
                fields.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        fields.append(current)
        return fields
    }

    /// Each line with its marker.
    private static func marked(_ raw: [Substring]) -> [Marked] {
        var out: [Marked] = []
        var block: String?
        for rawLine in raw {
            let line = String(rawLine)
            if let exchange = exchangeLine(line) {
                out.append(exchange)
                continue
            }
            let range = NSRange(line.startIndex..., in: line)
            if let header = blockHeader.firstMatch(in: line, range: range),
                let word = Range(header.range(at: 1), in: line)
            {
                let name = String(line[word])
                block =
                    name == "READ" || name == "WROTE" || name == "SENT" || name == "RECEIVED" ? "block:" + name : nil
                out.append(Marked(marker: nil, text: line, isNote: true))
                continue
            }
            if line.hasPrefix("=== ") || line.hasPrefix("*** ") {
                out.append(Marked(marker: nil, text: String(line.dropFirst(4)), isNote: true))
                continue
            }
            if line.trimmingCharacters(in: .whitespaces).isEmpty {
                if block != nil { continue }
                out.append(Marked(marker: nil, text: "", isNote: true))
                continue
            }
            if let block {
                out.append(Marked(marker: block, text: unwrapped(line)))
                continue
            }
            if line.hasPrefix("Trying ") || line.hasPrefix("Connected to ") || line.hasPrefix("Escape character is ") {
                // telnet's and nc's own lines around a session.
                out.append(Marked(marker: nil, text: line, isNote: true))
                continue
            }
            if let match = markerRegex.firstMatch(in: line, range: range),
                let prefixRange = Range(match.range(at: 1), in: line),
                let markerRange = Range(match.range(at: 2), in: line),
                isLogPrefix(line[prefixRange])
            {
                let marker = String(line[markerRange]).replacingOccurrences(
                    of: #"=GLOB\(0x[0-9a-fA-F]+\)"#, with: "", options: .regularExpression)
                var text = String(line[markerRange.upperBound...])
                // hMailServer quotes each field: `"SENT: 550 ..."`.
                if line[prefixRange].hasSuffix("\""), text.hasSuffix("\"") { text.removeLast() }
                // Python smtplib repeats a reply as `retcode (550); Msg: ...` after its lines.
                if smtplibReply(text) != nil {
                    out.append(Marked(marker: nil, text: text, isNote: true))
                    continue
                }
                out.append(Marked(marker: marker, text: unwrapped(text)))
                continue
            }
            // curl's and webmail loggers' `<`/`>` behind a log prefix (`[06:06:29.308][e5337303]
            // SMTP[DATA]: > RCPT TO:...`), in front of a reply or a command only.
            if let match = prefixedShortMarker.firstMatch(in: line, range: range),
                let prefixRange = Range(match.range(at: 1), in: line),
                let markerRange = Range(match.range(at: 2), in: line),
                isLogPrefix(line[prefixRange])
            {
                let rest = unwrapped(String(line[markerRange.upperBound...]))
                if isReply(rest) || isCommand(rest) {
                    out.append(
                        Marked(marker: String(line[markerRange]).trimmingCharacters(in: .whitespaces), text: rest))
                    continue
                }
            }
            if let short = shortMarkers.first(where: { line.hasPrefix($0.prefix) }) {
                let rest = String(line.dropFirst(short.prefix.count))
                // `S `/`C ` only in front of a reply or a command; `<`/`>` likewise, so that a quoted
                // letter is not taken for a dialogue.
                if isReply(rest) || isCommand(rest)
                    || short.prefix == "> " && rest.trimmingCharacters(in: .whitespaces) == "."
                {
                    out.append(Marked(marker: short.prefix.trimmingCharacters(in: .whitespaces), text: rest))
                    continue
                }
            }
            out.append(Marked(marker: nil, text: listItem(line)))
        }
        return out
    }

    /// A bare line as a paste may dress it: an item of a numbered or bulleted list (`4. EHLO
    /// [IPv6:::1]`, `- 550 ...`) or set in Markdown emphasis or code (`**EHLO x**`), when what is
    /// inside is a command or a reply; else the line trimmed.
    private static func listItem(_ line: String) -> String {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        var inner = trimmed.replacingOccurrences(
            of: #"^(?:\d{1,3}[.)]|[-*+•])\s+"#, with: "", options: .regularExpression)
        for mark in ["**", "__", "`"]
        where inner.hasPrefix(mark) && inner.hasSuffix(mark) && inner.count > 2 * mark.count {
            inner = String(inner.dropFirst(mark.count).dropLast(mark.count))
        }
        return inner != trimmed && (isCommand(inner) || isReply(inner)) ? inner : trimmed
    }

    /// The side of each marker, from what its lines hold; a marker whose lines tell nothing takes
    /// its usual side, the other one's opposite.
    private static func sides(_ lines: [Marked]) -> [String: Side] {
        var replies: [String: Int] = [:], commands: [String: Int] = [:]
        for line in lines {
            guard let marker = line.marker else { continue }
            if isReply(line.text) { replies[marker, default: 0] += 1 }
            if isCommand(line.text) { commands[marker, default: 0] += 1 }
        }
        var out: [String: Side] = [:]
        let all = Set(lines.compactMap(\.marker))
        for marker in all {
            let r = replies[marker] ?? 0, c = commands[marker] ?? 0
            if r != c { out[marker] = r > c ? .server : .client }
        }
        for marker in all where out[marker] == nil {
            if let usual = markers.first(where: {
                marker.range(of: "^(?:" + $0.pattern + ")$", options: .regularExpression) != nil
            })?.usual
                ?? shortMarkers.first(where: { $0.prefix.trimmingCharacters(in: .whitespaces) == marker })?.usual
            {
                out[marker] = usual
            } else if let other = out.first(where: { $0.key != marker })?.value {
                out[marker] = other == .server ? .client : .server
            }
        }
        return out
    }

    private static func classify(_ lines: [Marked]) -> (lines: [Line], serverRemote: String?, clientRemote: String?) {
        let side = sides(lines)
        var out: [Line] = []
        var serverRemote: String?, clientRemote: String?
        for line in lines {
            if line.isNote {
                if !line.text.isEmpty { out.append(.note(line.text)) }
                continue
            }
            if let marker = line.marker, let which = side[marker] {
                switch which {
                case .server:
                    out.append(.server(line.text, marked: true))
                    if serverRemote == nil, let remote = line.remote { serverRemote = remote }
                case .client:
                    out.append(.client(line.text))
                    if clientRemote == nil, let remote = line.remote { clientRemote = remote }
                }
                continue
            }
            if isReply(line.text) {
                out.append(.server(line.text, marked: false))
            } else if isCommand(line.text) || line.text == "." {
                out.append(.client(line.text))
            } else if case .server(let previous, true)? = out.last, continues(previous, with: line.text) {
                // A reply line that a paste wrapped (`<<< 550 5.7.1 <b@example.test>...` / `Relaying denied.`).
                out[out.count - 1] = .server(
                    previous.trimmingCharacters(in: .whitespaces) + " " + line.text, marked: true)
            }
        }
        return (out, serverRemote, clientRemote)
    }

    static func read(_ raw: [Substring]) -> Result<Evidence, ReaderMiss> {
        let markedLines = marked(raw)
        let (lines, serverRemote, clientRemote) = classify(markedLines)
        let commands = lines.filter {
            if case .client(let text) = $0 {
                isCommand(text) || text.trimmingCharacters(in: .whitespaces) == "."
            } else {
                false
            }
        }
        let replies = lines.filter { if case .server(let text, _) = $0 { isReply(text) } else { false } }
        // Server lines marked as such are a dialogue even without a command (a greeting that refused),
        // as is a reply after telnet's `Connected to` / `Escape character is`.
        let marked = lines.contains { if case .server(let text, true) = $0 { isReply(text) } else { false } }
        let connected = lines.contains {
            if case .note(let text) = $0 {
                text.hasPrefix("Connected to ") || text.hasPrefix("Escape character is ")
            } else {
                false
            }
        }
        // `> ` before replies alone, with no command and no other side, is a mail or Markdown
        // quotation of a reply (RFC 3676 4.5's quote marker), not the server's side of a dialogue;
        // so are replies behind an arrow that points away (`host:25 --> 554 ...`, a log's note of
        // the result of a delivery, not a line it received).
        let usedMarkers = Set(markedLines.compactMap(\.marker))
        let quotation =
            commands.isEmpty && !connected && !usedMarkers.isEmpty
            && usedMarkers.isSubset(of: [">", "-->", "->", "=>"])
        guard !commands.isEmpty || (marked && !quotation) || connected, !replies.isEmpty else {
            return .failure(
                ReaderMiss(
                    "no SMTP dialogue: needs client commands (EHLO, MAIL FROM, RCPT TO, ...) and server replies (`250 ...`)"
                ))
        }
        var evidence = Evidence(source: .transcript)
        // Exchange's protocol log: the remote end of a send log is the MX, of a receive log the client.
        if let remote = serverRemote ?? clientRemote,
            let address = AddressWords.parse(Substring(remote)) ?? AddressWords.address(at: Substring(remote))
        {
            if serverRemote != nil {
                evidence.setReceiverAddress(
                    address, from: "the remote endpoint `\(remote)` of a protocol log whose remote side answers")
            } else {
                evidence.setClient(
                    address,
                    from: "the remote endpoint `\(remote)` of a protocol log whose remote side sends the commands")
            }
        }
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
        var sent: [(stage: SMTPStage, text: String, upper: String)] = []
        var answered = 0
        var greeted = false
        var stage = SMTPStage.greeting
        var inMessage = false
        var pending: [String] = []
        // The code of the multi-line reply being collected, and the command it follows.
        var pendingStart: (code: Int, enhanced: String?, after: String)?
        var lastCommand = "the connection (the greeting: no command had been sent)"
        var decided: (reply: SMTPReply, stage: SMTPStage, after: String)?
        // The first command the client sent after the deciding reply.
        var commandAfterDecision: String?
        var last: (reply: SMTPReply, stage: SMTPStage, after: String)?
        /// A failure that answered EHLO: Postfix's client and most others say HELO next
        /// (smtp_proto.c smtp_helo()), so it decides only if no HELO follows.
        var refusedEHLO: (reply: SMTPReply, stage: SMTPStage, after: String)?
        let remaining = repliesLeftInBurst(lines)
        for (index, line) in lines.enumerated() {
            switch line {
            case .note(let text):
                noteLine(text, into: &evidence)
            case .client(let text):
                if inMessage {
                    if text == "." {
                        inMessage = false
                        sent.append((.data, "the end of the message", "."))
                    }
                    continue
                }
                // A client library's own words behind the client's marker (`c: Connected!`, `c: <Start
                // TLS negotiation>`) wait for no reply: only a command, the dot that ends the message
                // or an AUTH exchange's base64 line does (RFC 4954 4).
                if !isCommand(text), text != ".",
                    text.range(of: #"^[A-Za-z0-9+/=*]+$"#, options: .regularExpression) == nil
                {
                    noteLine(text, into: &evidence)
                    continue
                }
                guard decided == nil else {
                    if commandAfterDecision == nil { commandAfterDecision = text.uppercased() }
                    continue
                }
                let upper = text.uppercased()
                if refusedEHLO != nil, !(upper.hasPrefix("HELO") || upper.hasPrefix("EHLO")) {
                    decided = refusedEHLO
                    continue
                }
                if upper.hasPrefix("EHLO ") || upper.hasPrefix("HELO ") || upper.hasPrefix("LHLO ") {
                    stage = .helo
                    evidence.setHelo(text.dropFirst(5).trimmingCharacters(in: .whitespaces), from: "`\(text)`")
                } else if upper.hasPrefix("MAIL FROM:") {
                    stage = .mail
                    if let from = ReplyText.angle(
                        after: "MAIL FROM:", in: text.replacingOccurrences(of: ": <", with: ":<"))
                    {
                        evidence.setMailFrom(from, from: "`\(text)`")
                    }
                } else if upper.hasPrefix("RCPT TO:") {
                    stage = .rcpt
                    if let to = ReplyText.angle(after: "RCPT TO:", in: text.replacingOccurrences(of: ": <", with: ":<"))
                    {
                        evidence.addRecipient(to, from: "`\(text)`")
                    }
                } else if upper.hasPrefix("DATA") || upper.hasPrefix("BDAT") || upper == "." {
                    stage = .data
                }
                sent.append((commandStage(upper) ?? stage, "`\(text)`", upper))
            case .server(let text, _):
                guard let part = ReplyText.reply(Substring(text.trimmingCharacters(in: .whitespaces))) else { continue }
                let chars = Array(text.trimmingCharacters(in: .whitespaces).prefix(4))
                if pending.isEmpty { pendingStart = (part.code, part.enhanced, lastCommand) }
                pending.append(part.text)
                if chars.count == 4, chars[3] == "-" { continue }
                let reply = SMTPReply(code: part.code, enhanced: part.enhanced, lines: pending)
                pending = []
                // The reply to the oldest command not yet answered; none before the greeting's.
                var replyStage = SMTPStage.greeting
                var command = ""
                if !greeted, reply.code == 220 || answered == sent.count {
                    lastCommand = "the connection (the greeting: no command had been sent)"
                } else if answered < sent.count, remaining[index] > sent.count - answered {
                    // More replies in a row than commands shown: an excerpt of a pipelining client's
                    // session (sendmail's `... while talking to`: `>>> DATA`, then the replies to
                    // the RCPT TO it sent before, then DATA's). The surplus answers the commands
                    // before the ones shown.
                    replyStage = Self.before(sent[answered].stage)
                    lastCommand =
                        "a command sent before \(sent[answered].text) (a pipelined session; the excerpt starts later)"
                    command = ""
                } else if answered < sent.count {
                    (replyStage, lastCommand, command) = sent[answered]
                    answered += 1
                } else {
                    replyStage = stage
                }
                greeted = true
                if replyStage == .greeting, reply.code == 220, evidence.receiverName == nil,
                    let name = reply.lines.first?.split(separator: " ").first
                {
                    evidence.setReceiverName(String(name), from: "the greeting `220 \(name) ...`")
                }
                if reply.code == 354 { inMessage = true }
                guard decided == nil else { continue }
                last = (reply, replyStage, lastCommand)
                if reply.code >= 400 {
                    if command.hasPrefix("EHLO"), reply.code != 421 {
                        refusedEHLO = (reply, replyStage, lastCommand)
                    } else if [500, 501, 502, 504].contains(reply.code), Self.sessionWentOn(after: index, in: lines) {
                        // A syntax error (RFC 5321 4.2.2: 500-504 but 503) after which a later command
                        // was accepted: a slip the sender corrected (a hand-typed `Mail`, then `MAIL
                        // FROM:`), not what refused the mail.
                    } else {
                        decided = (reply, replyStage, lastCommand)
                    }
                } else if refusedEHLO != nil, command.hasPrefix("HELO") {
                    refusedEHLO = nil
                }
            }
        }
        // A multi-line reply the paste cut before its last line (`Got: 550-"[ACD14] ...`): its lines so
        // far are the reply, and the input is an excerpt (no greeting is taken from its order).
        var cut = false
        if decided == nil, refusedEHLO == nil, !pending.isEmpty, let start = pendingStart, start.code >= 400 {
            decided = (SMTPReply(code: start.code, enhanced: start.enhanced, lines: pending), stage, start.after)
            cut = true
        }
        guard let deciding = decided ?? refusedEHLO ?? last else {
            return .failure(ReaderMiss("an SMTP dialogue without a complete reply"))
        }
        guard deciding.reply.code >= 400 else {
            return .failure(ReaderMiss("an SMTP dialogue in which no reply refused anything"))
        }
        // Unmarked lines with the replies before every command and none after them are no dialogue
        // but a notice that lists the reply and then the command or the envelope (Apache James's
        // `Message details: MAIL FROM: ... RCPT TO: ...`, m-FILTER's `server message` / `SMTP command`).
        let anyMarked = lines.contains { if case .server(let text, true) = $0 { isReply(text) } else { false } }
        if !anyMarked, deciding.stage == .greeting, !commands.isEmpty,
            let firstCommand = lines.firstIndex(where: { if case .client = $0 { true } else { false } }),
            !lines[firstCommand...].contains(where: {
                if case .server(let text, _) = $0 { isReply(text) } else { false }
            })
        {
            return .failure(
                ReaderMiss("the replies come before every command and none after them: a notice, not a dialogue"))
        }
        evidence.setReply(deciding.reply, from: "the reply to \(deciding.after)")
        // Without the client's side (a log of the server's lines only), the order of the replies
        // says nothing of the commands, except for a first reply that refused the connection.
        let firstReply = replies.first.flatMap { line -> Int? in
            if case .server(let text, _) = line {
                return ReplyText.reply(Substring(text.trimmingCharacters(in: .whitespaces)))?.code
            }
            return nil
        }
        // A refusal that no command came before, followed by one sent only inside a session (RSET,
        // MAIL, RCPT, DATA; RFC 5321 4.1.4), is no greeting: the excerpt starts mid-session
        // (Python smtplib's debug output shows `reply:` lines and then `send: 'rset'`). The words
        // around it are left to tell the stage.
        let midSession =
            deciding.stage == .greeting && deciding.reply.code != 220 && !commands.isEmpty
            && ["RSET", "MAIL", "RCPT", "DATA", "BDAT"].contains { commandAfterDecision?.hasPrefix($0) == true }
        if midSession {
            // No stage from the order of lines.
        } else if !commands.isEmpty {
            evidence.setStage(deciding.stage, from: "the reply came after \(deciding.after)")
        } else if deciding.stage == .greeting && firstReply == deciding.reply.code && !cut
            && deciding.reply.lines.joined(separator: " ").range(
                of: #"(?i)\b(?:this|the|your) message\b"#, options: .regularExpression) == nil
        {
            // Only the server's lines: a refusal as the first of them is the greeting, unless the
            // words around it name a command (MailKit's `RecipientNotAccepted`), or the reply speaks
            // of the message, which the server does not have at the greeting (an excerpt of
            // sendmail's transcript with Gmail's `this message does not meet IPv6 sending guidelines`).
            evidence.fallbackStage = (.greeting, "the server's first line, with no command before it, is the greeting")
        }
        return .success(evidence)
    }

    /// Whether, after the line at `index`, the client sent a command that the server accepted (2xx).
    private static func sessionWentOn(after index: Int, in lines: [Line]) -> Bool {
        var commandSent = false
        for line in lines[(index + 1)...] {
            switch line {
            case .client(let text) where isCommand(text): commandSent = true
            case .server(let text, _):
                if commandSent, let reply = ReplyText.reply(Substring(text.trimmingCharacters(in: .whitespaces))),
                    (200..<300).contains(reply.code)
                {
                    return true
                }
            default: break
            }
        }
        return false
    }

    /// Whether an unmarked line goes on with the server's line before it: that line stops mid-way
    /// (`...`, `:`, `,`, `-`) or this one starts in lower case; not a `...` note of its own.
    private static func continues(_ previous: String, with next: String) -> Bool {
        guard !next.hasPrefix("..."), let first = next.first else { return false }
        let end = previous.trimmingCharacters(in: .whitespaces)
        return end.hasSuffix("...") || end.hasSuffix(":") || end.hasSuffix(",") || end.hasSuffix("-")
            || first.isLowercase
    }

    /// For each complete reply, how many complete replies follow in the same run of server lines,
    /// itself included (0 for the other lines). Where the server's lines are marked, an unmarked one
    /// is no reply of the session (sendmail's own status line after its transcript).
    private static func repliesLeftInBurst(_ lines: [Line]) -> [Int] {
        let anyMarked = lines.contains { if case .server(let text, true) = $0 { isReply(text) } else { false } }
        var out = Array(repeating: 0, count: lines.count)
        var count = 0
        for index in lines.indices.reversed() {
            switch lines[index] {
            case .server(let text, let marked):
                if anyMarked, !marked { continue }
                let trimmed = text.trimmingCharacters(in: .whitespaces)
                guard ReplyText.reply(Substring(trimmed)) != nil else { continue }
                if Array(trimmed.prefix(4)).count == 4, Array(trimmed.prefix(4))[3] == "-" { continue }
                count += 1
                out[index] = count
            case .client:
                count = 0
            case .note:
                continue
            }
        }
        return out
    }

    /// The stage of the command a pipelining client sends before one of `stage`.
    private static func before(_ stage: SMTPStage) -> SMTPStage {
        switch stage {
        case .data: .rcpt
        case .rcpt: .mail
        case .mail: .helo
        case .helo, .greeting, .connect: .greeting
        }
    }

    private static func commandStage(_ upper: String) -> SMTPStage? {
        if upper.hasPrefix("EHLO") || upper.hasPrefix("HELO") || upper.hasPrefix("LHLO") { return .helo }
        if upper.hasPrefix("MAIL FROM") { return .mail }
        if upper.hasPrefix("RCPT TO") { return .rcpt }
        if upper.hasPrefix("DATA") || upper.hasPrefix("BDAT") { return .data }
        // The lone dot ends the message (RFC 5321 4.1.1.4); its reply answers the message.
        if upper == "." { return .data }
        return nil
    }

    /// swaks' `Trying mx.example.test:25...` / `Connected to 2001:db8::10.`, mxharness's
    /// `Trying [2001:db8::10]:25 from [2001:db8::66]...`, a desktop client's block header
    /// `-- host:mx.example.test -- port:25`.
    private static func noteLine(_ text: String, into evidence: inout Evidence) {
        if text.hasPrefix("Trying ") {
            let addresses = ReplyText.bracketedAddresses(text)
            if let remote = addresses.first { evidence.setReceiverAddress(remote, from: "`\(text)`") }
            if addresses.count > 1, text.contains(" from [") { evidence.setClient(addresses[1], from: "`\(text)`") }
            // `Trying 2001:db8::10...` (telnet), `Trying mx.example.test:25...` (swaks).
            var target = text.dropFirst("Trying ".count).prefix { $0 != " " }
            while target.hasSuffix(".") { target = target.dropLast() }
            if addresses.isEmpty {
                if let address = AddressWords.parse(target) {
                    evidence.setReceiverAddress(address, from: "`\(text)`")
                } else if let name = target.split(separator: ":").first {
                    evidence.setReceiverName(String(name), from: "`\(text)`")
                }
            }
        } else if text.hasPrefix("Connected to "),
            let address = IPAddress(
                text.dropFirst("Connected to ".count).trimmingCharacters(in: CharacterSet(charactersIn: ". ")))
        {
            evidence.setReceiverAddress(address, from: "`=== \(text)`")
        } else if let range = text.range(of: #"-- host:\S+"#, options: .regularExpression) {
            let host = text[range].dropFirst("-- host:".count)
            if let address = AddressWords.parse(host) {
                evidence.setReceiverAddress(address, from: "the block header's `host:\(host)`")
            } else {
                evidence.setReceiverName(String(host), from: "the block header's `host:\(host)`")
            }
        }
    }
}
