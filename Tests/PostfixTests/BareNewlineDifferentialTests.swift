#if canImport(Glibc)
import Glibc
#endif
import DNSCore
import Foundation
import Logging
import MXHarnessTestKit
import NIOPosix
import Policy
import Postfix
import ReferenceMX
import SMTPProtocol
import Sandbox
import Testing

private let postfixAddress = IPAddress("192.0.2.10")!
private let builtinAddress = IPAddress("192.0.2.11")!
private let client = IPAddress("203.0.113.25")!

/// The built-in MX against the installed Postfix in each `smtpd_forbid_bare_newline` mode: every
/// published SMTP-smuggling end-of-data sequence (bare <LF> and bare <CR> around the dot, NUL
/// before it), followed directly by a smuggled transaction and followed by <CR><LF>, and commands
/// whose arguments carry NUL or control characters. Replies (queue ids aside) and the number of
/// messages accepted must be the same.
@Suite(
    .enabled(
        if: IntegrationEnvironment.canRunWorlds && IntegrationEnvironment.hasPostfix,
        "needs root (network namespaces), unbound and postfix (apt-get install unbound postfix); run as root"),
    .serialized)
struct BareNewlineDifferentialTests {
    /// Published end-of-data variants (SEC Consult's SMTP smuggling research, CVE-2023-51764).
    static let sequences: [(name: String, bytes: String)] = [
        ("LF.LF", "\n.\n"), ("LF.CRLF", "\n.\r\n"), ("CRLF.LF", "\r\n.\n"), ("CR.CRLF", "\r.\r\n"), ("CR.CR", "\r.\r"),
        ("CRLF.CR", "\r\n.\r"), ("CR.LF", "\r.\n"), ("LF.CR", "\n.\r"), ("CRLF NUL.CRLF", "\r\n\0.\r\n"),
        ("CRLF.CR CRLF", "\r\n.\r\r\n"),
    ]
    static let envelope = [
        "EHLO client.sender.test", "MAIL FROM:<alice@sender.test>", "RCPT TO:<bob@example.test>", "DATA",
    ]
    static let smuggled = "MAIL FROM:<evil@attacker.test>\r\nRCPT TO:<victim@example.test>\r\nDATA\r\nsmuggled\r\n.\r\n"

    /// Name, commands sent one at a time (one reply each), then the rest sent at once and read to the close.
    static var sessions: [(name: String, commands: [String], rest: String)] {
        var out: [(String, [String], String)] = []
        for (name, sequence) in sequences {
            out.append(
                (
                    "\(name), next command directly", envelope,
                    "Subject: x\r\n\r\nbody" + sequence + smuggled + "QUIT\r\n"
                ))
            out.append(
                ("\(name), then CRLF", envelope, "Subject: x\r\n\r\nbody" + sequence + "\r\n" + smuggled + "QUIT\r\n"))
        }
        out.append(("plain message", envelope, "Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n"))
        // Item 3 of issue 23: arguments with NUL or control characters.
        for helo in ["EHLO a\0b", "EHLO a\u{1}b", "EHLO a\u{1b}[31mb", "HELO a\rb", "EHLO \u{7f}", "EHLO a\tb"] {
            out.append(("\(helo.debugDescription)", [helo], "QUIT\r\n"))
        }
        for mail in [
            "MAIL FROM:<a\0b@sender.test>", "MAIL FROM:<a\u{1}b@sender.test>", "MAIL FROM:<a\u{1b}[2Jb@sender.test>",
            "MAIL FROM:<a\rb@sender.test>",
        ] {
            out.append(("\(mail.debugDescription)", ["EHLO client.sender.test", mail], "QUIT\r\n"))
        }
        // With `reject`, the bare <LF> makes both log the session with its HELO name.
        out.append(("EHLO with ESC and BEL, then a bare LF", ["EHLO a\u{1b}[31m\u{7}b"], "NOOP\nQUIT\r\n"))
        for rcpt in [
            "RCPT TO:<b\0c@example.test>", "RCPT TO:<b\u{1}c@example.test>", "RCPT TO:<b\u{7f}@example.test>",
            "RCPT TO:<b\rc@example.test>",
        ] {
            out.append(
                (
                    "\(rcpt.debugDescription)", ["EHLO client.sender.test", "MAIL FROM:<alice@sender.test>", rcpt],
                    "QUIT\r\n"
                ))
        }
        return out
    }

    @Test(arguments: ["no", "normalize", "yes", "reject"])
    func theBuiltInMXAnswersAsPostfixDoes(mode: String) async throws {
        let spec = WorldSpec(
            records: try WorldFixture.records([
                "example.test. MX 10 mx.example.test.", "mx.example.test. A 192.0.2.10",
            ]))
        try await WorldFixture.withWorld(spec, addresses: [postfixAddress, builtinAddress, client]) { fixture in
            let configuration = PostfixConfiguration(
                hostname: "mx.example.test", addresses: [postfixAddress], domains: ["example.test"], bareNewline: mode)
            #expect(configuration.bareNewline == mode)
            let postfix = try await PostfixInstance.start(
                configuration, in: fixture.namespace, caseDirectory: fixture.directory)
            let mx = ReferenceMX(
                configuration: MXConfiguration(
                    hostname: "mx.example.test", policy: Preset.open.policy,
                    bareNewline: try #require(SMTPBareNewlineMode(postfixName: mode))),
                lookup: fixture.resolver, eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
                logger: Logger(label: "test"))
            do {
                #expect(postfix.rendered.parameters["smtpd_forbid_bare_newline"] == mode)
                #expect(postfix.rendered.parameters["smtpd_forbid_bare_newline_exclusions"] == "")
                try await mx.start(listeningOn: [builtinAddress], port: 25, in: fixture.namespace)
                var differences: [String] = []
                var queued = (postfix: 0, builtin: 0)
                for session in Self.sessions {
                    let atPostfix = try await RawSMTP.run(
                        session.commands, then: session.rest, to: postfixAddress, in: fixture.namespace)
                    let atBuiltin = try await RawSMTP.run(
                        session.commands, then: session.rest, to: builtinAddress, in: fixture.namespace)
                    queued.postfix += atPostfix.filter { $0.contains("queued as") }.count
                    queued.builtin += atBuiltin.filter { $0.contains("queued as") }.count
                    if atPostfix != atBuiltin {
                        differences.append("\(session.name):\n  postfix: \(atPostfix)\n  builtin: \(atBuiltin)")
                    }
                }
                #expect(
                    differences.isEmpty,
                    "mode \(mode): \(differences.count) sessions differ:\n\(differences.joined(separator: "\n"))")
                #expect(queued.postfix == queued.builtin)
                // What each receiver itself says it accepted: the MX's records, Postfix's smtpd log.
                _ = await postfix.settle(since: .start)
                let logged = PostfixLog.messagesAccepted(
                    inSessionLog: postfix.sessionLog(client: client).joined(separator: "\n"))
                #expect(
                    logged == queued.postfix,
                    "Postfix's log: \(String(describing: logged)) messages, its replies: \(queued.postfix)")
                // Postfix prints such characters as `?` (util/printable.c); the MX escapes them.
                let log = postfix.log.joined(separator: "\n")
                #expect(!log.unicodeScalars.contains { $0.value == 0x1b || $0.value == 0x07 })
                if mode == "reject" {
                    #expect(
                        log.contains("helo=<a?[31m?b>"),
                        "\(postfix.sessionLog(client: client).filter { $0.contains("bare <LF>") })")
                }
                await mx.stop()
                #expect(mx.sessions.reduce(0) { $0 + $1.messagesAccepted } == queued.builtin)
                let summaries = mx.sessions.map(\.summary).joined(separator: "\n")
                #expect(!summaries.unicodeScalars.contains { $0 != "\n" && Printable.isUnsafe($0) })
                #expect(summaries.contains("HELO a\\x1b[31m\\x07b"))
                print(
                    "bare newline \(mode): \(Self.sessions.count) sessions, \(differences.count) differences, messages accepted: postfix \(queued.postfix), built-in \(queued.builtin)"
                )
            } catch {
                await mx.stop()
                await postfix.stop()
                throw error
            }
            await postfix.stop()
        }
    }
}

/// A client that writes exactly the bytes it is given: one command at a time, then the rest at
/// once, and returns every reply (one string per reply: its first line, the code's `-` made a
/// space, queue ids replaced by `ID`) until the server closes.
enum RawSMTP {
    static func run(_ commands: [String], then rest: String, to server: IPAddress, in namespace: NetworkNamespace)
        async throws -> [String]
    {
        let fd = try await Sockets.connect(from: client, to: server, port: 25, timeout: .seconds(5), in: namespace)
        return try await NetworkNamespace.perform(in: nil) { () throws -> [String] in
            defer { close(fd) }
            var reader = Reader(fd: fd)
            var replies = [try reader.reply()]
            for command in commands {
                try reader.socket.write(Array((command + "\r\n").utf8))
                replies.append(try reader.reply())
            }
            try reader.socket.write(Array(rest.utf8))
            while let reply = try? reader.reply() { replies.append(reply) }
            return replies.map(normalized)
        }
    }

    static func normalized(_ reply: String) -> String {
        guard let range = reply.range(of: "queued as ") else { return reply }
        return reply[..<range.upperBound] + "ID"
    }

    struct Reader {
        var socket: LineSocket

        init(fd: CInt) { socket = LineSocket(fd: fd, timeout: .seconds(15)) }

        mutating func line() throws -> String { try socket.readLine() }

        /// One reply (RFC 5321 4.2.1): its first line with `CODE ` in front.
        mutating func reply() throws -> String {
            let first = try line()
            var last = first
            while last.utf8.count > 3, Array(last.utf8)[3] == UInt8(ascii: "-") { last = try line() }
            let code = first.prefix(3)
            return code + " " + first.dropFirst(4)
        }
    }
}
