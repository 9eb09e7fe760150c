import DNSCore
import SMTPProtocol
import Scenario
import Testing
import MXHarnessTestKit

@Suite struct PatternTests {
    @Test func codePatterns() throws {
        let exact = try #require(CodePattern("550"))
        #expect(exact.matches(550))
        #expect(!exact.matches(551))
        let tens = try #require(CodePattern("55x"))
        #expect(tens.matches(550) && tens.matches(554))
        #expect(!tens.matches(450) && !tens.matches(540))
        let klass = try #require(CodePattern("5XX"))
        #expect(klass.pattern == "5xx")
        #expect(klass.matches(500) && klass.matches(599))
        #expect(!klass.matches(450))
        for bad in ["55", "5500", "650", "1xx", "5.5", "abc", "", "5x"] {
            #expect(CodePattern(bad) == nil, "\(bad) should not be a code pattern")
        }
    }

    @Test func enhancedPatterns() throws {
        let exact = try #require(EnhancedPattern("5.7.25"))
        #expect(exact.matches("5.7.25"))
        #expect(!exact.matches("5.7.2"))
        #expect(!exact.matches(nil))
        let subject = try #require(EnhancedPattern("5.7.x"))
        #expect(subject.matches("5.7.1") && subject.matches("5.7.25"))
        #expect(!subject.matches("5.1.1") && !subject.matches("4.7.1"))
        #expect(try #require(EnhancedPattern("x.x.x")).matches("2.0.0"))
        for bad in ["5.7", "5.7.25.1", "3.0.0", "5..1", "5.7.1234", "5.a.1"] {
            #expect(EnhancedPattern(bad) == nil, "\(bad) should not be an enhanced pattern")
        }
    }

    @Test func textMatchers() throws {
        let substring = try TextMatcher.parse("cannot find your HOSTNAME")
        #expect(substring == .substring("cannot find your HOSTNAME"))
        #expect(substring.matches("Client host rejected: cannot find your hostname, [2001:db8:5::25]"))
        #expect(!substring.matches("Client host rejected: cannot find your reverse hostname"))

        let regex = try TextMatcher.parse("/cannot find your (reverse )?hostname, \\[2001:db8:5::25\\]/")
        #expect(regex.matches("Client host rejected: cannot find your reverse hostname, [2001:db8:5::25]"))
        // Case-insensitive, like the substring form.
        #expect(regex.matches("CANNOT FIND YOUR HOSTNAME, [2001:db8:5::25]"))
        #expect(!regex.matches("cannot find your hostname, [192.0.2.1]"))
        #expect(!(try TextMatcher.parse("/(?-i)Client/")).matches("client host"))

        #expect(try TextMatcher.parse("/") == .substring("/"))  // one slash is text
        #expect(try TextMatcher.parse("5.7.1/") == .substring("5.7.1/"))
        #expect(throws: TextMatcher.InvalidRegex.self) { try TextMatcher.parse("/[unclosed/") }
    }
}

@Suite struct MatchingTests {
    static let rejectedAtRcpt = ObservedDelivery(
        outcome: .bounced, family: .ipv6, stage: .rcpt,
        reply: SMTPReply(
            code: 550, enhanced: "5.7.25", "Client host rejected: cannot find your hostname, [2001:db8:5::25]"),
        attempts: [
            ObservedAttempt(
                family: .ipv6, result: .rejected, stage: .rcpt, reply: SMTPReply(code: 550, enhanced: "5.7.25", "x"))
        ])

    @Test func theSpecExampleExpectationHolds() throws {
        let c = try #require(try ScenarioLoader().load(yaml: formatExample, file: "e.yaml").first)
        #expect(c.expect.mismatches(Self.rejectedAtRcpt).isEmpty)
    }

    @Test func everyGivenKeyThatFailsIsReportedAsExpectedXGotY() throws {
        let c = try #require(try ScenarioLoader().load(yaml: formatExample, file: "e.yaml").first)
        let deferred = ObservedDelivery(
            outcome: .deferred, family: .ipv4, stage: .helo,
            reply: SMTPReply(code: 450, enhanced: "4.7.1", "Helo command rejected: Host not found"),
            attempts: [])
        #expect(
            c.expect.mismatches(deferred).map(\.description) == [
                "outcome: expected bounced, got deferred",
                "family: expected ipv6, got ipv4",
                "stage: expected rcpt, got helo",
                "code: expected 550, got 450",
                "enhanced: expected 5.7.25, got 4.7.1",
                "text: expected text containing \"cannot find your hostname\", got \"Helo command rejected: Host not found\"",
            ])
        let mismatch = try #require(c.expect.mismatches(deferred).first)
        #expect(mismatch.key == "outcome" && mismatch.expected == "bounced" && mismatch.got == "deferred")
    }

    @Test func onlyGivenKeysAreChecked() {
        #expect(Expectation().mismatches(ObservedDelivery(outcome: .delivered)).isEmpty)
        #expect(Expectation(outcome: .bounced).mismatches(Self.rejectedAtRcpt).isEmpty)
        #expect(Expectation(code: CodePattern("5xx")).mismatches(Self.rejectedAtRcpt).isEmpty)
    }

    @Test func noReplyIsSaid() {
        let unreachable = ObservedDelivery(
            outcome: .deferred, attempts: [ObservedAttempt(family: .ipv6, result: .unreachable, stage: .connect)])
        let expect = Expectation(
            family: .ipv6, code: CodePattern("4xx"), enhanced: EnhancedPattern("4.x.x"), text: .regex("x"))
        #expect(
            expect.mismatches(unreachable).map(\.description) == [
                "family: expected ipv6, got none (no attempt decided)",
                "code: expected 4xx, got no reply",
                "enhanced: expected 4.x.x, got no reply",
                "text: expected text matching /x/, got no reply",
            ])
    }

    @Test func attemptsCompareCountAndEachListedKeyInOrder() {
        let observed = ObservedDelivery(
            outcome: .delivered, family: .ipv4, stage: .data, reply: SMTPReply(code: 250, enhanced: "2.0.0", "ok"),
            attempts: [
                ObservedAttempt(
                    family: .ipv6, result: .tempfailed, stage: .rcpt,
                    reply: SMTPReply(code: 450, enhanced: "4.7.25", "later")),
                ObservedAttempt(family: .ipv4, result: .accepted, stage: .data, reply: SMTPReply(code: 250, "ok")),
            ])
        let spec = Expectation(
            outcome: .delivered, family: .ipv4,
            attempts: [
                ExpectedAttempt(family: .ipv6, result: .tempfailed, code: CodePattern("450")),
                ExpectedAttempt(family: .ipv4, result: .accepted),
            ])
        #expect(spec.mismatches(observed).isEmpty)

        let wrong = Expectation(attempts: [
            ExpectedAttempt(
                family: .ipv6, result: .rejected, code: CodePattern("55x"), enhanced: EnhancedPattern("4.7.25"),
                stage: .mail)
        ])
        #expect(
            wrong.mismatches(observed).map(\.description) == [
                "attempts: expected 1 attempt, got 2 attempts (ipv6 tempfailed at rcpt 450 4.7.25; ipv4 accepted at data 250)",
                "attempts[0].result: expected rejected, got tempfailed",
                "attempts[0].stage: expected mail, got rcpt",
                "attempts[0].code: expected 55x, got 450",
            ])
    }
}
