import DNSCore
import Testing

@Suite struct PrintableTests {
    @Test func unsafeCharactersAreEscapedOthersKept() {
        #expect(Printable.escaped("mail.sender.test") == "mail.sender.test")
        #expect(Printable.escaped("a\0b\tc\rd\ne\u{7}f\u{1b}[2J\u{7f}") == "a\\0b\\tc\\rd\\ne\\x07f\\x1b[2J\\x7f")
        #expect(Printable.escaped("\u{202E}txt.exe\u{202C}") == "\\u{202E}txt.exe\\u{202C}")
        #expect(Printable.escaped("zero\u{200B}width\u{FEFF}\u{2066}") == "zero\\u{200B}width\\u{FEFF}\\u{2066}")
        #expect(Printable.escaped("\u{85}c1") == "\\u{85}c1")
        #expect(Printable.escaped("grüße 日本") == "grüße 日本")
        #expect(Printable.escaped(bytes: [0x61, 0xff, 0x0d]) == "a\u{FFFD}\\r")
    }

    @Test func excerptsAreShortAndEscaped() {
        #expect(Printable.excerpt(String(repeating: "x", count: 100), limit: 10) == "xxxxxxxxxx…")
        #expect(Printable.excerpt("a\nb", limit: 10) == "a\\nb")
    }
}
