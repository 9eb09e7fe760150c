import Census
import DNSCore
import Foundation
import MXHarnessTestKit

/// A week of a dual-stack Postfix MX's log, made from clients of known kinds, so a test knows
/// what each policy must do to them without asking the tool: the MX runs
/// `smtpd_client_restrictions = warn_if_reject reject_unknown_client_hostname` (so every session of
/// a client without a confirmed name logs a `reject_warning` with its HELO and sender) and
/// `smtpd_helo_restrictions = warn_if_reject reject_unknown_helo_hostname`.
struct SyntheticWeek {
    /// What a client is, and what each policy does to it.
    enum Kind: CaseIterable {
        case v4Confirmed, v4Unknown, v6Confirmed, v6Unknown, dualV6Unknown, dualConfirmed, dualV4Unknown,
            dualV6NotResolving, heloNotFound

        /// The fate under open, fcrdns (450), fcrdns-strict (550) and helo-strict, by Postfix's rules:
        /// a 4xx sends the client to its next address (the other family), a 5xx bounces.
        var fates: [String: Fate] {
            switch self {
            case .v4Confirmed, .v6Confirmed, .dualConfirmed:
                ["open": .delivered, "fcrdns": .delivered, "fcrdns-strict": .delivered, "helo-strict": .delivered]
            case .v4Unknown, .v6Unknown:
                ["open": .delivered, "fcrdns": .deferred, "fcrdns-strict": .bounced, "helo-strict": .delivered]
            case .dualV6Unknown, .dualV6NotResolving:
                // IPv6 is tried first: 450 there and the IPv4 address takes it; 550 ends it.
                ["open": .delivered, "fcrdns": .fellBack, "fcrdns-strict": .bounced, "helo-strict": .delivered]
            case .dualV4Unknown:
                // IPv6 first, and it passes: the IPv4 address is never tried.
                ["open": .delivered, "fcrdns": .delivered, "fcrdns-strict": .delivered, "helo-strict": .delivered]
            case .heloNotFound:
                ["open": .delivered, "fcrdns": .delivered, "fcrdns-strict": .delivered, "helo-strict": .bounced]
            }
        }

        var families: [AddressFamily] {
            switch self {
            case .v4Confirmed, .v4Unknown, .heloNotFound: [.ipv4]
            case .v6Confirmed, .v6Unknown: [.ipv6]
            case .dualV6Unknown, .dualConfirmed, .dualV4Unknown, .dualV6NotResolving: [.ipv4, .ipv6]
            }
        }

        /// Whether the MTA confirmed the name for this family's address.
        func confirmed(_ family: AddressFamily) -> Bool {
            switch self {
            case .v4Confirmed, .v6Confirmed, .dualConfirmed, .heloNotFound: true
            case .v4Unknown, .v6Unknown: false
            case .dualV6Unknown, .dualV6NotResolving: family == .ipv4
            case .dualV4Unknown: family == .ipv6
            }
        }
    }

    struct Client {
        var kind: Kind
        var index: Int
        var addresses: [AddressFamily: IPAddress]
        var sessions: [(family: AddressFamily, messages: Int)]
        var name: String { "mail.c\(index).test" }
        var helo: String { kind == .heloNotFound ? "bogus.c\(index).test" : name }
        var sender: String { "user\(index)@c\(index).test" }
        var sessionCount: Int { sessions.count }
        var messageCount: Int { sessions.reduce(0) { $0 + $1.messages } }
    }

    var clients: [Client] = []
    var lines: [String] = []

    /// `perKind` clients of every kind, each with 1 to `maxSessions` sessions over the week.
    init(perKind: Int, maxSessions: Int = 12, seed: UInt64 = 34) {
        var random = SeededGenerator(seed: seed)
        var index = 0
        for kind in Kind.allCases {
            for _ in 0..<perKind {
                index += 1
                // Documentation ranges: IPv4 from 192.0.2.0/24 and 198.51.100.0/24, IPv6 from 2001:db8::/32.
                let v4 = IPAddress(index < 250 ? "192.0.2.\(index)" : "198.51.100.\(index - 249)")!
                let v6 = IPAddress("2001:db8:\(String(index, radix: 16))::25")!
                var addresses: [AddressFamily: IPAddress] = [:]
                for family in kind.families { addresses[family] = family == .ipv4 ? v4 : v6 }
                var sessions: [(AddressFamily, Int)] = []
                for _ in 0..<Int.random(in: 1...maxSessions, using: &random) {
                    sessions.append(
                        (kind.families.randomElement(using: &random)!, Int.random(in: 0...2, using: &random)))
                }
                // Every family the client has is seen at least once (so the logs show it dual-stack).
                for family in kind.families where !sessions.contains(where: { $0.0 == family }) {
                    sessions.append((family, 1))
                }
                clients.append(Client(kind: kind, index: index, addresses: addresses, sessions: sessions))
            }
        }
        lines = Self.render(clients, random: &random)
    }

    /// The expected clients, sessions and messages per fate under `policy`.
    func expected(_ policy: String) -> [Fate: Weight] {
        var out: [Fate: Weight] = [:]
        for client in clients {
            let fate = client.kind.fates[policy]!
            var weight = out[fate] ?? Weight()
            weight.clients += 1
            weight.sessions += client.sessionCount
            weight.messages += client.messageCount
            out[fate] = weight
        }
        return out
    }

    static func render(_ clients: [Client], random: inout SeededGenerator) -> [String] {
        struct Session {
            var start: Int
            var client: Client
            var family: AddressFamily
            var messages: Int
        }
        let week = 7 * 24 * 3600
        var sessions: [Session] = []
        for client in clients {
            for session in client.sessions {
                sessions.append(
                    Session(
                        start: Int.random(in: 0..<week, using: &random), client: client, family: session.family,
                        messages: session.messages))
            }
        }
        sessions.sort { ($0.start, $0.client.index) < ($1.start, $1.client.index) }
        var timed: [(time: Int, order: Int, text: String)] = []
        var pidFree: [(pid: Int, free: Int)] = (0..<40).map { (12_000 + $0 * 7, 0) }
        var queue = 0x4F3A_21C0
        var order = 0
        for session in sessions {
            let slot = pidFree.firstIndex { $0.free <= session.start }!
            let pid = pidFree[slot].pid
            let address = session.client.addresses[session.family]!
            let confirmed = session.client.kind.confirmed(session.family)
            let shown = confirmed ? "\(session.client.name)[\(address)]" : "unknown[\(address)]"
            var time = session.start
            func line(_ text: String, program: String = "postfix/smtpd", pid: Int = pid) {
                timed.append(
                    (time, order, "\(stamp(time)) mx postfix/\(program.dropFirst("postfix/".count))[\(pid)]: \(text)"))
                order += 1
            }
            if !confirmed, session.family == .ipv6, session.client.kind == .dualV6NotResolving {
                line(
                    "warning: hostname \(session.client.name) does not resolve to address \(address): No address associated with hostname"
                )
            }
            line("connect from \(shown)")
            let tail =
                "from=<\(session.client.sender)> to=<postmaster@example.test> proto=ESMTP helo=<\(session.client.helo)>"
            for _ in 0..<max(1, session.messages) {
                time += 1
                if !confirmed {
                    line(
                        "NOQUEUE: reject_warning: RCPT from \(shown): 450 4.7.25 Client host rejected: cannot find your hostname, [\(address)]; \(tail)"
                    )
                }
                if session.client.kind == .heloNotFound {
                    line(
                        "NOQUEUE: reject_warning: RCPT from \(shown): 450 4.7.1 <\(session.client.helo)>: Helo command rejected: Host not found; \(tail)"
                    )
                }
                guard session.messages > 0 else { break }
                queue += 17
                let id = String(queue, radix: 16, uppercase: true)
                line("\(id): client=\(shown)")
                line("\(id): message-id=<\(id)@c\(session.client.index).test>", program: "postfix/cleanup", pid: 13_001)
                line(
                    "\(id): from=<\(session.client.sender)>, size=\(900 + session.client.index), nrcpt=1 (queue active)",
                    program: "postfix/qmgr", pid: 901)
            }
            time += 1
            let counts =
                session.messages > 0
                ? "ehlo=1 mail=\(session.messages) rcpt=\(session.messages) data=\(session.messages) quit=1 commands=\(2 + 3 * session.messages)"
                : "ehlo=1 quit=1 commands=2"
            line("disconnect from \(shown) \(counts)")
            pidFree[slot].free = time + 1
        }
        return timed.sorted { ($0.time, $0.order) < ($1.time, $1.order) }.map(\.text)
    }

    /// `Mar  4 10:00:01`: the week of 2024-03-04 (Monday) in syslog's form.
    static func stamp(_ seconds: Int) -> String {
        let day = 4 + seconds / 86_400
        let rest = seconds % 86_400
        let dayText = day < 10 ? " \(day)" : "\(day)"
        return String(format: "Mar %@ %02d:%02d:%02d", dayText, rest / 3600, (rest / 60) % 60, rest % 60)
    }

    func write(to path: String) throws {
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }
}
