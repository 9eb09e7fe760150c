@testable import Census
import DNSCore
import Foundation
import Testing

/// The framings census reads, each from a line as the software writes it.
struct FramingTests {
    func record(_ line: String) throws -> LogRecord {
        let framed = LineFraming.frame(Substring(line), at: LogPosition(file: "t", line: 1))
        guard case .record(let record)? = framed else {
            Issue.record("not read as a record: \(line)")
            throw CancellationError()
        }
        return record
    }

    @Test func classicSyslogAndMaillogFile() throws {
        // rsyslog's traditional format (day padded with a space) and Postfix's maillog_file
        // (msg_logger.c: "%b %d %H:%M:%S ", the day zero-padded).
        for line in [
            "Mar  4 10:00:01 mx postfix/smtpd[12345]: connect from unknown[2001:db8::5]",
            "Mar 04 10:00:01 mx postfix/smtpd[12345]: connect from unknown[2001:db8::5]",
        ] {
            let record = try record(line)
            #expect(record.framing == .syslog)
            #expect(record.host == "mx")
            #expect(record.program == "postfix/smtpd")
            #expect(record.pid == 12345)
            #expect(record.message == "connect from unknown[2001:db8::5]")
        }
    }

    @Test func rfc3339SyslogAsDebian12WritesIt() throws {
        let record = try record(
            "2024-03-04T10:00:01.123456+01:00 mx postfix/submission/smtpd[77]: disconnect from a.test[192.0.2.1] ehlo=1 commands=1"
        )
        #expect(record.framing == .isoSyslog)
        #expect(record.program == "postfix/submission/smtpd")
        #expect(record.pid == 77)
        #expect(record.timestamp == "2024-03-04T10:00:01.123456+01:00")
        // journalctl -o short-iso
        #expect(try self.record("2024-03-04T10:00:01+0100 mx postfix/qmgr[9]: ABC: removed").program == "postfix/qmgr")
    }

    @Test func rfc5424() throws {
        let record = try record(
            #"<22>1 2024-03-04T10:00:01.000Z mx.example.test postfix/smtpd 4242 - [meta sequenceId="7" note="a \] b"] connect from unknown[192.0.2.9]"#
        )
        #expect(record.framing == .rfc5424)
        #expect(record.host == "mx.example.test")
        #expect(record.program == "postfix/smtpd")
        #expect(record.pid == 4242)
        #expect(record.message == "connect from unknown[192.0.2.9]")
        #expect(
            try self.record("<22>1 2024-03-04T10:00:01Z mx postfix/smtpd 1 - - connect from x[192.0.2.1]").message
                == "connect from x[192.0.2.1]")
    }

    @Test func journalJSONWithAMessageOfBytes() throws {
        let text =
            #"{"__CURSOR":"s=1","__REALTIME_TIMESTAMP":"1709542801000000","_HOSTNAME":"mx","SYSLOG_IDENTIFIER":"postfix/smtpd","SYSLOG_PID":"31","MESSAGE":"connect from unknown[192.0.2.7]"}"#
        let record = try record(text)
        #expect(record.framing == .journalJSON)
        #expect(record.program == "postfix/smtpd")
        #expect(record.pid == 31)
        // journald writes a message that is not UTF-8 as an array of bytes.
        let bytes = Array("helo=<a\u{1B}b>".utf8).map(String.init).joined(separator: ",")
        let binary = try self.record(
            #"{"__CURSOR":"s=2","SYSLOG_IDENTIFIER":"postfix/smtpd","_PID":"5","MESSAGE":[\#(bytes)]}"#)
        #expect(binary.message == "helo=<a\u{1B}b>")
    }

    @Test func eximMainLogWithAndWithoutPid() throws {
        let plain = try record(
            "2024-03-04 10:00:01 1rhABC-000123-Xy <= a@b.test H=mx.b.test (helo.b.test) [192.0.2.8]:4242 P=esmtp S=900")
        #expect(plain.framing == .eximMain)
        #expect(plain.pid == nil)
        #expect(plain.message.hasPrefix("1rhABC-000123-Xy <= "))
        let pid = try record(
            "2024-03-04 10:00:01.250 +0100 [4711] SMTP connection from [2001:db8::9]:4242 (TCP/IP connection count = 1)"
        )
        #expect(pid.pid == 4711)
        #expect(pid.message.hasPrefix("SMTP connection from"))
    }

    @Test func containerLogsAndJournalMarkers() throws {
        let record = try record(
            "mailserver-1  | Mar  4 10:00:01 mail postfix/smtpd[51726]: connect from unknown[192.0.2.5]")
        #expect(record.program == "postfix/smtpd")
        if case .nothing? = LineFraming.frame("-- Boot 3f2a9c0e1d --", at: LogPosition(file: "t", line: 1)) {
        } else {
            Issue.record("a journalctl marker is nothing to read")
        }
    }

    @Test func unknownLinesAreNotRead() {
        for line in ["hello world", "Foo  4 10:00:01 mx x: y", "2024-13 nonsense", "{\"not\": \"journal\"}"] {
            #expect(LineFraming.frame(Substring(line), at: LogPosition(file: "t", line: 1)) == nil, "\(line)")
        }
    }
}

/// Whole files: sessions, messages, compression, journal export, bad input.
struct LogFileTests {
    func write(_ text: String, name: String = "mail.log") throws -> String {
        let directory = try temporaryDirectory()
        let path = directory + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static let postfixLog = """
        Mar  4 10:00:00 mx postfix/smtpd[100]: warning: hostname mail.a.test does not resolve to address 2001:db8:a::1: No address associated with hostname
        Mar  4 10:00:00 mx postfix/smtpd[100]: connect from unknown[2001:db8:a::1]
        Mar  4 10:00:01 mx postfix/smtpd[101]: connect from mail.a.test[192.0.2.1]
        Mar  4 10:00:01 mx postfix/smtpd[100]: NOQUEUE: reject_warning: RCPT from unknown[2001:db8:a::1]: 450 4.7.25 Client host rejected: cannot find your hostname, [2001:db8:a::1]; from=<x@a.test> to=<u@example.test> proto=ESMTP helo=<mail.a.test>
        Mar  4 10:00:01 mx postfix/smtpd[100]: 3F1A2B: client=unknown[2001:db8:a::1]
        Mar  4 10:00:01 mx postfix/smtpd[101]: 3F1A2C: client=mail.a.test[192.0.2.1]
        Mar  4 10:00:02 mx postfix/qmgr[9]: 3F1A2B: from=<x@a.test>, size=900, nrcpt=1 (queue active)
        Mar  4 10:00:02 mx postfix/qmgr[9]: 3F1A2C: from=<y@a.test>, size=900, nrcpt=1 (queue active)
        Mar  4 10:00:02 mx postfix/smtpd[100]: disconnect from unknown[2001:db8:a::1] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5
        Mar  4 10:00:02 mx postfix/smtpd[101]: disconnect from mail.a.test[192.0.2.1] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5
        Mar  4 10:00:03 mx postfix/smtpd[101]: connect from localhost[127.0.0.1]
        Mar  4 10:00:03 mx postfix/smtpd[101]: disconnect from localhost[127.0.0.1] ehlo=1 quit=1 commands=2
        Mar  4 10:00:04 mx postfix/smtpd[102]: connect from user.c.test[198.51.100.7]
        Mar  4 10:00:04 mx postfix/smtpd[102]: 3F1A2D: client=user.c.test[198.51.100.7], sasl_method=PLAIN, sasl_username=carol
        Mar  4 10:00:05 mx postfix/smtpd[102]: disconnect from user.c.test[198.51.100.7] ehlo=1 auth=1 mail=1 rcpt=1 data=1 quit=1 commands=6
        Mar  4 10:00:06 mx policyd-spf[300]: prepend Received-SPF: Softfail (mailfrom) identity=mailfrom; client-ip=2001:db8:a::1; helo=mail.a.test; envelope-from=x@a.test; receiver=<UNKNOWN>
        """

    @Test func postfixSessionsMessagesAndWhatTheLinesSay() throws {
        let path = try write(Self.postfixLog)
        let log = try SessionLog.read([path])
        #expect(log.addresses.map(\.address.description) == ["192.0.2.1", "2001:db8:a::1"])
        let v6 = try #require(log.addresses.first { $0.address.family == .ipv6 })
        #expect(v6.sessions == 1 && v6.messages == 1)
        #expect(v6.unconfirmedName?.name == "mail.a.test")
        #expect(v6.unconfirmedName?.resolvesElsewhere == false)
        #expect(v6.helos == ["mail.a.test": 1])
        #expect(v6.senders == ["x@a.test": 1])
        #expect(v6.spf["a.test"] == .softfail)
        let v4 = try #require(log.addresses.first { $0.address.family == .ipv4 })
        #expect(v4.confirmedName == "mail.a.test")
        #expect(log.summary.authenticatedSessions == 1)
        #expect(log.summary.loopbackSessions == 1)
        let clients = ClientGrouping.group(log.addresses)
        #expect(clients.count == 1, "the name ties the two addresses")
        #expect(clients.first?.isDualStack == true)
        let (facts, assumptions) = LogFacts.facts(for: clients[0])
        #expect(facts.side(.ipv6)?.reverse == .unconfirmed("mail.a.test", resolvesElsewhere: false))
        #expect(facts.side(.ipv6)?.spf == .softfail)
        #expect(facts.side(.ipv4)?.spf == .pass)
        #expect(assumptions.contains(.spf))
    }

    @Test func gzipAndMixedFormatsInOneRun() throws {
        let syslog = try write(Self.postfixLog)
        let json = try write(
            #"{"__CURSOR":"s=1","_HOSTNAME":"mx","SYSLOG_IDENTIFIER":"postfix/smtpd","SYSLOG_PID":"500","MESSAGE":"connect from unknown[203.0.113.9]"}"#
                + "\n"
                + "2024-03-04T11:00:00+01:00 mx postfix/smtpd[500]: disconnect from unknown[203.0.113.9] ehlo=1 quit=1 commands=2\n",
            name: "mixed.log")
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        gzip.arguments = ["gzip", "-k", syslog]
        try gzip.run()
        gzip.waitUntilExit()
        let log = try SessionLog.read([syslog + ".gz", json])
        #expect(log.addresses.count == 3)
        #expect(log.addresses.first { $0.address.description == "203.0.113.9" }?.sessions == 1)
        #expect(log.summary.framings["journal-json"] == 1 && log.summary.framings["iso-syslog"] == 1)
    }

    @Test func journalExportWithABinaryField() throws {
        var data = Data(
            "__CURSOR=s=1\n__REALTIME_TIMESTAMP=1709542801000000\n_HOSTNAME=mx\nSYSLOG_IDENTIFIER=postfix/smtpd\nSYSLOG_PID=600\nMESSAGE=connect from unknown[192.0.2.44]\n\n"
                .utf8)
        let message = Array("disconnect from unknown[192.0.2.44] ehlo=1\nquit=1".utf8)
        data += Data("__CURSOR=s=2\n_HOSTNAME=mx\nSYSLOG_IDENTIFIER=postfix/smtpd\nSYSLOG_PID=600\nMESSAGE\n".utf8)
        var length = UInt64(message.count).littleEndian
        data += Data(bytes: &length, count: 8) + Data(message) + Data("\n\n".utf8)
        let path = try temporaryDirectory() + "/export.journal"
        try data.write(to: URL(fileURLWithPath: path))
        let log = try SessionLog.read([path])
        #expect(log.addresses.first?.address.description == "192.0.2.44")
        #expect(log.addresses.first?.sessions == 1)
        #expect(log.summary.framings["journal-export"] == 2)
    }

    @Test func eximMainLog() throws {
        let path = try write(
            """
            2024-03-04 10:00:00 [4001] SMTP connection from [2001:db8:e::1]:4000 I=[2001:db8::25]:25 (TCP/IP connection count = 1)
            2024-03-04 10:00:00 [4001] no host name found for IP address 2001:db8:e::1
            2024-03-04 10:00:01 [4001] 1rhABC-000123-Xy <= a@e.test H=(mail.e.test) [2001:db8:e::1]:4000 I=[2001:db8::25]:25 P=esmtp S=900 id=1@e.test
            2024-03-04 10:00:01 [4001] SMTP connection from (mail.e.test) [2001:db8:e::1]:4000 I=[2001:db8::25]:25 closed by QUIT
            2024-03-04 10:00:02 [4002] SMTP connection from [192.0.2.50]:4001 I=[192.0.2.25]:25 (TCP/IP connection count = 1)
            2024-03-04 10:00:03 [4002] 1rhABD-000124-Xy <= b@e.test H=mail.e.test [192.0.2.50]:4001 I=[192.0.2.25]:25 P=esmtps S=800 id=2@e.test
            2024-03-04 10:00:03 [4002] 1rhABE-000125-Xy <= b@e.test H=mail.e.test [192.0.2.50]:4001 I=[192.0.2.25]:25 P=esmtps S=800 id=3@e.test
            2024-03-04 10:00:04 [4003] SMTP connection from [203.0.113.66]:4002 I=[192.0.2.25]:25 (TCP/IP connection count = 2)
            2024-03-04 10:00:04 [4003] no IP address found for host spoof.f.test (during SMTP connection from [203.0.113.66])
            2024-03-04 10:00:05 [4003] H=(spoof.f.test) [203.0.113.66]:4002 I=[192.0.2.25]:25 F=<c@f.test> rejected RCPT <u@example.test>: 203.0.113.66 is in a black list at zen.example.test
            2024-03-04 10:00:05 [4003] 1rhABF-000126-Xy => u <u@example.test> R=local T=mailbox
            2024-03-04 10:00:06 [4004] 1rhABG-000127-Xy => bob@remote.test R=dnslookup T=remote_smtp H=mx.remote.test [198.51.100.99] X=TLS1.3 C="250 OK"
            2024-03-04 10:00:06 [4004] 1rhABG-000127-Xy == carol@remote.test R=dnslookup T=remote_smtp defer (-44) H=mx.remote.test [198.51.100.98]: SMTP error from remote mail server after RCPT TO:<carol@remote.test>: 450 4.7.1 try later
            """, name: "mainlog")
        let log = try SessionLog.read([path])
        let byAddress = Dictionary(uniqueKeysWithValues: log.addresses.map { ($0.address.description, $0) })
        let v6 = try #require(byAddress["2001:db8:e::1"])
        #expect(v6.ptrMissing && v6.sessions == 1 && v6.messages == 1 && v6.helos["mail.e.test"] != nil)
        let v4 = try #require(byAddress["192.0.2.50"])
        #expect(v4.confirmedName == "mail.e.test" && v4.sessions == 1 && v4.messages == 2)
        let spoof = try #require(byAddress["203.0.113.66"])
        #expect(spoof.unconfirmedName?.name == "spoof.f.test")
        #expect(spoof.dnsbl == ["zen.example.test"])
        #expect(spoof.senders.keys.contains("c@f.test"))
        #expect(
            byAddress["198.51.100.99"] == nil && byAddress["198.51.100.98"] == nil,
            "a delivery's H= is the remote server, not a client")
        let clients = ClientGrouping.group(log.addresses)
        #expect(
            clients.count == 2, "the HELO mail.e.test ties 2001:db8:e::1 to the IPv4 address confirmed by that name")
    }

    @Test func anUnknownFormatStopsAtItsFirstLineEscaped() throws {
        let path = try write(
            Self.postfixLog.split(separator: "\n").prefix(3).joined(separator: "\n")
                + "\nthis is \u{1B}[31mnot a log line\nnor this\n")
        do {
            _ = try SessionLog.read([path])
            Issue.record("read a log with a line in no format")
        } catch {
            #expect(error.position.line == 4)
            #expect(error.description.hasPrefix("\(path):4: not a line of any log format"))
            #expect(error.description.contains("\\x1b[31m"))
            #expect(!error.description.contains("\u{1B}"))
        }
    }

    @Test func aMissingFileAndADamagedGzip() throws {
        #expect(throws: LogReadError.self) { try SessionLog.read(["/nonexistent/mail.log"]) }
        let path = try temporaryDirectory() + "/cut.gz"
        try Data([0x1F, 0x8B, 0x08, 0x00, 0x01]).write(to: URL(fileURLWithPath: path))
        do {
            _ = try SessionLog.read([path])
            Issue.record("read a damaged gzip file")
        } catch {
            #expect(error.description.contains("gzip"))
        }
    }
}

/// Syslog daemons that write a little differently.
struct SyslogVariantTests {
    @Test func noHostAndAFacilityBeforeTheTag() throws {
        for line in [
            "Mar  4 10:00:01 postfix/smtpd[12]: connect from unknown[192.0.2.3]",
            "Mar  4 10:00:01 mx mail.info postfix/smtpd[12]: connect from unknown[192.0.2.3]",
        ] {
            guard case .record(let record)? = LineFraming.frame(Substring(line), at: LogPosition(file: "t", line: 1))
            else {
                Issue.record("not read: \(line)")
                continue
            }
            #expect(
                record.program == "postfix/smtpd" && record.pid == 12
                    && record.message == "connect from unknown[192.0.2.3]", "\(line)")
        }
    }
}
