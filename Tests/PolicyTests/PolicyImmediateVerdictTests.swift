import DNSCore
import MXHarnessTestKit
import SMTPProtocol
import Testing
@testable import Policy

@Suite("Policy engine: immediate verdicts")
struct PolicyImmediateVerdictTests {
    static let policies: [ReceiverPolicy] =
        Preset.allCases.map(\.policy) + [
            ReceiverPolicy(checks: [.fcrdns, .heloFQDN], rejectAt: .data),
            ReceiverPolicy(ipv6: [.ptr]),
            ReceiverPolicy(ipv4: [.ptr], rejectAt: .greeting, onFail: .defer),
        ]

    /// The world's clients and some whose PTR is numeric, invalid, several names, or broken.
    static let clients =
        [World.goodV4, World.badV4, World.goodV6, World.badV6, World.v6WithV4OnlyName]
        + (1...5).map { IPAddress("203.0.113.\($0)")! }

    static let identities: InMemoryDNS = {
        var dns = World.dns
        func address(_ last: Int) -> IPAddress { IPAddress("203.0.113.\(last)")! }
        let extra: [(String, RecordData)] = [
            (address(1).reverseName, .ptr("203.0.113.1")),
            ("203.0.113.1", .a(address(1))),
            (address(2).reverseName, .ptr("bad_name!.sender.test")),
            (address(3).reverseName, .ptr("other.sender.test")),
            (address(3).reverseName, .ptr("three.sender.test")),
            ("other.sender.test", .a(IPAddress("192.0.2.99")!)),
            ("three.sender.test", .a(address(3))),
            (address(4).reverseName, .ptr("broken.sender.test")),
        ]
        dns.records += extra.map { ResourceRecord(owner: $0.0, data: $0.1) }
        dns.faults["broken.sender.test"] = .servfail
        dns.faults[address(5).reverseName] = .timeout
        return dns
    }()

    static func questions(helo: String, senders: [String]) -> [SMTPPolicyQuestion] {
        var questions: [SMTPPolicyQuestion] = [.connect, .helo(name: helo, extended: true)]
        for sender in senders {
            questions.append(.mail(reversePath: sender, helo: helo))
            questions.append(.rcpt(forwardPath: "bob@example.test", reversePath: sender, helo: helo))
            questions.append(.rcpt(forwardPath: "carol@example.test", reversePath: sender, helo: helo))
            questions.append(
                .endOfData(
                    SMTPMessage(
                        helo: helo, reversePath: sender, recipients: ["bob@example.test"], data: Array("x\r\n".utf8))))
        }
        return questions
    }

    /// A session that skips `answer` whenever an immediate verdict exists ends every step with the
    /// same verdict and the same findings as one that asks everything.
    /// With `heldAnswers`, the shortcut's lookup holds every answer, so connect too is answered at
    /// once from PTR and FCrDNS findings made when the session starts.
    @Test(arguments: policies, [false, true])
    func immediateVerdictsChangeNothing(policy: ReceiverPolicy, heldAnswers: Bool) async {
        let engine = World.engine(policy, dns: Self.identities)
        let shortcutEngine = World.engine(policy, dns: Self.identities, holdsAnswers: heldAnswers)
        for client in Self.clients {
            for helo in ["mail.sender.test", "localhost"] {
                let asked = engine.session(client: client), shortcut = shortcutEngine.session(client: client)
                #expect((shortcut.initialFindings != nil) == heldAnswers)
                // Checks answered at the greeting always go to the session.
                let greets = policy.rejectAt == .greeting && !policy.checks(for: client.family).isEmpty
                #expect((shortcut.immediateVerdict(for: .connect) == .proceed) == (heldAnswers && !greets))
                for question in Self.questions(helo: helo, senders: ["alice@sender.test", "", "alice@sender.test"]) {
                    let expected = await asked.answer(question)
                    let immediate = shortcut.immediateVerdict(for: question)
                    let got: SMTPPolicyVerdict
                    if let immediate { got = immediate } else { got = await shortcut.answer(question) }
                    #expect(got == expected, "\(policy.preset?.rawValue ?? "custom") \(client) \(question)")
                    #expect(
                        await shortcut.findings == asked.findings,
                        "\(policy.preset?.rawValue ?? "custom") \(client) \(question)")
                }
            }
        }
    }

    /// As the MX does it: the session is made only at the first question the opening cannot
    /// answer at once (with a policy of no checks and held answers, never). The verdicts and, at
    /// every step, the findings the server would record are those of a session asked everything.
    @Test(arguments: policies, [false, true])
    func aSessionMadeLateChangesNothing(policy: ReceiverPolicy, heldAnswers: Bool) async {
        let engine = World.engine(policy, dns: Self.identities)
        let lateEngine = World.engine(policy, dns: Self.identities, holdsAnswers: heldAnswers)
        for client in Self.clients {
            let asked = engine.session(client: client)
            let opening = lateEngine.opening(client: client)
            var late: PolicySession?
            for question in Self.questions(helo: "mail.sender.test", senders: ["alice@sender.test", ""]) {
                let expected = await asked.answer(question)
                let got: SMTPPolicyVerdict
                if let immediate = opening.immediateVerdict(for: question) {
                    got = immediate
                } else {
                    let session = late ?? opening.session()
                    late = session
                    got = await session.answer(question)
                }
                #expect(got == expected, "\(policy.preset?.rawValue ?? "custom") \(client) \(question)")
                let recorded: PolicyFindings? = if let late { await late.findings } else { opening.initialFindings }
                let reference = await asked.findings
                if heldAnswers || late != nil {
                    #expect(recorded == reference, "\(policy.preset?.rawValue ?? "custom") \(client) \(question)")
                }
            }
            if heldAnswers, policy.checks(for: client.family).isEmpty {
                #expect(late == nil, "no session needed for \(client)")
            }
        }
    }

    @Test func openPolicyAsksOnlyAtConnect() {
        let session = World.engine(.open).session(client: World.goodV6)
        let questions = Self.questions(helo: "mail.sender.test", senders: ["alice@sender.test"])
        #expect(session.immediateVerdict(for: .connect) == nil)
        for question in questions.dropFirst() {
            #expect(session.immediateVerdict(for: question) == .proceed, "\(question)")
        }
    }

    @Test func checksAreAskedAtTheirStageAndTheirFamilyOnly() {
        let rcpt = World.engine(ReceiverPolicy(ipv6: [.fcrdns])).session(client: World.goodV6)
        #expect(rcpt.immediateVerdict(for: .helo(name: "mail.sender.test", extended: true)) == nil)
        #expect(rcpt.immediateVerdict(for: .mail(reversePath: "alice@sender.test", helo: nil)) == nil)
        #expect(
            rcpt.immediateVerdict(
                for: .rcpt(forwardPath: "bob@example.test", reversePath: "alice@sender.test", helo: nil)) == nil)
        let message = SMTPMessage(
            helo: nil, reversePath: "alice@sender.test", recipients: ["bob@example.test"], data: [])
        #expect(rcpt.immediateVerdict(for: .endOfData(message)) == .proceed)

        let data = World.engine(ReceiverPolicy(checks: [.fcrdns], rejectAt: .data)).session(client: World.goodV4)
        #expect(
            data.immediateVerdict(
                for: .rcpt(forwardPath: "bob@example.test", reversePath: "alice@sender.test", helo: nil)) == .proceed)
        #expect(data.immediateVerdict(for: .endOfData(message)) == nil)

        // IPv6-only checks: an IPv4 client has nothing to wait for after connect.
        let v4 = World.engine(ReceiverPolicy(ipv6: [.fcrdns])).session(client: World.goodV4)
        #expect(v4.immediateVerdict(for: .helo(name: "mail.sender.test", extended: false)) == .proceed)
        #expect(v4.immediateVerdict(for: .connect) == nil)
    }
}
