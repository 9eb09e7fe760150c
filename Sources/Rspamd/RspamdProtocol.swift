import Foundation
import SMTPProtocol

/// What a receiver tells rspamd about one message over its HTTP protocol (`POST /checkv2`, rspamd's
/// "protocol" documentation): the facts rspamd's own milter passes for Postfix
/// (`rspamd_milter_to_http` and `rspamd_milter_macro_http` in src/libserver/milter.c, rspamd 3.4),
/// with the same header names, so that a message scores the same whichever way it arrives.
public struct RspamdCheck: Sendable, Hashable {
    /// The client's address (`IP`).
    public var client: String
    /// The client's name as the MTA verified it (`Hostname`); nil for Postfix's `unknown`, which
    /// rspamd's milter leaves out ("skip unknown hostname from being added").
    public var hostname: String?
    /// The HELO/EHLO argument (`Helo`).
    public var helo: String?
    /// The reverse path, without angle brackets; empty for the null sender (`From`).
    public var mailFrom: String
    /// The forward paths, one `Rcpt` each.
    public var recipients: [String]
    /// The MTA's id for the message (`Queue-Id`, the milter's `{i}` macro).
    public var queueID: String?
    /// The MTA's name (`MTA-Name`, Postfix's `{daemon_name}` macro).
    public var mtaName: String?
    /// The TLS version and cipher of the session, when it used TLS (`TLS-Version`, `TLS-Cipher`,
    /// Postfix's `{tls_version}` and `{cipher}`).
    public var tlsVersion: String?
    public var tlsCipher: String?
    /// The message as received (dot-unstuffed, CRLF line ends).
    public var message: [UInt8]

    public init(
        client: String, hostname: String? = nil, helo: String? = nil, mailFrom: String, recipients: [String],
        queueID: String? = nil, mtaName: String? = nil, tlsVersion: String? = nil, tlsCipher: String? = nil,
        message: [UInt8]
    ) {
        self.client = client
        self.hostname = hostname
        self.helo = helo
        self.mailFrom = mailFrom
        self.recipients = recipients
        self.queueID = queueID
        self.mtaName = mtaName
        self.tlsVersion = tlsVersion
        self.tlsCipher = tlsCipher
        self.message = message
    }

    /// The request's header fields, in the order rspamd's milter adds them.
    public var headerFields: [(name: String, value: String)] {
        var fields: [(String, String)] = []
        if let hostname, !hostname.isEmpty, hostname != "unknown" { fields.append(("Hostname", hostname)) }
        if let helo, !helo.isEmpty { fields.append(("Helo", helo)) }
        fields.append(("From", "<\(mailFrom)>"))
        for recipient in recipients { fields.append(("Rcpt", "<\(recipient)>")) }
        fields.append(("IP", client))
        if let queueID { fields.append(("Queue-Id", queueID)) }
        if let tlsCipher { fields.append(("TLS-Cipher", tlsCipher)) }
        if let tlsVersion { fields.append(("TLS-Version", tlsVersion)) }
        if let mtaName { fields.append(("MTA-Name", mtaName)) }
        return fields
    }

    /// The whole HTTP/1.1 request. A value with a CR or LF in it (never from an SMTP session's
    /// own parsing, which splits lines) is cut there, so it cannot start a header of its own.
    public var request: [UInt8] {
        var head = "POST /checkv2 HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: mxharness\r\nConnection: close\r\n"
        for (name, value) in headerFields {
            // `isNewline`: CR LF is one Character in Swift, neither "\r" nor "\n".
            let clean = value.prefix { !$0.isNewline }
            head += "\(name): \(clean)\r\n"
        }
        head += "Content-Length: \(message.count)\r\n\r\n"
        return Array(head.utf8) + message
    }
}

/// rspamd's answer to a check: the `/checkv2` JSON reply, as much of it as the receiver acts on
/// and the report shows.
public struct RspamdResult: Sendable, Hashable {
    /// `no action`, `greylist`, `add header`, `rewrite subject`, `soft reject`, `reject`.
    public var action: String
    public var score: Double
    /// The reject threshold (`required_score`).
    public var requiredScore: Double?
    /// The symbols with their scores, ordered as rspamd's log line orders them (by the size of the
    /// score, then by name).
    public var symbols: [RspamdSymbol]
    /// `messages.smtp_message`: the reply text a module set for the message, which the milter
    /// uses instead of its own.
    public var smtpMessage: String?
    /// `milter.reject`: `discard` or `quarantine` instead of a rejection, when a module asked.
    public var milterReject: String?
    /// `milter.no_action`: the action is only written in a header, never applied.
    public var milterNoAction: Bool

    public init(
        action: String, score: Double, requiredScore: Double? = nil, symbols: [RspamdSymbol] = [],
        smtpMessage: String? = nil, milterReject: String? = nil, milterNoAction: Bool = false
    ) {
        self.action = action
        self.score = score
        self.requiredScore = requiredScore
        self.symbols = symbols
        self.smtpMessage = smtpMessage
        self.milterReject = milterReject
        self.milterNoAction = milterNoAction
    }

    /// Reads a `/checkv2` reply body.
    public static func parse(json body: [UInt8]) throws(RspamdProtocolError) -> RspamdResult {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(body))
        } catch {
            throw .malformedJSON("\(error)")
        }
        guard let reply = object as? [String: Any] else { throw .malformedJSON("not a JSON object") }
        if let error = reply["error"] as? String { throw .rspamdError(error) }
        guard let action = reply["action"] as? String else { throw .missingField("action") }
        guard let score = (reply["score"] as? NSNumber)?.doubleValue else { throw .missingField("score") }
        var symbols: [RspamdSymbol] = []
        for (key, value) in (reply["symbols"] as? [String: Any]) ?? [:] {
            let entry = value as? [String: Any]
            let name = (entry?["name"] as? String) ?? key
            let symbolScore = (entry?["score"] as? NSNumber)?.doubleValue ?? 0
            symbols.append(
                RspamdSymbol(name: name, score: symbolScore, options: (entry?["options"] as? [String]) ?? []))
        }
        symbols.sort { abs($0.score) != abs($1.score) ? abs($0.score) > abs($1.score) : $0.name < $1.name }
        let milter = reply["milter"] as? [String: Any]
        return RspamdResult(
            action: action, score: score, requiredScore: (reply["required_score"] as? NSNumber)?.doubleValue,
            symbols: symbols, smtpMessage: (reply["messages"] as? [String: Any])?["smtp_message"] as? String,
            milterReject: milter?["reject"] as? String, milterNoAction: (milter?["no_action"] as? Bool) ?? false)
    }
}

/// One rule that matched.
public struct RspamdSymbol: Sendable, Hashable {
    public var name: String
    public var score: Double
    public var options: [String]

    public init(name: String, score: Double, options: [String] = []) {
        self.name = name
        self.score = score
        self.options = options
    }
}

/// What went wrong talking to rspamd.
public enum RspamdProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The reply's status line or header could not be read.
    case malformedResponse(String)
    /// The reply was not HTTP 200.
    case status(Int, String)
    case malformedJSON(String)
    case missingField(String)
    /// rspamd answered with an `error` field.
    case rspamdError(String)
    /// The connection ended before the whole reply was read.
    case truncated(received: Int, expected: Int?)

    public var description: String {
        switch self {
        case .malformedResponse(let detail): "rspamd's reply is not HTTP: \(detail)"
        case .status(let code, let body): "rspamd answered HTTP \(code): \(body)"
        case .malformedJSON(let detail): "rspamd's reply is not the JSON of /checkv2: \(detail)"
        case .missingField(let field): "rspamd's reply has no \(field)"
        case .rspamdError(let error): "rspamd answered an error: \(error)"
        case .truncated(let received, let expected):
            "rspamd closed the connection after \(received) bytes of its reply"
                + (expected.map { " (Content-Length \($0))" } ?? "")
        }
    }
}

/// Reads rspamd's HTTP reply as it arrives: pure, fed whatever the connection reads. The reply is
/// complete at its Content-Length, or, without one, when rspamd closes the connection (it was
/// asked for `Connection: close`).
public struct RspamdResponseReader: Sendable {
    public enum Step: Sendable, Hashable {
        /// More bytes are needed.
        case needMore
        case done(RspamdResult)
        case failed(RspamdProtocolError)
    }

    private enum State: Sendable {
        case head([UInt8])
        case body(status: Int, contentLength: Int?, [UInt8])
        case finished
    }

    private var state = State.head([])
    /// The largest reply taken (a scan's JSON is a few kilobytes).
    public static let maximumLength = 4 << 20

    public init() {}

    /// Takes the bytes read next.
    public mutating func read(_ bytes: some Sequence<UInt8>) -> Step {
        switch state {
        case .finished:
            return .needMore
        case .head(var buffer):
            buffer.append(contentsOf: bytes)
            guard let end = Self.endOfHead(buffer) else {
                if buffer.count > 65536 { return finish(.failed(.malformedResponse("no end of header in 64 KiB"))) }
                state = .head(buffer)
                return .needMore
            }
            let head = String(decoding: buffer[..<end], as: UTF8.self)
            var lines = head.components(separatedBy: "\r\n")
            let statusLine = lines.removeFirst()
            let parts = statusLine.split(separator: " ", maxSplits: 2)
            guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
                return finish(.failed(.malformedResponse(String(statusLine.prefix(80)))))
            }
            var contentLength: Int?
            for line in lines {
                guard let colon = line.firstIndex(of: ":") else { continue }
                let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                if name == "content-length" {
                    guard let length = Int(value), length >= 0, length <= Self.maximumLength else {
                        return finish(.failed(.malformedResponse("Content-Length: \(value)")))
                    }
                    contentLength = length
                }
                if name == "transfer-encoding", value.lowercased() != "identity" {
                    return finish(.failed(.malformedResponse("Transfer-Encoding: \(value)")))
                }
            }
            state = .body(status: status, contentLength: contentLength, Array(buffer[(end + 4)...]))
            return complete(atEnd: false)
        case .body(let status, let contentLength, var body):
            body.append(contentsOf: bytes)
            if body.count > Self.maximumLength { return finish(.failed(.malformedResponse("reply over 4 MiB"))) }
            state = .body(status: status, contentLength: contentLength, body)
            return complete(atEnd: false)
        }
    }

    /// The connection ended.
    public mutating func endOfInput() -> Step {
        switch state {
        case .finished: return .needMore
        case .head(let buffer): return finish(.failed(.truncated(received: buffer.count, expected: nil)))
        case .body: return complete(atEnd: true)
        }
    }

    private mutating func complete(atEnd: Bool) -> Step {
        guard case .body(let status, let contentLength, let body) = state else { return .needMore }
        if let contentLength {
            guard body.count >= contentLength else {
                return atEnd ? finish(.failed(.truncated(received: body.count, expected: contentLength))) : .needMore
            }
        } else if !atEnd {
            return .needMore
        }
        let content = Array(body.prefix(contentLength ?? body.count))
        guard status == 200 else {
            return finish(.failed(.status(status, String(decoding: content.prefix(200), as: UTF8.self))))
        }
        do {
            return finish(.done(try RspamdResult.parse(json: content)))
        } catch {
            return finish(.failed(error))
        }
    }

    private mutating func finish(_ step: Step) -> Step {
        state = .finished
        return step
    }

    private static func endOfHead(_ buffer: [UInt8]) -> Int? {
        guard buffer.count >= 4 else { return nil }
        for index in 0...(buffer.count - 4)
        where buffer[index] == 13 && buffer[index + 1] == 10 && buffer[index + 2] == 13 && buffer[index + 3] == 10 {
            return index
        }
        return nil
    }
}

/// The SMTP reply for rspamd's verdict, as rspamd's own milter answers Postfix at the end of the
/// message (`rspamd_milter_send_task_results` in src/libserver/milter.c, rspamd 3.4, with the codes
/// and texts of src/libserver/milter.h): `reject` is 554 5.7.1 with `messages.smtp_message` or
/// the proxy's `reject_message` (rspamd's default "Spam message rejected"); `soft reject` is
/// 451 4.7.1 with `smtp_message` or "Try again later"; `add header`, `rewrite subject`,
/// `greylist` and `no action` accept (the first two change only headers; greylisting happens
/// only when the greylist module, which needs redis, turns it into a soft reject). A `milter`
/// block asking to discard or quarantine instead of rejecting, or `no_action`, accepts too.
/// nil: the message is accepted (Postfix's own `250 2.0.0 Ok: queued as ...`).
public enum RspamdMilterReply {
    /// `RSPAMD_MILTER_RCODE_REJECT` / `RSPAMD_MILTER_XCODE_REJECT`.
    public static func reply(
        for result: RspamdResult, rejectMessage: String = RspamdConfiguration.rejectMessage
    ) -> SMTPReply? {
        if result.milterNoAction { return nil }
        switch result.action {
        case "reject":
            if result.milterReject == "discard" || result.milterReject == "quarantine" { return nil }
            return SMTPReply(code: 554, enhanced: "5.7.1", result.smtpMessage ?? rejectMessage)
        case "soft reject":
            return SMTPReply(code: 451, enhanced: "4.7.1", result.smtpMessage ?? "Try again later")
        case "add header", "rewrite subject", "greylist", "no action":
            return nil
        default:
            // An action rspamd's configuration does not register: the milter sends SMFIR_TEMPFAIL
            // ("action %s has not been registered").
            return unavailable
        }
    }

    /// What Postfix answers when its milter cannot be reached or tempfails (milter8.c, with
    /// `milter_default_action = tempfail`, as the harness's Postfix has it).
    public static let unavailable = SMTPReply(code: 451, enhanced: "4.7.1", "Service unavailable - try again later")
}
