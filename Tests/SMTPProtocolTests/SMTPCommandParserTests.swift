import Testing
@testable import SMTPProtocol

/// The byte parser `SMTPCommand.parse` uses for ASCII lines must agree with the Character parser
/// on every line: both run over lines built from the pieces commands are made of.
@Suite("SMTP command parsing: bytes and Characters agree")
struct SMTPCommandParserTests {
    static let verbs = [
        "EHLO", "ehlo", "HeLo", "HELO", "MAIL", "mail", "RCPT", "rcpt", "DATA", "data", "RSET", "QUIT", "quit", "NOOP",
        "VRFY", "vrfy", "EXPN", "STARTTLS", "", "X",
    ]
    static let separators = ["", " ", "  ", ":", " FROM:", " FROM: ", " from:", " TO:", " to: ", " TO:  ", "\t"]
    static let paths = [
        "", "<>", "<alice@sender.test>", "<ALICE@Sender.Test>", "<postmaster>", "<Postmaster>",
        "<@relay.test:bob@example.test>",
        "<@relay.test,@b.test:bob@example.test>", "<@nocolon>", "<@relay.test:@example.test>", "<@relay.test:alice@>",
        "<a@>", "<@b>", "<a b@c>", "<a@b", "alice@sender.test", "<a@b>x",
        "<" + String(repeating: "l", count: 250) + "@example.test>", "client.sender.test", "[192.0.2.1]", "two words",
    ]
    static let parameters = [
        "", " SIZE=1000", " size=42", " SIZE=", " SIZE", " SIZE=12a", " SIZE=1234567890123456789", " BODY=8BITMIME",
        " body=7bit",
        " BODY=binarymime", " BODY", " X-FOO=bar", " =x", " SMTPUTF8", " SIZE=10 BODY=8BITMIME", "  SIZE=5  ",
        " KEY_=1",
    ]
    static let tails = ["", " ", "  \t", "\t", " x"]

    static func lines() -> [String] {
        var lines: [String] = []
        for verb in verbs {
            for separator in separators {
                for path in paths {
                    for parameter in parameters where path.hasPrefix("<") || parameter.isEmpty {
                        lines.append(verb + separator + path + parameter)
                    }
                }
            }
        }
        var result: [String] = []
        for (index, line) in lines.enumerated() {
            result.append(line + tails[index % tails.count])
        }
        return result + [
            "", " ", "\t", "MAIL FROM:<a@b.test>", "RCPT TO:<a@b.test> NOTIFY=NEVER", "NOOP anything at all",
            "VRFY  bob",
        ]
    }

    @Test func everyLineParsesTheSameWay() {
        var differences: [String] = []
        let lines = Self.lines()
        for line in lines {
            var copy = line
            let bytes = copy.withUTF8 { ASCIICommandParser.parse($0) }
            let characters = SMTPCommand.parseText(line)
            if bytes != characters {
                differences.append(
                    "\(line.debugDescription): bytes \(String(describing: bytes)), characters \(characters)")
            }
        }
        #expect(lines.count > 5000)
        #expect(
            differences.isEmpty,
            "\(differences.count) lines differ, first: \(differences.prefix(5).joined(separator: "; "))")
    }

    /// `verb(of:)` (the first word, upper-cased: what a close reason or a 503 names) on bytes
    /// for ASCII lines gives what it gives on Characters.
    @Test func verbsAreTheSameOnBytes() {
        for line in Self.lines() + ["straße DATA", "mäil from:<a@b>", "éhlo", "rcpt\rto:", "ABC:def", ":x", "Quit"] {
            #expect(
                SMTPCommand.verb(of: line) == String(line.prefix { $0 != " " && $0 != ":" }).uppercased(),
                "\(line.debugDescription)")
        }
    }

    @Test func nonASCIILinesGoToTheCharacterParser() {
        var line = "EHLO bücher.example"
        #expect(line.withUTF8 { ASCIICommandParser.parse($0) } == nil)
        #expect(SMTPCommand.parse("EHLO bücher.example") == .success(.ehlo("bücher.example")))
        #expect(SMTPCommand.parse("straße") == .failure(.unrecognized("STRASSE")))
    }

    @Test func usualCommands() {
        #expect(
            SMTPCommand.parse("MAIL FROM:<alice@sender.test> SIZE=4096 BODY=8bitmime")
                == .success(.mail(reversePath: "alice@sender.test", parameters: [.size(4096), .body("8BITMIME")])))
        #expect(
            SMTPCommand.parse("rcpt to: <@a.test:bob@example.test>") == .success(.rcpt(forwardPath: "bob@example.test"))
        )
        #expect(SMTPCommand.parse("MAIL FROM:<> ") == .success(.mail(reversePath: "", parameters: [])))
        #expect(SMTPCommand.parse("RCPT TO:<a@b.test> NOTIFY=NEVER") == .failure(.unsupportedParameter("NOTIFY")))
        #expect(SMTPCommand.parse("data x") == .failure(.syntax("DATA")))
    }
}
