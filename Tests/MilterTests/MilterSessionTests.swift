@testable import Milter
import Testing

/// A filter that refuses one recipient and decides at the end from a header.
private struct Recorder: MilterFilter {
    func reply(at stage: MilterStage, context: MilterContext) -> String? {
        switch stage {
        case .rcpt:
            return context.recipients.first?.first == "<nobody@example.test>" ? "550 5.1.1 no such user" : nil
        case .endOfMessage:
            let from = context.headers(named: "from").first ?? "?"
            return context.macros["{client_resolve}"] == "FAIL" ? "450 4.7.25 \(from) via \(context.address)" : nil
        }
    }
}

/// One packet as the MTA writes it.
private func packet(_ command: Character, _ data: [UInt8] = []) -> [UInt8] {
    MilterResponse.bigEndian(UInt32(data.count + 1)) + [UInt8(ascii: command.unicodeScalars.first!)] + data
}

private func strings(_ values: String...) -> [UInt8] {
    values.flatMap { Array($0.utf8) + [0] }
}

struct MilterSessionTests {
    @Test func negotiatesVersionAndStepsWithinWhatTheMTAOffers() throws {
        var session = MilterSession(filter: Recorder())
        let responses = try session.receive(.optionNegotiation(version: 6, actions: 0x1FF, protocolSteps: 0x1FFFFF))
        #expect(responses == [.optionNegotiation(version: 6, actions: 0, protocolSteps: 0x110)])
        var old = MilterSession(filter: Recorder())
        #expect(
            try old.receive(.optionNegotiation(version: 2, actions: 0, protocolSteps: 0x10)) == [
                .optionNegotiation(version: 2, actions: 0, protocolSteps: 0x10)
            ])
        var early = MilterSession(filter: Recorder())
        #expect(throws: MilterProtocolError.self) { try early.receive(.helo("x")) }
    }

    @Test func readerSplitsPacketsWhateverTheChunks() throws {
        let stream =
            packet(
                "O", MilterResponse.bigEndian(6) + MilterResponse.bigEndian(0x1FF) + MilterResponse.bigEndian(0x3FFFFF))
            + packet("D", [UInt8(ascii: "C")] + strings("{client_resolve}", "FAIL", "j", "mx.example.test"))
            + packet("C", strings("[2001:db8:5::25]") + [UInt8(ascii: "6"), 0x30, 0x39] + strings("2001:db8:5::25"))
            + packet("L", strings("From", " <alice@sender.test>"))
            + packet("E")
        for chunk in [1, 3, 7, stream.count] {
            var reader = MilterPacketReader()
            var commands: [MilterCommand] = []
            var index = 0
            while index < stream.count {
                reader.append(stream[index..<min(index + chunk, stream.count)])
                index += chunk
                while let command = try reader.next() { commands.append(command) }
            }
            #expect(
                commands == [
                    .optionNegotiation(version: 6, actions: 0x1FF, protocolSteps: 0x3FFFFF),
                    .macros(stage: UInt8(ascii: "C"), values: ["{client_resolve}": "FAIL", "j": "mx.example.test"]),
                    .connect(
                        hostname: "[2001:db8:5::25]", family: UInt8(ascii: "6"), port: 12345, address: "2001:db8:5::25"),
                    .header(name: "From", value: " <alice@sender.test>"),
                    .endOfMessage,
                ], "chunks of \(chunk)")
        }
    }

    @Test func refusesAnOversizedOrEmptyPacket() {
        var reader = MilterPacketReader()
        reader.append(MilterResponse.bigEndian(UInt32(MilterPacketReader.maximumLength + 1)))
        #expect(throws: MilterProtocolError.self) { try reader.next() }
        var empty = MilterPacketReader()
        empty.append(MilterResponse.bigEndian(0))
        #expect(throws: MilterProtocolError.self) { try empty.next() }
    }

    @Test func answersEachStepAndGivesTheFilterTheSession() throws {
        var session = MilterSession(filter: Recorder())
        _ = try session.receive(.optionNegotiation(version: 6, actions: 0, protocolSteps: 0x1FFFFF))
        #expect(try session.receive(.macros(stage: UInt8(ascii: "C"), values: ["{client_resolve}": "FAIL"])) == [])
        #expect(
            try session.receive(
                .connect(hostname: "[198.51.100.25]", family: UInt8(ascii: "4"), port: 25, address: "198.51.100.25"))
                == [.continue])
        #expect(try session.receive(.helo("mail.sender.test")) == [.continue])
        #expect(try session.receive(.mail(["<alice@sender.test>"])) == [.continue])
        #expect(try session.receive(.rcpt(["<nobody@example.test>"])) == [.replyCode("550 5.1.1 no such user")])
        #expect(try session.receive(.rcpt(["<bob@example.test>"])) == [.continue])
        #expect(session.context.recipients == [["<bob@example.test>"]], "a refused recipient is not kept")
        #expect(try session.receive(.data) == [.continue])
        #expect(try session.receive(.header(name: "From", value: "<alice@sender.test>")) == [.continue])
        #expect(try session.receive(.endOfHeaders) == [.continue])
        #expect(try session.receive(.endOfMessage) == [.replyCode("450 4.7.25 <alice@sender.test> via 198.51.100.25")])
        #expect(session.context.headers.isEmpty, "the next message starts without the last one's headers")
        #expect(session.context.helo == "mail.sender.test", "the connection's facts stay")
        #expect(try session.receive(.abort) == [])
        #expect(try session.receive(.quitNewConnection) == [])
        #expect(session.context.address == "")
        #expect(try session.receive(.quit) == [])
        #expect(session.finished)
    }

    @Test func encodesResponsesAsLibmilterDoes() {
        #expect(MilterResponse.continue.bytes == [0, 0, 0, 1, UInt8(ascii: "c")])
        #expect(MilterResponse.replyCode("550 x").bytes == [0, 0, 0, 7, UInt8(ascii: "y")] + Array("550 x".utf8) + [0])
        #expect(
            MilterResponse.optionNegotiation(version: 6, actions: 0, protocolSteps: 0x110).bytes
                == [0, 0, 0, 13, UInt8(ascii: "O"), 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 1, 0x10])
    }
}
