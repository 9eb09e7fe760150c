import DNSCore
import Foundation
import SMTPProtocol

/// Reads a complaint's evidence: a bounce (RFC 3464 DSN or plain text), a Postfix or Exim log
/// line, or an SMTP transcript. The formats are tried from the most structured to the least.
public enum EvidenceReader {
    public static func read(_ text: String) -> Result<Evidence, UnrecognizedEvidence> {
        // A whole message (an .eml, one bounce of an mbox) is read from its decoded parts; when they
        // tell nothing, with the text of the messages it attaches (a gateway's notice around the
        // MTA's bounce).
        guard MIMEMessage.looksLikeMessage(text) else { return read(InputText(text)) }
        let message = MIMEMessage(text)
        let own = read(InputText(message.readableText))
        guard case .failure = own, !message.attachedTexts.isEmpty else { return own }
        if case .success(let evidence) = read(InputText(message.readableText + "\n\n" + message.attachedTexts)) {
            return .success(evidence)
        }
        return own
    }

    static func read(_ input: InputText) -> Result<Evidence, UnrecognizedEvidence> {
        // A JSON log (a line that is an object) keeps the error as a string (`"message":"... with message
        // \"550 ...\""`, `\\r\\n` for its line breaks, maybe a JSON string inside it): read with the
        // escapes undone first.
        let text = input.lines.joined(separator: "\n")
        if text.range(of: #"(?m)^\s*\{".*\\""#, options: .regularExpression) != nil {
            let unescaped = jsonUnescaped(jsonUnescaped(text))
            if case .success(let evidence) = readFormats(InputText(unescaped)) { return .success(evidence) }
        }
        return readFormats(input)
    }

    private static func readFormats(_ input: InputText) -> Result<Evidence, UnrecognizedEvidence> {
        let raw = input.lines
        let plain = raw.map(String.init)
        var attempts: [(format: String, reason: String)] = []
        let readers: [(String, () -> Result<Evidence, ReaderMiss>)] = [
            (EvidenceSource.deliveryStatus.rawValue, { DeliveryStatus.read(raw) }),
            ("Postfix log line", { PostfixLog.read(plain) }),
            ("Exim log line", { EximLog.read(plain) }),
            ("sendmail log line", { SendmailLog.read(plain) }),
            ("qmail rblsmtpd log line", { QmailLog.read(plain) }),
            (EvidenceSource.courierReject.rawValue, { CourierLog.read(plain) }),
            (EvidenceSource.keyValueLog.rawValue, { KeyValueLog.read(plain) }),
            (EvidenceSource.mailClient.rawValue, { MailClientDialog.read(raw) }),
            (EvidenceSource.transcript.rawValue, { Transcript.read(raw) }),
            (EvidenceSource.bounceText.rawValue, { BounceText.read(raw) }),
        ]
        for (format, reader) in readers {
            switch reader() {
            case .success(var evidence):
                complete(&evidence)
                completeFromWords(&evidence, input: input)
                return .success(evidence)
            case .failure(let miss):
                attempts.append((format, miss.reason))
            }
        }
        return .failure(UnrecognizedEvidence(attempts: attempts, found: clues(plain)))
    }

    /// `text` with JSON's escapes (RFC 8259 7) undone: `\"`, `\\`, `\n`; `\r` and `\t` become nothing and a space.
    static func jsonUnescaped(_ text: String) -> String {
        var out = ""
        var escaped = false
        for character in text {
            if escaped {
                switch character {
                case "n": out.append("\n")
                case "r": break
                case "t": out.append(" ")
                case "\"", "\\", "/": out.append(character)
                default: out.append("\\"); out.append(character)
                }
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                out.append(character)
            }
        }
        if escaped { out.append("\\") }
        return out
    }

    /// What every format leaves to reasoning: the client address named in the reply text.
    static func complete(_ evidence: inout Evidence) {
        if evidence.clientAddress == nil, let reply = evidence.reply {
            // Postfix (`cannot find your hostname, [ADDR]`, `Client host [ADDR] blocked`), Microsoft and
            // Google name the client in brackets.
            if let address = ReplyText.bracketedAddresses(reply.text).first(where: { $0 != evidence.receiverAddress }) {
                evidence.setClient(
                    address, from: "the reply text, which names the client as [\(address)]", inferred: true)
            }
        }
        // Postfix's HELO restrictions quote the HELO: `<name>: Helo command rejected: ...`.
        if evidence.helo == nil, let text = evidence.reply?.text,
            let range = text.range(of: #"<[^<>\s]+>: Helo command rejected"#, options: .regularExpression)
        {
            let helo = text[range].dropFirst().prefix { $0 != ">" }
            evidence.setHelo(String(helo), from: "the reply text `<\(helo)>: Helo command rejected`", inferred: true)
        }
    }

    /// What the words of the input tell that the format did not: the stage an MTA, a provider or a
    /// client library names (anywhere in the text, also across wrapped lines), the stage of a front
    /// end's connection-time text, the sender's outcome, and the client's and the MX's addresses
    /// wherever the text names them.
    static func completeFromWords(_ evidence: inout Evidence, input: InputText) {
        let whole = input.whole
        let lines = input.unfolded
        if evidence.stage == nil {
            // Where the reply sits: its code, or (a code the input did not print) its first words.
            let offset = evidence.reply.flatMap { reply in
                (whole.range(of: "\(reply.code)")
                    ?? (reply.text.count >= 8 ? whole.range(of: String(reply.text.prefix(24))) : nil))
                    .map { whole.distance(from: whole.startIndex, to: $0.lowerBound) }
            }
            if let (stage, why) = StageWords.stage(in: whole, replyOffset: offset, replyText: evidence.reply?.text) {
                evidence.setStage(stage, from: why, inferred: true)
            }
        }
        if evidence.stage == nil, let text = evidence.reply?.text, let (stage, why) = StageWords.stage(replyText: text)
        {
            evidence.setStage(stage, from: why, inferred: true)
        }
        if evidence.stage == nil, let text = evidence.reply?.text, let why = Hints.greetingStage(replyText: text) {
            evidence.setStage(.greeting, from: why, inferred: true)
        }
        if evidence.stage == nil, let (stage, why) = evidence.fallbackStage {
            evidence.setStage(stage, from: why, inferred: true)
        }
        if evidence.observedOutcome == nil, let (outcome, why) = Hints.outcome(in: lines.joined(separator: "\n")) {
            evidence.setOutcome(outcome, from: why, inferred: true)
        }
        // A 5xx the sender deferred: Postfix defers a 5xx only at the greeting (smtp_skip_5xx_greeting).
        if evidence.stage == nil, let reply = evidence.reply, reply.isPermanentFailure,
            evidence.observedOutcome == .deferred
        {
            evidence.setStage(
                .greeting,
                from:
                    "a 5xx that the sender deferred, which Postfix does only with a greeting (smtp_skip_5xx_greeting = yes)",
                inferred: true)
        }
        // The client and the MX wherever the text names them.
        if evidence.clientAddress == nil,
            let found = AddressWords.client(in: lines).first(where: { $0.address != evidence.receiverAddress })
        {
            evidence.setClient(found.address, from: found.why, inferred: true)
        }
        if evidence.receiverAddress == nil,
            let found = AddressWords.mx(in: lines).first(where: { $0.address != evidence.clientAddress })
        {
            evidence.setReceiverAddress(found.address, from: found.why)
        }
        if evidence.clientAddress == nil, let text = evidence.reply?.text,
            let address = Hints.bareAddresses(text).first(where: { $0 != evidence.receiverAddress })
        {
            evidence.setClient(address, from: "the reply text, which names the client as \(address)", inferred: true)
        }
    }

    /// Pieces found in unrecognised input, to show the user what was seen.
    static func clues(_ lines: [String]) -> [String] {
        var out: [String] = []
        if let reply = lines.lazy.compactMap(ReplyText.replyAnywhere).first {
            out.append(
                "a reply \(reply.code)\(reply.enhanced.map { " " + $0 } ?? "") (but not in a form that says which command it answered)"
            )
        }
        let addresses = lines.flatMap(ReplyText.bracketedAddresses)
        if !addresses.isEmpty {
            out.append("addresses " + addresses.prefix(4).map(\.description).joined(separator: ", "))
        }
        let mailboxes = lines.compactMap { line -> String? in
            guard let range = line.range(of: #"<[^<>\s]+@[^<>\s]+>"#, options: .regularExpression) else { return nil }
            return String(line[range])
        }
        if !mailboxes.isEmpty {
            out.append("mail addresses " + Array(Set(mailboxes)).sorted().prefix(4).joined(separator: ", "))
        }
        return out
    }
}
