import DNSCore
import SPF
import Testing

@Suite struct SPFRecordTests {
    @Test(arguments: [
        ("v=spf1", true), ("v=spf1 -all", true), ("V=SpF1 ~all", true),
        ("v=spf10", false), ("v=spf1-all", false), ("spf1 -all", false), ("", false), ("v=spf", false),
    ])
    func recognisesVersion1Records(text: String, isSPF: Bool) {
        #expect(SPFRecord.isSPFRecord(text) == isSPF)
    }

    @Test func parsesEveryMechanismQualifierAndModifier() throws {
        let record = try SPFRecord(
            parsing:
                "v=spf1 +a:mail.sender.test/24//64 -mx ~ptr ?exists:%{ir}.bl.test ip4:192.0.2.0/24 ip6:2001:db8::/32  include:spf.test -all redirect=other.test exp=why.%{d} x-note=hello"
        )
        let mechanisms = record.directives.map(\.mechanism)
        let qualifiers = record.directives.map(\.qualifier)
        #expect(qualifiers == [.pass, .fail, .softfail, .neutral, .pass, .pass, .pass, .fail])
        #expect(
            record.directives.map(\.text) == [
                "+a:mail.sender.test/24//64", "-mx", "~ptr", "?exists:%{ir}.bl.test", "ip4:192.0.2.0/24",
                "ip6:2001:db8::/32", "include:spf.test", "-all",
            ])
        guard case .a(let spec?, let cidr) = mechanisms[0] else { Issue.record("not a: \(mechanisms[0])"); return }
        #expect(spec.text == "mail.sender.test")
        #expect(cidr == SPFDualCIDR(ipv4: 24, ipv6: 64))
        #expect(mechanisms[1] == .mx(nil, SPFDualCIDR()))
        #expect(mechanisms[2] == .ptr(nil))
        #expect(mechanisms[4] == .ip4(address("192.0.2.0"), prefixLength: 24))
        #expect(mechanisms[5] == .ip6(address("2001:db8::"), prefixLength: 32))
        #expect(mechanisms[7] == .all)
        #expect(record.redirect?.value.text == "other.test")
        #expect(record.explanation?.value.text == "why.%{d}")
        #expect(record.unknownModifiers.map(\.name) == ["x-note"])
        #expect(mechanisms.filter(\.queriesDNS).count == 5)
    }

    @Test func namesAreCaseInsensitive() throws {
        let record = try SPFRecord(parsing: "v=spf1 A MX:Sender.Test IP4:192.0.2.1 -ALL Redirect=other.test")
        #expect(record.directives.count == 4)
        #expect(record.directives.last?.mechanism == .all)
        #expect(record.redirect?.name == "redirect")
    }

    @Test(arguments: [
        ("v=spf1 moo", SPFSyntaxError.Kind.unknownMechanism("moo"), 1),
        ("v=spf1 ip4:192.0.2.1 -all moo", .unknownMechanism("moo"), 3),
        ("v=spf1 =all", .unknownMechanism("=all"), 1),
        ("v=spf1 redirect:other.test", .unknownMechanism("redirect"), 1),
        ("v=spf1 -all.", .unknownMechanism("all."), 1),
        ("v=spf1 -all:x", .argumentNotAllowed, 1),
        ("v=spf1 -all/8", .cidrNotAllowed, 1),
        ("v=spf1 ptr/0", .cidrNotAllowed, 1),
        ("v=spf1 include:spf.test/24", .cidrNotAllowed, 1),
        ("v=spf1 ip4:192.0.2.1//32", .cidrNotAllowed, 1),
        ("v=spf1 a/33", .invalidCIDR("/33"), 1),
        ("v=spf1 a//129", .invalidCIDR("//129"), 1),
        ("v=spf1 a/24/64", .invalidCIDR("/64"), 1),
        ("v=spf1 ip4:192.0.2.1/032", .invalidCIDR("032"), 1),
        ("v=spf1 ip6:2001:db8::/129", .invalidCIDR("129"), 1),
        ("v=spf1 ip4:192.0.2", .invalidIPv4Network("192.0.2"), 1),
        ("v=spf1 ip4:192.0.2.1:25", .invalidIPv4Network("192.0.2.1:25"), 1),
        ("v=spf1 ip4", .invalidIPv4Network(""), 1),
        ("v=spf1 ip6::2001:db8::1", .invalidIPv6Network(":2001:db8::1"), 1),
        ("v=spf1 ip6:192.0.2.1", .invalidIPv6Network("192.0.2.1"), 1),
        ("v=spf1 include", .missingDomainSpec, 1),
        ("v=spf1 exists", .missingDomainSpec, 1),
        ("v=spf1 include:", .emptyDomainSpec, 1),
        ("v=spf1 a: -all", .emptyDomainSpec, 1),
        ("v=spf1 ?all redirect=", .emptyDomainSpec, 2),
        ("v=spf1 exp= -all", .emptyDomainSpec, 1),
        ("v=spf1 a:museum", .invalidDomainEnd("museum"), 1),
        ("v=spf1 a:museum.", .invalidDomainEnd("museum."), 1),
        ("v=spf1 a:192.0.2.1", .invalidDomainEnd("192.0.2.1"), 1),
        ("v=spf1 a:sender.-test", .invalidDomainEnd("sender.-test"), 1),
        ("v=spf1 mx:sender.test:25", .invalidDomainEnd("sender.test:25"), 1),
        ("v=spf1 redirect=-all", .invalidDomainEnd("-all"), 1),
        ("v=spf1 exists:%{x}.bl.test", .unknownMacroLetter("x"), 1),
        ("v=spf1 exists:%{c}.bl.test", .macroLetterOnlyInExplanation("c"), 1),
        ("v=spf1 -all exp=%{r}.sender.test", .macroLetterOnlyInExplanation("r"), 2),
        ("v=spf1 exists:%{d0}.bl.test", .zeroPartsTransformer, 1),
        ("v=spf1 exists:%{d2r!}.bl.test", .malformedMacro("%{d2r!}"), 1),
        ("v=spf1 exists:%{d", .malformedMacro("%{d"), 1),
        ("v=spf1 exists:%(ir).bl.test", .invalidPercent, 1),
        ("v=spf1 exists:bl%", .invalidPercent, 1),
        ("v=spf1 -all x=%abc", .invalidPercent, 2),
        ("v=spf1 redirect=a.test -all redirect=b.test", .duplicateModifier("redirect"), 3),
        ("v=spf1 exp=a.test exp=b.test", .duplicateModifier("exp"), 2),
        ("v=spf1 a:mail.sender.test\tptr", .invalidCharacter("\t"), 1),
        ("v=spf1 ip4:192.0.2.1\r\n -all", .invalidCharacter("\r"), 1),
        ("v=spf1 a:\u{FEFF}sender.test", .invalidCharacter("\u{FEFF}"), 1),
        ("v=spf1 a:sender.test\u{0}", .invalidCharacter("\u{0}"), 1),
        ("v=spf10", .notVersion1, 0),
    ])
    func rejectsSyntaxErrors(record: String, kind: SPFSyntaxError.Kind, position: Int) {
        #expect(throws: SPFSyntaxError.self) { try SPFRecord(parsing: record) }
        do {
            _ = try SPFRecord(parsing: record)
        } catch {
            #expect(error.kind == kind)
            #expect(error.position == position)
        }
    }

    @Test(arguments: [
        "v=spf1 a:foo:bar/baz.sender.test", "v=spf1 a:sender.xn--zckzah", "v=spf1 exists:%{i}.%{l2r-}.user.%{d2}",
        "v=spf1 a:%{H}.bar", "v=spf1 a:macro%%percent%_%-x.sender.test", "v=spf1 moo.cow-far_out=man:dog/cat -all",
        "v=spf1 a:1-2.test", "v=spf1 include:spf.sender.test.", "v=spf1 x=", "v=spf1 ", "v=spf1 ip6:::ffff:192.0.2.1",
    ])
    func acceptsUnusualButValidRecords(record: String) throws {
        _ = try SPFRecord(parsing: record)
    }

    @Test func errorDescriptionNamesTermPositionAndFix() {
        do {
            _ = try SPFRecord(parsing: "v=spf1 ip4:192.0.2.1 a/33 -all")
            Issue.record("a/33 parsed")
        } catch {
            #expect(error.description.contains("term 2 \"a/33\""))
            #expect(error.description.contains("0-32"))
        }
    }
}
