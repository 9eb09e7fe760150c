import DNSCore
import Delivery
import MXHarnessTestKit
import SMTPProtocol
import Testing
@testable import Sender

/// The Postfix delivery model, one test per rule of the spec's `sender` section, against scripted
/// servers (the real client state machine, no sockets).
@Suite("Delivery model")
struct DeliveryModelTests {
    private let accept = Endpoint.smtp(.accepting)

    private func results(_ report: DeliveryReport) -> [AttemptResult] { report.attempts.map(\.result) }
    private func families(_ report: DeliveryReport) -> [AddressFamily] { report.attempts.map(\.family) }

    // MARK: connection failures

    @Test func deliveredAtTheFirstAddressOfThePreferredFamily() async {
        let report = await World.deliver(endpoints: [World.mx6: accept, World.mx4: accept])
        #expect(report.outcome == .delivered)
        #expect(families(report) == [.ipv6])
        #expect(report.decidingFamily == .ipv6)
        #expect(report.decidingStage == .data)
        #expect(report.decidingReply?.code == 250)
        #expect(report.attempts.first?.localAddress == World.source6)
    }

    @Test func connectionRefusedTriesTheNextAddress() async {
        let report = await World.deliver(endpoints: [World.mx6: .refused, World.mx4: accept])
        #expect(report.outcome == .delivered)
        #expect(results(report) == [.unreachable, .accepted])
        #expect(families(report) == [.ipv6, .ipv4])
        #expect(report.decidingAttempt == 1)
        #expect(report.attempts.first?.stage == .connect)
    }

    @Test func connectTimeoutTriesTheNextAddress() async {
        let report = await World.deliver(endpoints: [World.mx6: .timedOut, World.mx4: accept])
        #expect(report.outcome == .delivered)
        #expect(results(report) == [.unreachable, .accepted])
    }

    @Test func everyAddressUnreachableDefers() async {
        let report = await World.deliver(endpoints: [World.mx6: .refused, World.mx4: .timedOut])
        #expect(report.outcome == .deferred)
        #expect(results(report) == [.unreachable, .unreachable])
        #expect(report.decidingAttempt == 1)
        #expect(report.decidingStage == .connect)
        #expect(report.recipients.first?.diagnostic?.contains("timed out") == true)
    }

    // MARK: greeting

    @Test func greeting4xxTriesTheNextAddressThenDefers() async {
        let busy = Endpoint.smtp(ServerScript.accepting.with { $0.greeting = ["421 4.3.2 Service not available"] })
        let report = await World.deliver(endpoints: [World.mx6: busy, World.mx4: busy])
        #expect(report.outcome == .deferred)
        #expect(results(report) == [.tempfailed, .tempfailed])
        #expect(report.decidingStage == .greeting)
        #expect(report.decidingReply?.code == 421)
    }

    @Test func greeting5xxDefersInsteadOfBouncing() async {
        let closed = Endpoint.smtp(ServerScript.accepting.with { $0.greeting = ["554 5.7.1 No SMTP service here"] })
        let report = await World.deliver(endpoints: [World.mx6: closed, World.mx4: closed])
        #expect(report.outcome == .deferred)
        #expect(results(report) == [.rejected, .rejected])
        #expect(report.decidingFamily == .ipv4)
        #expect(report.decidingStage == .greeting)
        #expect(report.decidingReply?.code == 554)
    }

    @Test func greeting5xxThenTheNextAddressDelivers() async {
        let closed = Endpoint.smtp(ServerScript.accepting.with { $0.greeting = ["554 5.7.1 No SMTP service here"] })
        let report = await World.deliver(endpoints: [World.mx6: closed, World.mx4: accept])
        #expect(report.outcome == .delivered)
        #expect(report.decidingFamily == .ipv4)
    }

    // MARK: EHLO / HELO

    @Test func ehlo5xxFallsBackToHeloAndDelivers() async {
        let old = Endpoint.smtp(ServerScript.accepting.with { $0.ehlo = ["502 5.5.2 Error: command not recognized"] })
        let report = await World.deliver(endpoints: [World.mx6: old])
        #expect(report.outcome == .delivered)
        #expect(report.attempts.first?.usedHELO == true)
        #expect(report.attempts.first?.transcript.contains { $0.text == "HELO mail.sender.test" } == true)
    }

    @Test func helo5xxAfterTheFallbackBouncesWithoutTryingTheNextAddress() async {
        let strict = Endpoint.smtp(
            ServerScript.accepting.with {
                $0.ehlo = ["550 5.7.1 <mail.sender.test>: Helo command rejected: Host not found"]
                $0.helo = ["550 5.7.1 <mail.sender.test>: Helo command rejected: Host not found"]
            })
        let report = await World.deliver(endpoints: [World.mx6: strict, World.mx4: accept])
        #expect(report.outcome == .bounced)
        #expect(report.attempts.count == 1)
        #expect(report.decidingStage == .helo)
        #expect(report.decidingReply?.enhanced == "5.7.1")
    }

    @Test func helo4xxTriesTheNextAddress() async {
        let later = Endpoint.smtp(
            ServerScript.accepting.with {
                $0.ehlo = ["450 4.7.1 <mail.sender.test>: Helo command rejected: Host not found"]
                $0.helo = ["450 4.7.1 <mail.sender.test>: Helo command rejected: Host not found"]
            })
        let report = await World.deliver(endpoints: [World.mx6: later, World.mx4: accept])
        #expect(report.outcome == .delivered)
        #expect(results(report) == [.tempfailed, .accepted])
        #expect(report.attempts.first?.stage == .helo)
    }

    // MARK: MAIL

    @Test func mail5xxBounces() async {
        let spf = Endpoint.smtp(ServerScript.accepting.with { $0.mail = ["550 5.7.23 SPF fail - not authorized"] })
        let report = await World.deliver(endpoints: [World.mx6: spf, World.mx4: accept])
        #expect(report.outcome == .bounced)
        #expect(report.attempts.count == 1)
        #expect(report.decidingStage == .mail)
        #expect(report.decidingReply?.enhanced == "5.7.23")
    }

    @Test func mail4xxTriesTheNextAddressThenDefers() async {
        let temp = Endpoint.smtp(ServerScript.accepting.with { $0.mail = ["451 4.4.3 SPF temporary error"] })
        let report = await World.deliver(endpoints: [World.mx6: temp, World.mx4: temp])
        #expect(report.outcome == .deferred)
        #expect(results(report) == [.tempfailed, .tempfailed])
        #expect(report.decidingStage == .mail)
    }

    // MARK: RCPT

    @Test func rcpt4xxTriesTheNextAddress() async {
        // The spec's own variant: an IPv6 receiver defers at RCPT, IPv4 delivers.
        let fcrdns = Endpoint.smtp(
            ServerScript.accepting.with {
                $0.rcptDefault = ["450 4.7.25 Client host rejected: cannot find your hostname, [2001:db8:5::25]"]
            })
        let report = await World.deliver(endpoints: [World.mx6: fcrdns, World.mx4: accept])
        #expect(report.outcome == .delivered)
        #expect(report.decidingFamily == .ipv4)
        #expect(results(report) == [.tempfailed, .accepted])
        #expect(report.attempts.first?.reply?.code == 450)
        #expect(report.attempts.first?.stage == .rcpt)
    }

    @Test func rcpt4xxEverywhereDefers() async {
        let temp = Endpoint.smtp(ServerScript.accepting.with { $0.rcptDefault = ["450 4.7.1 try later"] })
        let report = await World.deliver(endpoints: [World.mx6: temp, World.mx4: temp])
        #expect(report.outcome == .deferred)
        #expect(report.decidingStage == .rcpt)
        #expect(report.decidingFamily == .ipv4)
    }

    @Test func rcpt5xxBouncesWithoutTryingTheNextAddress() async {
        let strict = Endpoint.smtp(
            ServerScript.accepting.with {
                $0.rcptDefault = ["550 5.7.25 Client host rejected: cannot find your hostname, [2001:db8:5::25]"]
            })
        let report = await World.deliver(endpoints: [World.mx6: strict, World.mx4: accept])
        #expect(report.outcome == .bounced)
        #expect(report.attempts.count == 1)
        #expect(report.decidingFamily == .ipv6)
        #expect(report.decidingStage == .rcpt)
        #expect(report.decidingReply?.enhanced == "5.7.25")
        #expect(report.attempts.first?.transcript.contains { $0.text == "DATA" } == false)
    }

    // MARK: DATA

    @Test func endOfData5xxBounces() async {
        let gmail = Endpoint.smtp(
            ServerScript.accepting.with {
                $0.endOfData = [
                    "550-5.7.1 Our system has detected that this message does not meet IPv6 sending",
                    "550 5.7.1 guidelines regarding PTR records and authentication.",
                ]
            })
        let report = await World.deliver(endpoints: [World.mx6: gmail, World.mx4: accept])
        #expect(report.outcome == .bounced)
        #expect(report.attempts.count == 1)
        #expect(report.decidingStage == .data)
        #expect(report.decidingReply?.text.contains("IPv6 sending guidelines") == true)
    }

    @Test func endOfData4xxTriesTheNextAddress() async {
        let temp = Endpoint.smtp(
            ServerScript.accepting.with { $0.endOfData = ["451 4.3.0 Error: queue file write error"] })
        let report = await World.deliver(endpoints: [World.mx6: temp, World.mx4: accept])
        #expect(report.outcome == .delivered)
        #expect(results(report) == [.tempfailed, .accepted])
        #expect(report.attempts.first?.stage == .data)
    }

    // MARK: several recipients

    @Test func partialBounceDeliversTheOthers() async {
        let request = World.request(recipients: ["bob@example.test", "carol@example.test"])
        let server = Endpoint.smtp(
            ServerScript.accepting.with {
                $0.rcpt = [
                    "bob@example.test": ["550 5.1.1 <bob@example.test>: Recipient address rejected: User unknown"]
                ]
            })
        let report = await World.deliver(endpoints: [World.mx6: server, World.mx4: accept], request: request)
        #expect(report.outcome == .bounced, "the first recipient's outcome")
        #expect(report.recipients.map(\.outcome) == [.bounced, .delivered])
        #expect(report.attempts.count == 1)
        #expect(report.decidingStage == .rcpt)
        #expect(report.recipients.last?.stage == .data)
    }

    @Test func recipientWith4xxIsRetriedAloneAtTheNextAddress() async {
        let request = World.request(recipients: ["bob@example.test", "carol@example.test", "dave@example.test"])
        let first = Endpoint.smtp(
            ServerScript.accepting.with {
                $0.rcpt = [
                    "bob@example.test": ["450 4.2.1 mailbox busy"],
                    "dave@example.test": ["550 5.1.1 unknown"],
                ]
            })
        let report = await World.deliver(endpoints: [World.mx6: first, World.mx4: accept], request: request)
        #expect(report.recipients.map(\.outcome) == [.delivered, .delivered, .bounced])
        #expect(report.attempts.count == 2)
        #expect(report.attempts.dropFirst().first?.recipients.map(\.address) == ["bob@example.test"])
        #expect(report.recipients.map(\.attemptIndex) == [1, 0, 0])
        #expect(report.outcome == .delivered)
        #expect(report.decidingFamily == .ipv4)
    }

    // MARK: destinations

    @Test func mxPreferenceComesBeforeFamilyPreference() async {
        let dns = InMemoryDNS([
            ("example.test", .mx(preference: 20, exchange: "backup.example.test")),
            ("example.test", .mx(preference: 10, exchange: "primary.example.test")),
            ("backup.example.test", .aaaa(IPAddress("2001:db8::20")!)),
            ("primary.example.test", .a(IPAddress("192.0.2.10")!)),
        ])
        let report = await World.deliver(
            dns: dns, endpoints: [IPAddress("192.0.2.10")!: .refused, IPAddress("2001:db8::20")!: accept])
        #expect(report.attempts.map(\.remoteHost) == ["primary.example.test", "backup.example.test"])
        #expect(report.attempts.map(\.preference) == [10, 20])
        #expect(report.outcome == .delivered)
    }

    @Test func preferIPv4TriesIPv4First() async {
        let report = await World.deliver(
            endpoints: [World.mx6: accept, World.mx4: accept], request: World.request(prefer: .ipv4))
        #expect(families(report) == [.ipv4])
    }

    @Test func atMostFiveAddressesAreTried() async {
        var entries: [(String, RecordData)] = [("example.test", .mx(preference: 10, exchange: "mx.example.test"))]
        for index in 1...7 { entries.append(("mx.example.test", .aaaa(IPAddress("2001:db8::\(index)")!))) }
        let report = await World.deliver(dns: InMemoryDNS(entries), endpoints: [:])
        #expect(report.attempts.count == 5)
        #expect(report.outcome == .deferred)
        #expect(report.destinations.filter { $0.status == .beyondAddressLimit }.count == 2)
    }

    @Test func noDestinationInTheSendersFamiliesBouncesAsWithInetProtocols() async {
        let dns = InMemoryDNS([
            ("example.test", .mx(preference: 10, exchange: "mx.example.test")), ("mx.example.test", .aaaa(World.mx6)),
        ])
        let report = await World.deliver(
            dns: dns, endpoints: [World.mx6: accept], request: World.request(sources: [.ipv4: World.source4]))
        #expect(report.attempts.isEmpty)
        #expect(report.outcome == .bounced)
        #expect(report.decidingStage == nil)
        #expect(report.decidingReply?.code == 550)
        #expect(report.decidingReply?.enhanced == "5.4.4")
    }

    @Test func familyWithoutSourceAddressIsSkipped() async {
        let request = World.request(sources: [.ipv4: World.source4])
        let report = await World.deliver(endpoints: [World.mx6: accept, World.mx4: accept], request: request)
        #expect(families(report) == [.ipv4])
        #expect(report.outcome == .delivered)
        #expect(report.destinations.first { $0.address == World.mx6 }?.status == .skippedNoSourceAddress)
    }

    @Test func onlyUnreachableFamiliesBounceWithANoteNamingThem() async {
        let dns = InMemoryDNS([
            ("example.test", .mx(preference: 10, exchange: "mx.example.test")),
            ("mx.example.test", .aaaa(World.mx6)),
        ])
        let report = await World.deliver(
            dns: dns, endpoints: [World.mx6: accept], request: World.request(sources: [.ipv4: World.source4]))
        #expect(report.outcome == .bounced)
        #expect(report.attempts.isEmpty)
        #expect(report.note?.contains("every destination is ipv6") == true)
    }

    @Test func nullMXBouncesAtOnce() async {
        let dns = InMemoryDNS([("example.test", .mx(preference: 0, exchange: "."))])
        let report = await World.deliver(dns: dns, endpoints: [:])
        #expect(report.outcome == .bounced)
        #expect(report.attempts.isEmpty)
        #expect(report.decidingReply?.code == 550)
        #expect(report.decidingReply?.enhanced == "5.1.0")
        #expect(report.note?.contains("null MX") == true)
    }

    @Test func noMXUsesTheDomainsOwnAddresses() async {
        let dns = InMemoryDNS([("example.test", .a(World.mx4)), ("example.test", .aaaa(World.mx6))])
        let report = await World.deliver(dns: dns, endpoints: [World.mx6: .refused, World.mx4: accept])
        #expect(report.destinationSource == .implicitMX)
        #expect(report.attempts.map(\.remoteHost) == ["example.test", "example.test"])
        #expect(report.outcome == .delivered)
    }

    @Test func mxHostBehindACNAMEIsFollowed() async {
        let dns = InMemoryDNS([
            ("example.test", .mx(preference: 10, exchange: "mx.example.test")),
            ("mx.example.test", .cname("real.example.test")),
            ("real.example.test", .a(World.mx4)),
        ])
        let report = await World.deliver(dns: dns, endpoints: [World.mx4: accept])
        #expect(report.outcome == .delivered)
        #expect(report.attempts.map(\.remoteAddress) == [World.mx4])
    }

    @Test func relayHostIsUsedInsteadOfMX() async {
        let relay = IPAddress("203.0.113.5")!
        var dns = World.dns
        dns.records.append(ResourceRecord(owner: "relay.example.test", data: .a(relay)))
        let report = await World.deliver(
            dns: dns, endpoints: [World.mx6: accept, World.mx4: accept, relay: accept],
            request: World.request(relay: .host("relay.example.test")))
        #expect(report.destinationSource == .relay)
        #expect(report.attempts.map(\.remoteAddress) == [relay])
        #expect(report.outcome == .delivered)
    }

    @Test func relayHostThatDoesNotResolveDefers() async {
        let report = await World.deliver(endpoints: [:], request: World.request(relay: .host("nowhere.example.test")))
        #expect(report.outcome == .deferred)
        #expect(report.decidingReply?.enhanced == "4.3.5")
    }

    @Test func mxLookupFailureDefers() async {
        let dns = InMemoryDNS(records: World.dns.records, faults: ["example.test": .servfail])
        let report = await World.deliver(dns: dns, endpoints: [World.mx6: accept])
        #expect(report.outcome == .deferred)
        #expect(report.attempts.isEmpty)
        #expect(report.note == "MX lookup: SERVFAIL")
        #expect(report.decidingReply?.enhanced == "4.4.3")
        #expect(
            report.decidingReply?.text.hasPrefix(
                "Host or domain name not found. Name service error for name=example.test type=MX:") == true)
    }

    @Test func nonexistentDomainBounces() async {
        let report = await World.deliver(
            dns: InMemoryDNS([]), endpoints: [:], request: World.request(recipients: ["bob@nowhere.test"]))
        #expect(report.outcome == .bounced)
        #expect(report.decidingReply?.enhanced == "5.4.4")
        #expect(report.decidingReply?.text.hasPrefix("Host or domain name not found. Name service error") == true)
        #expect(report.note == "MX lookup: NXDOMAIN")
    }

    @Test func renderedTranscriptShowsEachAttemptAndTheOutcome() async {
        let report = await World.deliver(endpoints: [World.mx6: .refused, World.mx4: accept])
        let text = report.renderTranscript()
        #expect(text.contains("=== Trying [2001:db8::10]:25 from [2001:db8:5::25]...\n"))
        #expect(text.contains("=== connect to mx.example.test[2001:db8::10]:25: connection refused"))
        #expect(text.contains("connection refused"))
        #expect(text.contains("=== Trying [192.0.2.10]:25 from [198.51.100.25]"))
        #expect(text.contains("<- 220 mx.example.test ESMTP"))
        #expect(text.contains(" -> EHLO mail.sender.test"))
        #expect(text.contains("=== Outcome: delivered"))
    }
}
