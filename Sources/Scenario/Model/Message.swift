import DNSCore
import Foundation

extension SenderSpec {
    /// The DATA content: `message.headers` and `message.body` as given, or where absent a small valid
    /// RFC 5322 message (From, To, Subject, Date, Message-ID built from the envelope, a one-line body).
    ///
    /// Lines end in CRLF and the message ends with one; it is not dot-stuffed (RFC 5321 4.5.2 is the
    /// SMTP client's job) and carries no terminating `.` line.
    /// With `sender.dkim` and its key, the message is signed (and broken as it says).
    public func messageBytes() -> [UInt8] {
        let now = Date()
        let text = messageText(date: now, messageID: UUID().uuidString.lowercased())
        guard let dkim else { return Array(text.utf8) }
        return signed(text, dkim, now: Int(now.timeIntervalSince1970))
    }

    /// `messageBytes()` with a fixed date and Message-ID local part, for tests and reports.
    public func messageText(date: Date, messageID: String) -> String {
        let headers = message?.headers ?? defaultHeaders(date: date, messageID: messageID)
        var text = ""
        for header in headers {
            text += "\(header.name): \(Self.fold(header.value))\r\n"
        }
        text += "\r\n"
        text += Self.crlf(message?.body ?? "This is a test message sent by mxharness.\n")
        if !text.hasSuffix("\r\n") { text += "\r\n" }
        return text
    }

    /// The names of the message's header fields, in order (`message.headers`, else the default ones).
    public var messageHeaderNames: [String] {
        (message?.headers ?? defaultHeaders(date: Date(timeIntervalSince1970: 0), messageID: "x")).map(\.name)
    }

    func defaultHeaders(date: Date, messageID: String) -> [MessageHeader] {
        let domain = senderDomain
        let from = mailFrom.isEmpty ? "Mail Delivery System <MAILER-DAEMON@\(domain)>" : "<\(mailFrom)>"
        return [
            MessageHeader(name: "From", value: from),
            MessageHeader(name: "To", value: rcptTo.map { "<\($0)>" }.joined(separator: ", ")),
            MessageHeader(name: "Subject", value: "mxharness test message"),
            MessageHeader(name: "Date", value: Self.rfc5322Date(date)),
            MessageHeader(name: "Message-ID", value: "<\(messageID)@\(domain)>"),
        ]
    }

    /// The domain of MAIL FROM, else of the HELO name, else `sender.test`.
    var senderDomain: String {
        if let at = mailFrom.lastIndex(of: "@") {
            let domain = mailFrom[mailFrom.index(after: at)...]
            if DNSName.isValidHostname(domain) { return DNSName.normalize(domain) }
        }
        if DNSName.isValidHostname(helo), helo.contains(".") { return DNSName.normalize(helo) }
        return "sender.test"
    }

    /// RFC 5322 3.3 date-time in UTC: `Sun, 29 Nov 2026 02:14:34 +0000`.
    static func rfc5322Date(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0) ?? calendar.timeZone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let weekday = days[((c.weekday ?? 1) - 1 + 7) % 7]
        let month = months[((c.month ?? 1) - 1 + 12) % 12]
        func two(_ n: Int?) -> String { n.map { $0 < 10 ? "0\($0)" : "\($0)" } ?? "00" }
        return
            "\(weekday), \(two(c.day)) \(month) \(c.year ?? 1970) \(two(c.hour)):\(two(c.minute)):\(two(c.second)) +0000"
    }

    /// Every line end as CRLF (RFC 5322 2.3).
    static func crlf(_ text: String) -> String {
        text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .replacingOccurrences(of: "\n", with: "\r\n")
    }

    /// A multi-line header value folded with CRLF and a space (RFC 5322 2.2.3).
    static func fold(_ value: String) -> String {
        let lines = value.split(
            omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
        return lines.map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "\r\n ")
    }
}
