import DNSCore
import Foundation
import SMTPProtocol

/// sendmail's log lines: a receiving sendmail's ruleset reject (`ruleset=check_rcpt, arg1=<r>,
/// relay=name [addr], reject=550 5.7.1 <r>... Relaying denied`), its milter reject (`Milter:
/// to=<r>, reject=...`), and a sending sendmail's delivery line with the reply (`to=<r>, ...,
/// relay=mx. [addr], dsn=4.7.1, stat=Deferred: 450 4.7.1 ...`).
enum SendmailLog {
    private static let ruleset = try! NSRegularExpression(
        pattern: #"ruleset=(check_\w+|\w+), arg1=(.*?), (?:arg2=.*?, )?relay=(.*?), reject=(.*)$"#)
    private static let milter = try! NSRegularExpression(
        pattern:
            #"Milter(?: \([^)]*\))?: (from=<[^>]*>|to=<[^>]*>|data|helo=\S+|connect: host=\S+(?:, addr=\S+)?|[a-z]+)[^,]*, reject=(.*)$"#
    )
    private static let delivery = try! NSRegularExpression(
        pattern: #"\bto=<?([^\s,>]*)>?,.*?\brelay=([^,]*),.*?\bstat=(?:Deferred: |Service unavailable: )?(.*)$"#)

    static func read(_ lines: [String]) -> Result<Evidence, ReaderMiss> {
        for line in lines {
            if let evidence = readRuleset(line) ?? readMilter(line) { return .success(evidence) }
        }
        // Also a line a paste wrapped without indentation (OpenSMTPD's older `relay: TempFail for ID:
        // from=..., to=...,` / `relay=ADDR (name), delay=..., stat=451 ...`).
        let joined = InputText(lines.joined(separator: "\n")).paragraphs
        for line in lines + joined where line.contains("stat=") {
            if let evidence = readDelivery(line) { return .success(evidence) }
        }
        return .failure(
            ReaderMiss(
                "no `ruleset=check_..., relay=..., reject=CODE ...`, `Milter: ..., reject=...` or `to=<...>, relay=..., stat=CODE ...` line"
            ))
    }

    /// `relay=name [addr]`, `relay=[addr]`, `relay=name [addr] (may be forged)`.
    static func relay(_ text: String) -> (name: String?, address: IPAddress?) {
        // OpenSMTPD's `relay=ADDR (name)`: the address first, the host name in parentheses.
        let words = text.split(separator: " ")
        if let first = words.first, let address = IPAddress(String(first)) {
            let name = words.dropFirst().first.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "()")) }
            return (name.flatMap { $0.isEmpty || IPAddress($0) != nil ? nil : $0 }, address)
        }
        let name = text.split(separator: " ").first.map(String.init).flatMap { $0.hasPrefix("[") ? nil : $0 }
        let address = ReplyText.bracketedAddresses(text).first
        return (name, address)
    }

    static func readRuleset(_ line: String) -> Evidence? {
        let whole = NSRange(line.startIndex..., in: line)
        guard let match = ruleset.firstMatch(in: line, range: whole),
            let setRange = Range(match.range(at: 1), in: line), let argRange = Range(match.range(at: 2), in: line),
            let relayRange = Range(match.range(at: 3), in: line), let replyRange = Range(match.range(at: 4), in: line),
            let reply = ReplyText.reply(line[replyRange])
        else { return nil }
        var evidence = Evidence(source: .sendmailReject)
        let set = String(line[setRange])
        evidence.setReply(reply, from: "`reject=` of the `ruleset=\(set)` line")
        let relayText = String(line[relayRange])
        let (name, address) = relay(relayText)
        if let address { evidence.setClient(address, from: "`relay=\(relayText)` (the connecting client)") }
        if let name { evidence.setClientName(name, from: "`relay=\(relayText)`") }
        let arg = line[argRange].trimmingCharacters(in: .whitespaces)
        let mailbox = arg.hasPrefix("<") ? String(arg.dropFirst().prefix { $0 != ">" }) : arg
        switch set {
        case "check_rcpt":
            evidence.setStage(.rcpt, from: "`ruleset=check_rcpt` (sendmail checks the recipient at RCPT TO)")
            evidence.addRecipient(mailbox, from: "`arg1=\(arg)`")
        case "check_mail":
            evidence.setStage(.mail, from: "`ruleset=check_mail` (sendmail checks the sender at MAIL FROM)")
            evidence.setMailFrom(mailbox, from: "`arg1=\(arg)`")
        case "check_eoh", "check_eom", "check_data":
            evidence.setStage(.data, from: "`ruleset=\(set)` (the end of the headers or of the message)")
        case "check_relay" where reply.code == 421:
            // check_relay runs when the client connects; a 421 from it (ratecontrol, conncontrol)
            // is sent in the greeting's place and the connection closed (srvrsmtp.c). Other
            // refusals put sendmail in nullserver mode, which answers later commands: not stated.
            evidence.setStage(
                .greeting, from: "`ruleset=check_relay` with 421 (sendmail refuses the connection when it is made)")
        default:
            break
        }
        return evidence
    }

    static func readMilter(_ line: String) -> Evidence? {
        guard let match = milter.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)),
            let whatRange = Range(match.range(at: 1), in: line), let replyRange = Range(match.range(at: 2), in: line),
            let reply = ReplyText.reply(line[replyRange])
        else { return nil }
        var evidence = Evidence(source: .sendmailReject)
        let what = String(line[whatRange])
        evidence.setReply(reply, from: "`reject=` of the `Milter: \(what)` line")
        if what.hasPrefix("to=") {
            evidence.setStage(.rcpt, from: "`Milter: to=...` (the milter rejected the recipient)")
            evidence.addRecipient(String(what.dropFirst(4).dropLast()), from: "`Milter: \(what)`")
        } else if what.hasPrefix("from=") {
            evidence.setStage(.mail, from: "`Milter: from=...` (the milter rejected the sender)")
            evidence.setMailFrom(String(what.dropFirst(6).dropLast()), from: "`Milter: \(what)`")
        } else if what == "data" {
            evidence.setStage(.data, from: "`Milter: data` (the milter rejected the message)")
        } else if what.hasPrefix("helo=") {
            evidence.setStage(.helo, from: "`Milter: helo=...`")
        }
        return evidence
    }

    static func readDelivery(_ line: String) -> Evidence? {
        guard let match = delivery.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)),
            let toRange = Range(match.range(at: 1), in: line), let relayRange = Range(match.range(at: 2), in: line),
            let statRange = Range(match.range(at: 3), in: line),
            case var stat = String(line[statRange])
        else { return nil }
        // A joined paste runs on into the next syslog line (`... again later. Apr 25 12:48:01 host ...`).
        if let next = stat.range(of: #"\s+[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d\s.*$"#, options: .regularExpression) {
            stat.removeSubrange(next)
        }
        var inferred = false
        var reply = ReplyText.replyAnywhere(stat)
        // sendmail's own words for the remote's refusal (`dsn=5.7.1, stat=Service unavailable`, its
        // EX_UNAVAILABLE text) carry no code: the code is RFC 5321's for the `dsn=` class.
        if reply == nil, let dsn = line.range(of: #"\bdsn=[45]\.\d{1,3}\.\d{1,3}"#, options: .regularExpression),
            let enhanced = EnhancedCode(String(line[dsn].dropFirst(4)))
        {
            let text = stat.trimmingCharacters(in: .whitespaces)
            let code = CodelessReply.code(text: text, enhanced: enhanced, stage: nil).code
            reply = SMTPReply(code: code, enhanced: enhanced.text, text)
            inferred = true
        }
        guard let reply else { return nil }
        var evidence = Evidence(source: .sendmailDelivery)
        evidence.setReply(
            reply,
            from: inferred
                ? "`stat=\(reply.text)` with `dsn=\(reply.enhanced ?? "")`: sendmail's text has no code; RFC 5321's \(reply.code) for a class \(reply.code / 100) refusal"
                : "the reply in `stat=`", inferred: inferred)
        evidence.addRecipient(String(line[toRange]), from: "`to=<\(line[toRange])>`")
        let relayText = String(line[relayRange])
        let (name, address) = relay(relayText)
        if let name { evidence.setReceiverName(name, from: "`relay=\(relayText)`") }
        if let address { evidence.setReceiverAddress(address, from: "`relay=\(relayText)`") }
        if line.contains("stat=Deferred") { evidence.setOutcome(.deferred, from: "`stat=Deferred`") }
        // OpenSMTPD's older delivery log: `relay: TempFail for ...` or `relay: PermFail for ...`.
        if line.contains("TempFail for ") { evidence.setOutcome(.deferred, from: "OpenSMTPD's `relay: TempFail`") }
        if line.contains("PermFail for ") { evidence.setOutcome(.bounced, from: "OpenSMTPD's `relay: PermFail`") }
        return evidence
    }
}
