import DNSCore
import SPF
import Testing

/// RFC 7208 7.4's examples, moved to `.test` names.
@Suite struct SPFMacroTests {
    static let ipv4Context = SPFMacroContext(
        localPart: "strong-bad", senderDomain: "email.example.test", domain: "email.example.test",
        client: address("192.0.2.3"), helo: "mx.sender.test", receiver: "mx.receiver.test", timestamp: 1_700_000_000)

    static func expand(
        _ text: String, as usage: SPFMacroString.Usage = .domainSpec, in context: SPFMacroContext = ipv4Context
    ) throws -> String {
        try SPFMacroString(parsing: text, as: usage).expand(in: context)
    }

    @Test(arguments: [
        ("%{s}", "strong-bad@email.example.test"),
        ("%{o}", "email.example.test"),
        ("%{d}", "email.example.test"),
        ("%{d4}", "email.example.test"),
        ("%{d3}", "email.example.test"),
        ("%{d2}", "example.test"),
        ("%{d1}", "test"),
        ("%{dr}", "test.example.email"),
        ("%{d2r}", "example.email"),
        ("%{l}", "strong-bad"),
        ("%{l-}", "strong.bad"),
        ("%{lr}", "strong-bad"),
        ("%{lr-}", "bad.strong"),
        ("%{l1r-}", "strong"),
        ("%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.test"),
        ("%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.test"),
        ("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.test"),
        ("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.test"),
        ("%{d2}.trusted-domains.example.test", "example.test.trusted-domains.example.test"),
        ("%{h}", "mx.sender.test"),
        ("%{p}", "unknown"),
    ])
    func rfc7208Examples(macro: String, expansion: String) throws {
        #expect(try Self.expand(macro) == expansion)
    }

    @Test func ipv6ClientExpandsToNibbles() throws {
        var context = Self.ipv4Context
        context.client = address("2001:db8::cb01")
        #expect(
            try Self.expand("%{ir}.%{v}._spf.%{d2}", in: context)
                == "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.test")
        #expect(try Self.expand("%{c} %{v}", as: .explanation, in: context) == "2001:db8::cb01 ip6")
    }

    @Test func upperCaseLettersAreURLEscaped() throws {
        var context = Self.ipv4Context
        context.localPart = "~jack&jill=up-a_b3.c"
        #expect(try Self.expand("l=%{L}", as: .explanation, in: context) == "l=~jack%26jill%3Dup-a_b3.c")
        #expect(try Self.expand("%{l}.x.test", in: context) == "~jack&jill=up-a_b3.c.x.test")
        context.helo = "JUMPIN' JUPITER"
        #expect(try Self.expand("%{H}.x.test", in: context) == "JUMPIN%27%20JUPITER.x.test")
    }

    @Test func multipleDelimitersSplitTogether() throws {
        var context = Self.ipv4Context
        context.localPart = "foo-bar+zip+quux"
        #expect(try Self.expand("%{l2r+-}.user.%{d2}", in: context) == "bar.foo.user.example.test")
        #expect(try Self.expand("%{l=}", in: context) == "foo-bar+zip+quux")
    }

    @Test func escapesPercentSpaceAndURLSpace() throws {
        #expect(
            try Self.expand("macro%%percent%_%_space%-url-space.sender.test")
                == "macro%percent  space%20url-space.sender.test")
    }

    @Test func explanationOnlyLettersExpandInExplanations() throws {
        #expect(
            try Self.expand("%{c} via %{r} at %{t}", as: .explanation) == "192.0.2.3 via mx.receiver.test at 1700000000"
        )
        #expect(throws: SPFSyntaxError.self) { try Self.expand("%{t}.sender.test") }
    }

    @Test func explanationKeepsSpacesAndTrailingDot() throws {
        #expect(
            try Self.expand("See http://why.test/?s=%{S}.", as: .explanation)
                == "See http://why.test/?s=strong-bad%40email.example.test.")
    }

    @Test func usesValidatedDomainOnlyWithP() throws {
        #expect(try SPFMacroString(parsing: "%{p}.ok.test", as: .domainSpec).usesValidatedDomain)
        #expect(try !SPFMacroString(parsing: "%{d}.ok.test", as: .domainSpec).usesValidatedDomain)
        var context = Self.ipv4Context
        context.validatedDomain = "mx.email.example.test"
        #expect(try Self.expand("%{p2}", in: context) == "example.test")
    }

    @Test func longExpansionsLoseLabelsFromTheLeft() {
        let label = String(repeating: "a", count: 59)  // 4 x 59 + 4 dots + "sender.test" = 251
        let long = "drop.\(label).\(label).\(label).\(label).sender.test"
        #expect(long.utf8.count > 253)
        let name = SPFDomain.queryName(fromExpansion: long)
        #expect(name == "\(label).\(label).\(label).\(label).sender.test")
        #expect((name?.utf8.count ?? 999) <= 253)
    }

    @Test(arguments: ["a..sender.test", String(repeating: "b", count: 64) + ".sender.test", "", "."])
    func expansionsNoQueryCanBeMadeOfAreRejected(name: String) {
        #expect(SPFDomain.queryName(fromExpansion: name) == nil)
    }

    @Test func trailingDotIsDroppedFromQueryNames() {
        #expect(SPFDomain.queryName(fromExpansion: "spf.sender.test.") == "spf.sender.test")
    }

    @Test(arguments: [
        ("sender.test", true), ("sender.test.", true), ("_spf.sender.test", true), ("a.xn--zckzah", true),
        ("sender", false), ("[192.0.2.1]", false), ("a..sender.test", false), ("sender.123", false),
        (String(repeating: "c", count: 64) + ".test", false), ("bad name.test", false), ("", false),
    ])
    func identityValidity(name: String, valid: Bool) {
        #expect(SPFDomain.isValidIdentity(name) == valid)
        #expect((SPFDomain.identityProblem(name) == nil) == valid)
    }
}
