#if canImport(Glibc)
import Glibc
#endif
import DNSCore
import Foundation
import MXHarnessTestKit
import Sandbox

/// A minimal SMTP client for the tests: plain reads and writes on a socket made inside the
/// namespace, one command at a time, stopping at the first reply that is not 2xx/3xx.
struct SMTPProbe {
    struct Reply: Sendable, Equatable, CustomStringConvertible {
        var code: Int
        var lines: [String]
        /// The last line's text after the code (`5.7.25 Client host rejected: ...`).
        var text: String { lines.last.map { String($0.dropFirst(4)) } ?? "" }
        var description: String { lines.joined(separator: " / ") }
    }

    struct Transcript: Sendable, CustomStringConvertible {
        /// (stage, reply): `greeting`, `ehlo`, `mail`, `rcpt`, `data`, `dot`.
        var replies: [(stage: String, reply: Reply)] = []
        var last: (stage: String, reply: Reply)? { replies.last }
        var description: String { replies.map { "\($0.stage): \($0.reply)" }.joined(separator: "\n") }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Connects from `client` to `server:25` in `namespace` and speaks until a rejection or the
    /// end of DATA; then QUIT.
    static func deliver(
        from client: IPAddress, to server: IPAddress, in namespace: NetworkNamespace, helo: String,
        mailFrom: String = "alice@sender.test", rcptTo: String = "bob@example.test", message: String? = nil
    ) async throws -> Transcript {
        let message =
            message
            ?? "From: <\(mailFrom)>\r\nTo: <\(rcptTo)>\r\nSubject: mxharness postfix test\r\nMessage-ID: <test@sender.test>\r\n\r\nHello.\r\n"
        return try await exchange(
            from: client, to: server, in: namespace,
            steps: [
                ("ehlo", "EHLO \(helo)"), ("mail", "MAIL FROM:<\(mailFrom)>"), ("rcpt", "RCPT TO:<\(rcptTo)>"),
                ("data", "DATA"), ("dot", message + "."),
            ], recordingClose: false)
    }

    /// Connects from `client` to `server:25` in `namespace`, sends `header` (a PROXY header, or
    /// nothing), reads the greeting, then sends each step's command and reads its reply until a
    /// reply of 400 or more or the end of `steps`; then QUIT. With `recordingClose`, a connection
    /// the server closes ends the transcript with stage `closed`; without, it is thrown.
    static func exchange(
        from client: IPAddress, to server: IPAddress, in namespace: NetworkNamespace, header: [UInt8] = [],
        steps: [(stage: String, command: String)], recordingClose: Bool
    ) async throws -> Transcript {
        let fd = try await Sockets.connect(from: client, to: server, port: 25, timeout: .seconds(5), in: namespace)
        return try await NetworkNamespace.perform(in: nil) { () throws -> Transcript in
            defer { close(fd) }
            var connection = Connection(fd: fd)
            var transcript = Transcript()
            if !header.isEmpty { try connection.sendBytes(header) }
            for (stage, command) in [("greeting", "")] + steps.map({ ($0.stage, $0.command) }) {
                do {
                    if !command.isEmpty { try connection.send(command) }
                    let reply = try connection.readReply()
                    transcript.replies.append((stage, reply))
                    if reply.code >= 400 { break }
                } catch  where recordingClose {
                    transcript.replies.append(("closed", Reply(code: 0, lines: ["\(error)"])))
                    return transcript
                }
            }
            try? connection.send("QUIT")
            _ = try? connection.readReply()
            return transcript
        }
    }

    struct Connection {
        var socket: LineSocket

        init(fd: CInt) { socket = LineSocket(fd: fd) }

        func send(_ line: String) throws { try socket.write(Array((line + "\r\n").utf8)) }

        func sendBytes(_ bytes: [UInt8]) throws { try socket.write(bytes) }

        mutating func readLine() throws -> String { try socket.readLine() }

        /// RFC 5321 4.2.1: `CODE-text` lines continue, `CODE text` ends the reply.
        mutating func readReply() throws -> Reply {
            var lines: [String] = []
            while true {
                let line = try readLine()
                lines.append(line)
                let bytes = Array(line.utf8)
                guard bytes.count >= 3, let code = Int(String(decoding: bytes[0..<3], as: UTF8.self)) else {
                    throw Failure(description: "not an SMTP reply: \(line)")
                }
                if bytes.count == 3 || bytes[3] != UInt8(ascii: "-") { return Reply(code: code, lines: lines) }
            }
        }
    }
}
