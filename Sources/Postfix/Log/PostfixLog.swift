import Foundation
import DNSCore

/// One line of Postfix's maillog_file: `Nov 29 02:25:27 mx postfix/smtpd[13604]: message`.
public struct PostfixLogLine: Sendable, Hashable {
    public var text: String
    /// `postfix/smtpd` (syslog_name/program).
    public var program: String
    public var pid: Int?
    public var message: String

    public init?(_ text: String) {
        guard let close = text.range(of: "]: ") else { return nil }
        let head = text[..<close.lowerBound]
        guard let open = head.lastIndex(of: "["), let pid = Int(head[head.index(after: open)...]) else { return nil }
        let programStart = head[..<open].lastIndex(of: " ").map { head.index(after: $0) } ?? head.startIndex
        self.text = text
        self.program = String(head[programStart..<open])
        self.pid = pid
        self.message = String(text[close.upperBound...])
    }

    /// `smtpd` for `postfix/smtpd` and `postfix/submission/smtpd`.
    public var daemon: Substring { program.split(separator: "/").last ?? Substring(program) }
}

/// A rejection as smtpd logs it: `NOQUEUE: reject: RCPT from unknown[ADDR]: 550 5.7.25 TEXT; from=<...> ...`.
public struct PostfixRejection: Sendable, Hashable {
    /// The SMTP stage Postfix names: `CONNECT`, `EHLO`, `HELO`, `MAIL`, `RCPT`, `DATA`, `END-OF-MESSAGE`.
    public var stage: String
    public var code: Int
    public var enhanced: String?
    public var text: String
    /// `NOQUEUE`, or the queue id when the message was already queued.
    public var queueID: String
    public var line: String

    public init?(line: String) {
        guard let parsed = PostfixLogLine(line) else { return nil }
        let message = parsed.message
        guard let reject = message.range(of: ": reject: ") else { return nil }
        queueID = String(message[..<reject.lowerBound])
        let rest = message[reject.upperBound...]
        guard let from = rest.range(of: " from ") else { return nil }
        stage = String(rest[..<from.lowerBound])
        // The client is `NAME[ADDR]`; the reply follows the first "]: " after it.
        guard let clientEnd = rest[from.upperBound...].range(of: "]: ") else { return nil }
        var reply = rest[clientEnd.upperBound...]
        if let details = reply.range(of: "; from=<", options: .backwards) { reply = reply[..<details.lowerBound] }
        let words = reply.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard let first = words.first, first.count == 3, let code = Int(first) else { return nil }
        self.code = code
        if words.count > 1, Self.isEnhanced(words[1]) {
            enhanced = String(words[1])
            text = words.count > 2 ? String(words[2]) : ""
        } else {
            enhanced = nil
            text = words.dropFirst().joined(separator: " ")
        }
        self.line = line
    }

    static func isEnhanced(_ word: Substring) -> Bool {
        let parts = word.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 3 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
    }
}

/// One SMTP session of smtpd: the lines one smtpd process logged from `connect from` to
/// `disconnect from` (smtpd serves one connection at a time, so its pid and those two lines
/// delimit the session) and those it logged before its `connect from`, with the lines of the
/// messages it queued (cleanup, qmgr, the delivery agent), found by queue id.
///
/// Who the client is can change within a session. After a PROXY header the `connect from` line
/// already names the proxied address (smtpd_peer_from_haproxy() in src/smtpd/smtpd_haproxy.c sets
/// it before smtpd logs anything; the proxy's own address appears nowhere). After `XCLIENT ADDR=`
/// the `connect from` line names the proxy and every later line the XCLIENT address:
/// xclient_cmd() in src/smtpd/smtpd.c rebuilds `namaddr`, which reject, `client=`, `lost
/// connection` and `disconnect from` lines print. `clients` holds every address the session's
/// lines name as the client, so a session belongs to each of them.
public struct PostfixSession: Sendable, Hashable {
    /// The address of the `connect from` line: the TCP peer, or the PROXY-ed address.
    public var client: IPAddress
    /// The name smtpd found for the client (`unknown` when reverse lookup failed).
    public var clientName: String
    /// `client`, then every other address a later line names as the client (XCLIENT), in order.
    public var clients: [IPAddress]
    public var pid: Int
    public var lines: [String]
    public var queueIDs: [String]
    /// True once `disconnect from` was logged.
    public var isComplete: Bool

    public init(
        client: IPAddress, clientName: String, pid: Int, lines: [String], queueIDs: [String] = [],
        isComplete: Bool = false
    ) {
        self.client = client
        self.clientName = clientName
        self.clients = [client]
        self.pid = pid
        self.lines = lines
        self.queueIDs = queueIDs
        self.isComplete = isComplete
    }

    /// True when any line of the session names `address` as the client.
    public func belongs(to address: IPAddress) -> Bool { clients.contains(address) }

    public var rejectLine: String? { lines.first { $0.contains(": reject: ") } }
    public var rejection: PostfixRejection? { rejectLine.flatMap { PostfixRejection(line: $0) } }
}

/// Postfix's maillog_file, read as sessions.
public struct PostfixLog: Sendable, Hashable {
    public var lines: [String]

    public init(text: String) {
        lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    public init(lines: [String]) {
        self.lines = lines
    }

    /// Every smtpd session, in the order they began.
    public var sessions: [PostfixSession] {
        var sessions: [PostfixSession] = []
        var open: [Int: Int] = [:]  // smtpd pid -> index in sessions
        var byQueueID: [String: Int] = [:]
        // Lines an smtpd logged before its `connect from`: smtpd_peer_init() runs first, and a
        // PROXY header that does not come is logged there ("warning: haproxy read: timeout
        // error", src/smtpd/smtpd_haproxy.c); they belong to the session that follows.
        var beforeConnect: [Int: [String]] = [:]
        for text in lines {
            guard let line = PostfixLogLine(text), let pid = line.pid else { continue }
            if line.daemon == "smtpd" {
                if line.message.hasPrefix("connect from "),
                    let (name, address) = Self.client(in: line.message.dropFirst("connect from ".count))
                {
                    open[pid] = sessions.count
                    sessions.append(
                        PostfixSession(
                            client: address, clientName: name, pid: pid, lines: beforeConnect[pid, default: []] + [text]
                        ))
                    beforeConnect[pid] = nil
                    continue
                }
                guard let index = open[pid] else {
                    beforeConnect[pid, default: []].append(text)
                    continue
                }
                sessions[index].lines.append(text)
                if let named = Self.namedClient(in: line.message), !sessions[index].clients.contains(named) {
                    sessions[index].clients.append(named)
                }
                if let range = line.message.range(of: ": client=") {
                    let id = String(line.message[..<range.lowerBound])
                    sessions[index].queueIDs.append(id)
                    byQueueID[id] = index
                }
                if line.message.hasPrefix("disconnect from ") {
                    sessions[index].isComplete = true
                    open[pid] = nil
                }
                continue
            }
            if let colon = line.message.range(of: ": "),
                let index = byQueueID[String(line.message[..<colon.lowerBound])]
            {
                sessions[index].lines.append(text)
            }
        }
        return sessions
    }

    /// The sessions whose lines name `client` as the client (`PostfixSession.clients`).
    public func sessions(client: IPAddress) -> [PostfixSession] {
        sessions.filter { $0.belongs(to: client) }
    }

    /// The lines of every session of `client`, session after session.
    public func sessionLog(client: IPAddress) -> [String] {
        sessions(client: client).flatMap(\.lines)
    }

    /// What a case's report shows of the log: every line of `clients`' sessions, and every other
    /// line that is not a plain session line of another client: warnings, errors, fatal and panic
    /// lines of any daemon (smtpd, trivial-rewrite, proxymap, cleanup: "Temporary lookup failure"
    /// comes with the line naming the table), and the lines of no session at all. In log order.
    public func caseLog(clients: [IPAddress]) -> [String] {
        let wanted = Set(clients)
        var others: Set<String> = []
        for session in sessions where wanted.isDisjoint(with: session.clients) { others.formUnion(session.lines) }
        return lines.filter { line in
            guard others.contains(line) else { return true }
            return Self.isProblem(line)
        }
    }

    /// A line that says something went wrong (postlog severities: warning, error, fatal, panic).
    public static func isProblem(_ line: String) -> Bool {
        guard let parsed = PostfixLogLine(line) else { return false }
        return ["warning: ", "error: ", "fatal: ", "panic: "].contains { parsed.message.hasPrefix($0) }
    }

    /// The first reject line (`NOQUEUE: reject: ...`) of `client`'s sessions.
    public func rejectLine(client: IPAddress) -> String? {
        sessions(client: client).lazy.compactMap(\.rejectLine).first
    }

    /// The address an smtpd line names as the client: `NAME[ADDR]` after `client=` (a queued
    /// message) or after ` from ` (`reject: RCPT from`, `lost connection after DATA from`,
    /// `disconnect from`, ...). nil for lines that name none (`from=<...>` is the envelope sender).
    static func namedClient(in message: String) -> IPAddress? {
        for marker in ["client=", " from "] {
            var searchStart = message.startIndex
            while let range = message.range(of: marker, range: searchStart..<message.endIndex) {
                let rest = message[range.upperBound...]
                let token = rest.prefix { $0 != " " && $0 != "," && $0 != ";" }
                if token.hasSuffix("]") || token.hasSuffix("]:"), let (_, address) = client(in: token) {
                    return address
                }
                searchStart = range.upperBound
            }
        }
        return nil
    }

    /// `NAME[ADDR]` at the start of `text`.
    static func client(in text: Substring) -> (String, IPAddress)? {
        guard let open = text.firstIndex(of: "["), let close = text[open...].firstIndex(of: "]") else { return nil }
        guard let address = IPAddress(text[text.index(after: open)..<close]) else { return nil }
        return (String(text[..<open]), address)
    }
}
