import DNSCore
import Foundation
import SMTPProtocol

/// Courier's receiving log (courieresmtpd): `error,relay=ADDR,ident=...,from=<s>,to=<r>: CODE text`.
/// A refused recipient carries `to=`, a refused sender only `from=` (courier/module.esmtp/esmtpd.c
/// logs the envelope it had when it refused).
enum CourierLog {
    private static let error = try! NSRegularExpression(
        pattern: #"\bcourieresmtpd: error,relay=([^,]+),(.*?):\s+([245]\d\d[ -].*)$"#)

    static func read(_ lines: [String]) -> Result<Evidence, ReaderMiss> {
        for line in lines {
            let range = NSRange(line.startIndex..., in: line)
            guard let match = error.firstMatch(in: line, range: range),
                let relayRange = Range(match.range(at: 1), in: line),
                let fieldsRange = Range(match.range(at: 2), in: line),
                let replyRange = Range(match.range(at: 3), in: line),
                let reply = ReplyText.reply(line[replyRange]), reply.code >= 400
            else { continue }
            var evidence = Evidence(source: .courierReject)
            let relay = String(line[relayRange])
            evidence.setReply(reply, from: "courieresmtpd's `error,relay=\(relay),...: \(reply.code) ...`")
            if let address = AddressWords.parse(Substring(relay)) {
                evidence.setClient(address, from: "courieresmtpd's `relay=\(relay)` (the connecting client)")
            }
            let fields = String(line[fieldsRange])
            if let from = ReplyText.angle(after: "from=", in: fields) {
                evidence.setMailFrom(from, from: "`from=<\(from)>`")
            }
            if let to = ReplyText.angle(after: "to=", in: fields) {
                evidence.addRecipient(to, from: "`to=<\(to)>`")
                evidence.setStage(.rcpt, from: "courieresmtpd's error line with the recipient `to=<\(to)>` (RCPT TO)")
            } else if fields.contains("from=<") {
                evidence.setStage(.mail, from: "courieresmtpd's error line with only the sender `from=` (MAIL FROM)")
            }
            return .success(evidence)
        }
        return .failure(ReaderMiss("no `courieresmtpd: error,relay=ADDR,...: CODE text` line"))
    }
}
