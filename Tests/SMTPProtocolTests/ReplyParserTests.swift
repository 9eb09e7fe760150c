import Testing
@testable import SMTPProtocol

@Suite("ReplyParser")
struct ReplyParserTests {
    @Test func singleLineReply() throws {
        var parser = ReplyParser()
        let reply = try #require(try parser.feed("220 mx.example.test ESMTP Postfix"))
        #expect(reply.code == 220)
        #expect(reply.enhanced == nil)
        #expect(reply.lines == ["mx.example.test ESMTP Postfix"])
        #expect(!parser.isInsideReply)
    }

    @Test func multiLineReplyEndsAtSpaceSeparator() throws {
        var parser = ReplyParser()
        #expect(try parser.feed("250-mx.example.test") == nil)
        #expect(parser.isInsideReply)
        #expect(try parser.feed("250-PIPELINING") == nil)
        #expect(try parser.feed("250-SIZE 10240000") == nil)
        let reply = try #require(try parser.feed("250 ENHANCEDSTATUSCODES"))
        #expect(reply.code == 250)
        #expect(reply.lines == ["mx.example.test", "PIPELINING", "SIZE 10240000", "ENHANCEDSTATUSCODES"])
    }

    @Test func enhancedCodeIsSplitWhenItMatchesTheReplyClass() throws {
        var parser = ReplyParser()
        let reply = try #require(
            try parser.feed("550 5.7.25 Client host rejected: cannot find your hostname, [2001:db8::66]"))
        #expect(reply.enhanced == "5.7.25")
        #expect(reply.text == "Client host rejected: cannot find your hostname, [2001:db8::66]")
    }

    @Test func enhancedCodeOfAnotherClassStaysInTheText() throws {
        var parser = ReplyParser()
        let reply = try #require(try parser.feed("250 5.0.0 odd"))
        #expect(reply.enhanced == nil)
        #expect(reply.text == "5.0.0 odd")
    }

    @Test func enhancedCodeRepeatedOnEveryLineIsSplitFromEach() throws {
        var parser = ReplyParser()
        #expect(try parser.feed("550-5.7.1 first line") == nil)
        let reply = try #require(try parser.feed("550 5.7.1 second line"))
        #expect(reply.enhanced == "5.7.1")
        #expect(reply.lines == ["first line", "second line"])
        #expect(reply.wireFormat == "550-5.7.1 first line\r\n550 5.7.1 second line\r\n")
    }

    @Test func wireFormatPutsTheEnhancedCodeOnEveryLineAndNoSpaceBeforeAnEmptyText() {
        #expect(SMTPReply(code: 250, enhanced: "2.0.0", "").wireFormat == "250 2.0.0\r\n")
        #expect(SMTPReply(code: 250, lines: [""]).wireFormat == "250 \r\n")
        #expect(
            SMTPReply(code: 421, enhanced: "4.4.2", lines: ["a", "", "c"]).wireFormat
                == "421-4.4.2 a\r\n421-4.4.2\r\n421 4.4.2 c\r\n")
        #expect(
            SMTPReply(code: 354, lines: ["End data with <CR><LF>.<CR><LF>"]).wireFormat
                == "354 End data with <CR><LF>.<CR><LF>\r\n")
        #expect(SMTPReply(code: 250, enhanced: "", "odd").wireFormat == "250  odd\r\n")
        #expect(SMTPReply(code: 42, lines: ["x", "y"]).wireFormat == "42-x\r\n42 y\r\n")
        #expect(SMTPReply(code: 1000, enhanced: "5.0.0", "z").wireFormat == "1000 5.0.0 z\r\n")
        #expect(
            SMTPReply(code: 421, enhanced: "4.4.2", "mx.exämple.test ✉").wireFormat == "421 4.4.2 mx.exämple.test ✉\r\n"
        )
    }

    /// `wireLength` and `writeWire(into:)` are what `wireFormat` is made of; a server writes with them.
    @Test func wireLengthIsTheWireFormatsLength() {
        for reply in [
            SMTPReply(code: 250, enhanced: "2.0.0", ""), SMTPReply(code: 250, lines: ["", "", "last"]),
            SMTPReply(code: 421, enhanced: "4.4.2", lines: ["a", "", "c"]), SMTPReply(code: 7, enhanced: "", "ü"),
        ] {
            #expect(reply.wireLength == reply.wireFormat.utf8.count, "\(reply)")
        }
    }

    @Test func bareCodeIsALastLineWithEmptyText() throws {
        var parser = ReplyParser()
        let reply = try #require(try parser.feed("250"))
        #expect(reply.code == 250)
        #expect(reply.text == "")
    }

    @Test(arguments: [
        ("hello", ReplyParseError.Reason.missingCode),
        ("25", .missingCode),
        ("2x0 ok", .missingCode),
        ("650 six hundred", .codeOutOfRange(650)),
        ("150 one hundred", .codeOutOfRange(150)),
        ("250x", .badSeparator),
        ("250_ok", .badSeparator),
    ])
    func malformedLinesAreTypedErrors(line: String, reason: ReplyParseError.Reason) {
        var parser = ReplyParser()
        #expect(throws: ReplyParseError(reason: reason, line: line)) { try parser.feed(line) }
    }

    @Test func continuationWithAnotherCodeIsAnErrorAndTheParserRecovers() throws {
        var parser = ReplyParser()
        #expect(try parser.feed("250-first") == nil)
        #expect(throws: ReplyParseError(reason: .codeChanged(expected: 250, got: 251), line: "251 second")) {
            try parser.feed("251 second")
        }
        #expect(!parser.isInsideReply)
        let reply = try #require(try parser.feed("221 bye"))
        #expect(reply.code == 221)
    }

    @Test func limitsOnLinesAndLengthAreErrors() throws {
        var parser = ReplyParser(maximumLineLength: 20, maximumLines: 2)
        #expect(
            throws: ReplyParseError(reason: .lineTooLong(limit: 20), line: "250 " + String(repeating: "a", count: 30))
        ) {
            try parser.feed("250 " + String(repeating: "a", count: 30))
        }
        #expect(try parser.feed("250-one") == nil)
        #expect(try parser.feed("250-two") == nil)
        #expect(throws: ReplyParseError(reason: .tooManyLines(limit: 2), line: "250 three")) {
            try parser.feed("250 three")
        }
    }

    @Test func errorDescriptionSaysWhatWasWrong() {
        let error = ReplyParseError(reason: .badSeparator, line: "250x")
        #expect(error.description.contains("neither a space nor a hyphen"))
        #expect(error.description.contains("250x"))
    }
}
