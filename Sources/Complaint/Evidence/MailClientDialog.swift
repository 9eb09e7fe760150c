import Foundation
import SMTPProtocol

/// A desktop mail client's error dialog with the server's reply inside it:
/// - Thunderbird's and SeaMonkey's `An error occurred while sending mail. The mail server
///   responded: <reply>. Please check the message recipient "<r>" and try again.` (mailnews/compose
///   messages.ftl), and Netscape's older texts (allxpstr.h). These show the reply's text without
///   its code (`5.7.1 <r>: Relay access denied`); a reply without an enhanced code loses its class too.
/// - Outlook's and Outlook Express's `Protocol: SMTP, Server Response: '<reply>', Port: 25, ...,
///   Error Number: 0x800CCC79`, which keep the code.
enum MailClientDialog {
    /// What introduces the server's reply in Thunderbird's and Netscape's texts, and their own
    /// words after it.
    static let introduction = #"(?:The mail server responded|The server responded|Server responded)\s*:\s*"#
    static let tail =
        #"\.?\s*(?:Please verify that your e-?mail address|Please check the message\b"#
        + #"|Contact your mail administrator\b).*$"#
    /// Outlook's field list, in its translations too (`Serverantwort: "..."`, `Réponse du serveur :
    /// '...'`); the reply may hold apostrophes (`isn't`), so it ends at a quote before the next field
    /// (`', Port:`, `", Anschluss:`) or at the end.
    static let outlook = try! NSRegularExpression(
        pattern:
            #"(?:Server Response|Serverantwort|R[ée]ponse du serveur|Respuesta del servidor|Resposta do servidor"#
            + #"|Risposta del server|Serverantwoord)\s*:\s*['"„“«‚‘](.*?)['"“”»‘’]\s*(?:,\s*[^,:'"]{1,30}:|$)"#,
        options: [.caseInsensitive])

    static func read(_ raw: [Substring]) -> Result<Evidence, ReaderMiss> {
        let lines = ReplyText.unfold(raw)
        guard let found = reply(in: BounceText.paragraphs(lines)) else {
            return .failure(
                ReaderMiss(
                    "no `The mail server responded: ...` (Thunderbird, Netscape), no `Server Response: '...'` (Outlook)"
                ))
        }
        var evidence = Evidence(source: .mailClient)
        evidence.setReply(found.reply, from: found.why, inferred: found.codeInferred)
        if let (stage, why) = found.stage { evidence.setStage(stage, from: why, inferred: true) }
        // The recipient the dialog names: Thunderbird's `Please check the message recipient "r"`,
        // Outlook's `The rejected e-mail address was 'r'`.
        let whole = BounceText.paragraphs(lines).joined(separator: " ")
        let named = [
            #"check the message recipient\s+"*([^"\s]+@[^"\s]+?)"*\s+and try"#,
            #"rejected e-mail address was '([^'\s]+@[^'\s]+)'"#,
        ]
        for pattern in named {
            if let regex = try? NSRegularExpression(pattern: pattern, options: .caseInsensitive),
                let match = regex.firstMatch(in: whole, range: NSRange(whole.startIndex..., in: whole)),
                let words = Range(match.range, in: whole), let range = Range(match.range(at: 1), in: whole)
            {
                evidence.addRecipient(String(whole[range]), from: "the dialog's `\(whole[words].prefix(60))`")
            }
        }
        BounceText.complete(&evidence, lines: lines)
        return .success(evidence)
    }

    struct Found {
        var reply: SMTPReply
        var why: String
        /// The dialog dropped the code, so it is inferred.
        var codeInferred: Bool
        var stage: (SMTPStage, String)?
    }

    /// The reply in the first paragraph that holds a dialog, with why. The stage: what the reply's
    /// own text fixes first (a client's words are often wrong: Thunderbird says `Please verify that
    /// your email address is correct` for some refused recipients), then the dialog's words.
    static func reply(in paragraphs: [String]) -> Found? {
        for paragraph in paragraphs {
            let options: String.CompareOptions = [.regularExpression, .caseInsensitive]
            if let match = outlook.firstMatch(in: paragraph, range: NSRange(paragraph.startIndex..., in: paragraph)),
                let range = Range(match.range(at: 1), in: paragraph)
            {
                let said = String(paragraph[range])
                if let written = ReplyText.reply(Substring(said)), written.code >= 400 {
                    return Found(
                        reply: written, why: "Outlook's `Server Response: '...'` (or its translation)",
                        codeInferred: false,
                        stage: stage(of: written, in: paragraph))
                }
            }
            guard let start = paragraph.range(of: introduction, options: options) else { continue }
            var said = String(paragraph[start.upperBound...])
            if let end = said.range(of: tail, options: [.regularExpression, .caseInsensitive]) {
                said = String(said[..<end.lowerBound])
            }
            // A dialog quoted in a sentence (`I get a "The mail server responded: ...". Not sure`)
            // ends at its closing quote.
            let quoted = paragraph[..<start.lowerBound].filter { $0 == "\"" }.count % 2 == 1
            if quoted, let close = said.firstIndex(of: "\"") { said = String(said[..<close]) }
            let marks = CharacterSet.whitespaces.union(CharacterSet(charactersIn: "\"'"))
            said = ReplyText.balanced(said.trimmingCharacters(in: marks))
            // Thunderbird puts a full stop after the reply (`{ $serverResponse }.`).
            if said.hasSuffix("."), !said.hasSuffix("..") { said.removeLast() }
            guard !said.isEmpty else { continue }
            let dialog = "the mail client's dialog `\(paragraph[start].trimmingCharacters(in: .whitespaces)) ...`"
            if let written = ReplyText.reply(Substring(said)) {
                // A success is no refusal: not this paragraph.
                guard written.code >= 400 else { continue }
                return Found(reply: written, why: dialog, codeInferred: false, stage: stage(of: written, in: paragraph))
            }
            var enhanced = EnhancedCode(said)
            var text = said
            if let enhanced {
                // A multi-line reply keeps each line's enhanced code (`5.1.2 The recipient ... 5.1.2 .com> is ...`).
                let repeated = "\\s" + NSRegularExpression.escapedPattern(for: enhanced.text) + "\\s"
                text = String(text.dropFirst(enhanced.text.count))
                    .replacingOccurrences(of: repeated, with: " ", options: .regularExpression)
                    .trimmingCharacters(in: .whitespaces)
            } else if let marked = ReplyText.qmailEnhanced(said) {
                // qmail writes its enhanced code at the end of the text: `... rcpthosts (#5.7.1)`.
                enhanced = EnhancedCode(marked)
            }
            let stage = stage(of: text, enhanced: enhanced, in: paragraph)
            let (code, why) = CodelessReply.code(text: text, enhanced: enhanced, stage: stage?.0)
            let reason = "\(dialog), which shows the reply without its code; the code is \(code): \(why)"
            let reply = SMTPReply(code: code, enhanced: enhanced?.text, text)
            return Found(reply: reply, why: reason, codeInferred: true, stage: stage)
        }
        return nil
    }

    private static func stage(of reply: SMTPReply, in paragraph: String) -> (SMTPStage, String)? {
        stage(of: reply.text, enhanced: reply.enhanced.flatMap(EnhancedCode.init), in: paragraph)
    }

    private static func stage(of text: String, enhanced: EnhancedCode?, in paragraph: String) -> (SMTPStage, String)? {
        if let entry = CodelessReply.known(text, enhanced: enhanced), let stage = entry.stage {
            return (stage, "the reply's text, which \(entry.why) answers \(stage) with")
        }
        return StageWords.stage(in: text, replyOffset: nil, replyText: text, strength: .text)
            ?? StageWords.stage(in: paragraph, replyOffset: nil, replyText: text)
    }
}
