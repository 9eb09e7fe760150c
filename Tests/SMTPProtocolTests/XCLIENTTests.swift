import Testing
@testable import SMTPProtocol

/// XCLIENT parsing (Postfix smtpd.c xclient_cmd()) and the server's PROXY and XCLIENT paths,
/// driven without sockets.
@Suite struct XCLIENTTests {
    static let proxy: [UInt8] = [203, 0, 113, 5]
    static let client: [UInt8] = [198, 51, 100, 25]

    func parse(_ text: String) -> Result<XCLIENTCommand, XCLIENTCommand.Rejection> {
        XCLIENTCommand.parse(arguments: text)
    }
    func rejection(_ text: String) -> String? {
        if case .failure(let rejection) = parse(text) { return rejection.reply.description }
        return nil
    }

    @Test func attributesParse() throws {
        let command = try parse("ADDR=198.51.100.25 NAME=mail.sender.test").get()
        #expect(command.address == Self.client)
        #expect(command.name == .verified("mail.sender.test"))
        #expect(try parse("name=[UNAVAILABLE] addr=IPV6:2001:db8:5::25").get().name == .unavailable)
        #expect(try parse("NAME=[TEMPUNAVAIL]").get().name == .temporarilyUnavailable)
        #expect(try parse("ADDR=IPv6:2001:db8:5::25").get().address?.count == 16)
        // An IPv4-mapped IPv6 address is IPv4 (normalize_mailhost_addr()).
        #expect(try parse("ADDR=IPV6:::ffff:198.51.100.25").get().address == Self.client)
        // xtext: +XX is a byte (RFC 3461 4).
        #expect(try parse("NAME=mail+2Esender.test HELO=a+20b").get().helo == "a b")
        #expect(try parse("NAME=mail+2Esender.test").get().name == .verified("mail.sender.test"))
        #expect(
            try parse("PROTO=ESMTP PORT=25 DESTADDR=192.0.2.10 DESTPORT=25 LOGIN=x REVERSE_NAME=[UNAVAILABLE]").get()
                .attributes.count == 6)
    }

    @Test func badAttributesGetPostfixsReplies() {
        #expect(rejection("") == "501 5.5.4 Syntax: XCLIENT attribute=value...")
        #expect(rejection("ADDR") == "501 5.5.4 Error: attribute=value expected")
        #expect(rejection("ADDR=") == "501 5.5.4 Error: attribute=value expected")
        #expect(rejection("FOO=1") == "501 5.5.4 Bad XCLIENT attribute name: FOO")
        #expect(rejection("ADDR=2001:db8::1") == "501 5.5.4 Bad ADDR syntax: 2001:db8::1")
        #expect(rejection("ADDR=IPV6:198.51.100.25") == "501 5.5.4 Bad ADDR syntax: IPV6:198.51.100.25")
        #expect(rejection("NAME=bad_name!") == "501 5.5.4 Bad NAME syntax: bad_name!")
        #expect(rejection("PORT=abc") == "501 5.5.4 Bad PORT syntax: abc")
        #expect(rejection("PROTO=LMTP") == "501 5.5.4 Bad PROTO syntax: LMTP")
        #expect(rejection("NAME=" + String(repeating: "a", count: 256)) == "501 5.5.4 Error: attribute value too long")
    }

    @Test func theProxysLineEncodesItsValues() throws {
        #expect(
            XCLIENTCommand.line(address: Self.client, name: "mail.sender.test")
                == "XCLIENT ADDR=198.51.100.25 NAME=mail.sender.test")
        let v6: [UInt8] = [0x20, 0x01, 0x0d, 0xb8, 0, 5] + [UInt8](repeating: 0, count: 9) + [0x25]
        let line = XCLIENTCommand.line(address: v6, name: "[UNAVAILABLE]")
        #expect(line == "XCLIENT ADDR=IPV6:2001:db8:5::25 NAME=[UNAVAILABLE]")
        let back = try parse(String(line.dropFirst("XCLIENT ".count))).get()
        #expect(back.address == v6 && back.name == .unavailable)
    }

    // MARK: The server

    @Test func anAuthorisedProxyIsAdvertisedXCLIENTAndGoesBackToTheGreeting() {
        var driver = ServerDriver(identity: SMTPIdentitySettings(xclientHosts: [Self.proxy]), client: Self.proxy)
        driver.connect()
        driver.send("EHLO proxy.example.test\r\n")
        #expect(driver.last?.lines.last == "XCLIENT NAME ADDR PROTO HELO REVERSE_NAME PORT LOGIN DESTADDR DESTPORT")
        driver.send("XCLIENT ADDR=198.51.100.25 NAME=mail.sender.test\r\n")
        #expect(driver.identities == [.xclient(try! parse("ADDR=198.51.100.25 NAME=mail.sender.test").get())])
        #expect(driver.questions == [.connect, .helo(name: "proxy.example.test", extended: true), .connect])
        #expect(driver.lines(from: 2) == ["220 mx.example.test ESMTP"])
        #expect(driver.replies.last?.command == "XCLIENT ADDR=198.51.100.25 NAME=mail.sender.test")
        // HELO is forgotten; the new client is not an authorised host, so no XCLIENT now.
        driver.send("MAIL FROM:<a@sender.test>\r\nEHLO mail.sender.test\r\n")
        #expect(driver.lines(from: 3).first == "503 5.5.1 Error: send HELO/EHLO first")
        #expect(driver.last?.lines.contains { $0.hasPrefix("XCLIENT") } == false)
        driver.send("XCLIENT ADDR=198.51.100.26\r\n")
        #expect(driver.last?.description == "550 5.7.0 Error: insufficient authorization")
    }

    @Test func anUnauthorisedClientGets550AndNoAdvert() {
        var driver = ServerDriver(identity: SMTPIdentitySettings(xclientHosts: [[203, 0, 113, 6]]), client: Self.proxy)
        driver.connect()
        driver.send("EHLO proxy.example.test\r\nXCLIENT ADDR=198.51.100.25\r\nXCLIENT\r\n")
        #expect(
            driver.lines(from: 1) == [
                "250 mx.example.test PIPELINING SIZE 10240000 8BITMIME ENHANCEDSTATUSCODES",
                "550 5.7.0 Error: insufficient authorization",
                "501 5.5.4 Syntax: XCLIENT attribute=value...",
            ])
        #expect(driver.identities.isEmpty)
        #expect(driver.questions == [.connect, .helo(name: "proxy.example.test", extended: true)])
    }

    @Test func xclientInsideATransactionAndBadAttributes() {
        var driver = ServerDriver(identity: SMTPIdentitySettings(xclientHosts: [Self.proxy]), client: Self.proxy)
        driver.connect()
        driver.send(
            "EHLO p.example.test\r\nMAIL FROM:<a@sender.test>\r\nXCLIENT ADDR=198.51.100.25\r\nRSET\r\nXCLIENT FOO=1\r\n"
        )
        #expect(
            driver.lines(from: 2) == [
                "250 2.1.0 Ok", "503 5.5.1 Error: MAIL transaction in progress", "250 2.0.0 Ok",
                "501 5.5.4 Bad XCLIENT attribute name: FOO",
            ])
    }

    @Test func withoutXCLIENTHostsXCLIENTIsRefused() {
        var driver = ServerDriver.greeted()
        driver.send("EHLO p.example.test\r\nXCLIENT ADDR=198.51.100.25\r\n")
        #expect(driver.last?.description == "550 5.7.0 Error: insufficient authorization")
    }

    @Test func aProxyHeaderComesBeforeTheGreeting() {
        var driver = ServerDriver(identity: SMTPIdentitySettings(requiresProxyHeader: true), client: Self.proxy)
        driver.connect()
        #expect(driver.questions.isEmpty && driver.replies.isEmpty)
        #expect(driver.machine.deadline == driver.clock.now.advanced(by: .seconds(5)))
        // The header in two pieces, the EHLO that follows it in the second.
        driver.send("PROXY TCP4 198.51.100.25 192.0.")
        #expect(driver.questions.isEmpty)
        driver.send("2.10 40000 25\r\nEHLO mail.sender.test\r\n")
        #expect(driver.identities.count == 1)
        if case .proxyHeader(let header) = driver.identities.first { #expect(header.source?.address == Self.client) }
        #expect(driver.questions == [.connect, .helo(name: "mail.sender.test", extended: true)])
        #expect(driver.codes == [220, 250])
        #expect(driver.machine.deadline == driver.clock.now.advanced(by: .seconds(300)))
    }

    @Test func aV2HeaderAndALocalOne() {
        var driver = ServerDriver(identity: SMTPIdentitySettings(requiresProxyHeader: true), client: Self.proxy)
        driver.connect()
        let header = ProxyHeader.v2(
            source: ProxiedEndpoint(address: Self.client, port: 1),
            destination: ProxiedEndpoint(address: [192, 0, 2, 10], port: 25))
        driver.send(bytes: header + Array("EHLO a.test\r\n".utf8))
        #expect(driver.codes == [220, 250])
        #expect(driver.identities.count == 1)

        var local = ServerDriver(identity: SMTPIdentitySettings(requiresProxyHeader: true), client: Self.proxy)
        local.connect()
        local.send(bytes: ProxyHeader.v2Signature + [0x20, 0x00, 0x00, 0x00])
        #expect(local.identities.isEmpty)
        #expect(local.codes == [220])
    }

    @Test func aPlainClientOnAProxyPortGets421AfterTheTimeout() {
        var driver = ServerDriver(identity: SMTPIdentitySettings(requiresProxyHeader: true), client: Self.proxy)
        driver.connect()
        driver.clock.advance(by: .seconds(4))
        driver.fireTimeout()
        #expect(!driver.closed)
        driver.clock.advance(by: .seconds(1))
        driver.fireTimeout()
        #expect(driver.lines() == ["421 4.3.0 mx.example.test Server local error"])
        #expect(driver.replies.first?.cause == "proxy:timeout")
        #expect(driver.closed)
    }

    @Test func garbageUnknownAndOverlongHeadersGet421AtOnce() {
        let inputs: [[UInt8]] = [
            Array("EHLO mail.sender.test\r\n".utf8),
            Array("PROXY UNKNOWN\r\n".utf8),
            Array("PROXY TCP4 \(String(repeating: "9", count: 120))".utf8),
            ProxyHeader.v2Signature + [0x21, 0x11, 0xff, 0xff] + [UInt8](repeating: 0, count: 4000),
            ProxyHeader.v2Signature + [0x21, 0x00, 0x00, 0x00],
        ]
        for input in inputs {
            var driver = ServerDriver(identity: SMTPIdentitySettings(requiresProxyHeader: true), client: Self.proxy)
            driver.connect()
            driver.send(bytes: input)
            #expect(driver.lines() == ["421 4.3.0 mx.example.test Server local error"], "\(input.prefix(20))")
            #expect(driver.closed)
            #expect(driver.questions.isEmpty)
        }
    }

    @Test func aHeaderOnAPlainPortIsNotACommand() {
        var driver = ServerDriver.greeted()
        driver.send("PROXY TCP4 198.51.100.25 192.0.2.10 40000 25\r\n")
        #expect(driver.last?.description == "500 5.5.2 Error: command not recognized")
        // v2 on a plain port: its signature reads as two empty lines, a NUL line and QUIT.
        var v2 = ServerDriver.greeted()
        v2.send(
            bytes: ProxyHeader.v2(
                source: ProxiedEndpoint(address: Self.client, port: 1),
                destination: ProxiedEndpoint(address: [192, 0, 2, 10], port: 25)))
        #expect(v2.codes == [220, 500, 500, 500, 221])
        #expect(v2.closed)
    }

    @Test func xclientAfterAProxyHeaderIsJudgedOnTheProxiedAddress() {
        var driver = ServerDriver(
            identity: SMTPIdentitySettings(requiresProxyHeader: true, xclientHosts: [Self.client]), client: Self.proxy)
        driver.connect()
        driver.send("PROXY TCP4 198.51.100.25 192.0.2.10 40000 25\r\nEHLO a.test\r\n")
        #expect(driver.last?.lines.last?.hasPrefix("XCLIENT ") == true)
    }
}
