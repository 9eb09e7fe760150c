import Testing
@testable import SMTPProtocol

@Suite("ClientMessage")
struct ClientMessageTests {
    private func payload(_ text: String) -> String {
        String(decoding: ClientMessage.dataPayload(Array(text.utf8)), as: UTF8.self)
    }

    @Test func bareLineFeedsBecomeCRLF() {
        #expect(payload("Subject: hi\n\nbody\n") == "Subject: hi\r\n\r\nbody\r\n.\r\n")
    }

    @Test func crlfStaysAsIs() {
        #expect(payload("Subject: hi\r\n\r\nbody\r\n") == "Subject: hi\r\n\r\nbody\r\n.\r\n")
    }

    @Test func mixedLineEndingsAreNormalized() {
        #expect(payload("a\r\nb\nc\r\n") == "a\r\nb\r\nc\r\n.\r\n")
    }

    @Test func missingFinalLineEndingIsAdded() {
        #expect(payload("Subject: hi\n\nlast line") == "Subject: hi\r\n\r\nlast line\r\n.\r\n")
    }

    @Test func linesStartingWithAPeriodAreDotStuffed() {
        #expect(payload("a\n.\n..two\n.b\nc.\n") == "a\r\n..\r\n...two\r\n..b\r\nc.\r\n.\r\n")
    }

    @Test func firstLineIsDotStuffedToo() {
        #expect(payload(".hidden\n") == "..hidden\r\n.\r\n")
    }

    @Test func emptyMessageIsJustTheTerminator() {
        #expect(payload("") == ".\r\n")
    }

    @Test func measureCountsCRLFOctetsBeforeStuffing() {
        let measured = ClientMessage.measure(Array("a\n.b\n".utf8))
        #expect(measured.lines == 2)
        #expect(measured.octets == 7)  // "a\r\n" + ".b\r\n"
        #expect(ClientMessage.normalized(Array("a\n.b".utf8)) == Array("a\r\n.b\r\n".utf8))
    }

    @Test func eightBitContentIsDetected() {
        #expect(ClientMessage.has8BitContent(Array("Grüße\n".utf8)))
        #expect(!ClientMessage.has8BitContent(Array("plain\n".utf8)))
    }
}
