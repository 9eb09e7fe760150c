import DNSCore
import Foundation
import Policy
import SMTPProtocol
import SPF

/// One line of a session transcript as the server saw it.
public struct TranscriptLine: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Direction: String, Sendable, Hashable, Codable {
        /// From the client (`C:`).
        case client
        /// From the server (`S:`).
        case server
        /// The server's own note (connect, policy, close).
        case note
    }

    public var time: Date
    public var direction: Direction
    public var text: String

    public var description: String {
        let prefix =
            switch direction {
            case .client: "C:"
            case .server: "S:"
            case .note: "--"
            }
        return "\(Self.format(time)) \(prefix) \(text)"
    }

    static func format(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        let whole = Int(seconds)
        let millis = Int((seconds - Double(whole)) * 1000)
        let day = whole % 86400
        return String(format: "%02d:%02d:%02d.%03d", day / 3600, day / 60 % 60, day % 60, millis)
    }
}

/// One reply the server sent, with the stage and the check (or limit) that produced it.
public struct RecordedReply: Sendable, Hashable, Codable {
    public var stage: SMTPStage?
    public var command: String?
    public var reply: SMTPReply
    /// A policy check name (`fcrdns`, `spf-pass`), a limit (`limit:recipients`), `bare-lf`,
    /// `timeout`; nil for the server's ordinary replies.
    public var cause: String?
}

extension RecordedReply {
    init(_ reply: borrowing SMTPServerReply) {
        self.init(stage: reply.stage, command: reply.command, reply: reply.reply, cause: reply.cause)
    }
}

/// What the built-in MX saw and decided in one SMTP session.
public struct SessionRecord: Sendable, Codable {
    public var id: Int
    public var client: IPAddress?
    public var clientPort: Int?
    public var family: AddressFamily?
    public var server: IPAddress?
    public var serverPort: Int?
    /// The host that connected when it spoke for `client` (a PROXY header or XCLIENT); nil when
    /// the client connected itself.
    public var proxy: IPAddress?
    /// How the client was named: `proxy-v1`, `proxy-v2` or `xclient`; nil for a direct connection.
    public var identityPath: String?
    public var started: Date
    public var ended: Date?
    public var helo: String?
    public var mailFrom: String?
    /// Every RCPT TO argument, in order, whatever its reply.
    public var recipients: [String]
    /// PTR, FCrDNS, checks, SPF and DNSBL as the policy engine found them.
    public var findings: PolicyFindings?
    public var replies: [RecordedReply]
    public var transcript: [TranscriptLine]
    /// Transcript lines left out past `SessionRecord.transcriptLimit`.
    public var transcriptOmitted: Int
    public var messagesAccepted: Int
    /// Why the session ended (`QUIT`, `client disconnected`, `timeout`, `MX stopped`); nil while it runs.
    public var closeReason: String?
    /// The session's TLS after STARTTLS (version and cipher); nil for a plaintext session.
    public var tls: TLSSessionFacts?

    public static let transcriptLimit = 2000

    public init(
        id: Int, client: IPAddress?, clientPort: Int?, server: IPAddress?, serverPort: Int?, started: Date = Date()
    ) {
        self.id = id
        self.client = client
        self.clientPort = clientPort
        self.family = client?.family
        self.server = server
        self.serverPort = serverPort
        self.started = started
        self.recipients = []
        self.replies = []
        self.transcript = []
        self.transcriptOmitted = 0
        self.messagesAccepted = 0
    }

    public var isFinished: Bool { ended != nil }

    /// The check that produced the last 4xx/5xx reply, with that reply.
    public var decidingReply: RecordedReply? {
        replies.last { $0.reply.code >= 400 }
    }

    /// A few lines for a human, shown by the runner on a failure:
    /// `session 1 from [2001:db8:5::25]:40000 (ipv6), HELO mail.sender.test`, `PTR 2001:db8:5::25: NXDOMAIN`,
    /// `FCrDNS: failed (no PTR)`, `SPF: pass (ip6:2001:db8:5::/64)`, then each rejection and why.
    public var summary: String {
        // Made for every session `mx serve` logs: appended into one String, no array of lines.
        var text = "session "
        text.reserveCapacity(320)
        text += String(id)
        if let client {
            text += " from "
            if client.family == .ipv6 {
                text += "["
                text += client.description
                text += "]"
            } else {
                text += client.description
            }
            if let clientPort {
                text += ":"
                text += String(clientPort)
            }
            text += " ("
            text += client.family.rawValue
            text += ")"
        }
        if let proxy, let identityPath {
            text += " via "
            text += proxy.description
            text += " ("
            text += identityPath
            text += ")"
        }
        if let tls {
            text += ", TLS "
            text += tls.description
        }
        if let helo {
            // What the client sent is escaped: no control, invisible or bidi character reaches the
            // operator's terminal (Postfix prints them as `?`, util/printable.c).
            text += ", HELO "
            text += Printable.escaped(helo)
        }
        if let mailFrom {
            text += ", MAIL FROM <"
            text += Printable.escaped(mailFrom)
            text += ">"
        }
        if !recipients.isEmpty {
            text += ", RCPT"
            for recipient in recipients {
                text += " <"
                text += Printable.escaped(recipient)
                text += ">"
            }
        }
        if let findings {
            for line in findings.summaryLines where !line.hasPrefix("decision:") {
                text += "\n"
                text += Printable.escaped(line)
            }
        }
        for reply in replies where reply.reply.code >= 400 {
            text += "\n"
            text += reply.stage?.rawValue ?? "command"
            text += ": "
            text += Printable.escaped(reply.reply.description)
            if let cause = reply.cause {
                text += " ("
                text += cause
                text += ")"
            }
        }
        text += "\naccepted "
        text += String(messagesAccepted)
        text += messagesAccepted == 1 ? " message" : " messages"
        if let closeReason {
            text += "; closed: "
            text += closeReason
        } else {
            text += "; still open"
        }
        return text
    }

    /// The transcript as text, one line each.
    public var transcriptText: String {
        var lines = transcript.map { Printable.escaped($0.description) }
        if transcriptOmitted > 0 { lines.append("... \(transcriptOmitted) more lines not kept") }
        return lines.joined(separator: "\n")
    }

    mutating func note(_ direction: TranscriptLine.Direction, _ text: String, at time: Date = Date()) {
        guard transcript.count < Self.transcriptLimit else {
            transcriptOmitted += 1
            return
        }
        transcript.append(TranscriptLine(time: time, direction: direction, text: text))
    }
}

/// A message the MX accepted: the envelope and the bytes, readable back.
public struct ReceivedMessage: Sendable, Hashable, Codable {
    public var session: Int
    public var client: IPAddress?
    public var helo: String?
    /// Empty for the null sender.
    public var mailFrom: String
    public var recipients: [String]
    /// The content after dot-unstuffing, CRLF line endings, without the final dot.
    public var data: [UInt8]
    public var queueID: String
    public var received: Date

    public var text: String { String(decoding: data, as: UTF8.self) }
}
