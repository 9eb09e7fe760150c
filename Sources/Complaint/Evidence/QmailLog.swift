import DNSCore
import Foundation
import SMTPProtocol

/// qmail's receiver-side log: rblsmtpd's line for a client a DNS list names (`rblsmtpd: ADDR pid
/// N: 451 text`, ucspi-tcp's rblsmtpd.c). rblsmtpd answers HELO, EHLO, MAIL, RSET and NOOP with
/// `250 rblsmtpd.local` and every other command with that reply, so RCPT TO is the first refused.
enum QmailLog {
    private static let rblsmtpd = try! NSRegularExpression(
        pattern: #"\brblsmtpd:\s+(\S+)\s+pid\s+\d+:\s+([245]\d\d[ -].*)$"#)

    static func read(_ lines: [String]) -> Result<Evidence, ReaderMiss> {
        for line in lines {
            let range = NSRange(line.startIndex..., in: line)
            guard let match = rblsmtpd.firstMatch(in: line, range: range),
                let addressRange = Range(match.range(at: 1), in: line),
                let replyRange = Range(match.range(at: 2), in: line),
                let reply = ReplyText.reply(line[replyRange])
            else { continue }
            var evidence = Evidence(source: .qmailReject)
            let said = "`rblsmtpd: \(line[addressRange]) pid ...: \(reply.code) ...`"
            if let address = AddressWords.parse(line[addressRange]) { evidence.setClient(address, from: said) }
            evidence.setReply(reply, from: said)
            evidence.setStage(
                .rcpt,
                from: "rblsmtpd, which accepts HELO, EHLO and MAIL and refuses the next command, RCPT TO (rblsmtpd.c)")
            return .success(evidence)
        }
        return .failure(ReaderMiss("no `rblsmtpd: ADDR pid N: CODE text` line"))
    }
}
