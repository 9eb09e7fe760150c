#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import DNSCore
import Foundation
import Policy
import Runner
import Sandbox
import Scenario

/// A receiver kind that exists only in the tests: it answers every connection with one fixed
/// greeting and hangs up. It is a whole kind, as a module of the product would define one: its
/// name (`target: greeting-only`), its scenario key (`receiver.greeting: {text: REPLY}`), its
/// command-line option (`--greeting REPLY`, `GreetingOptions`) and its display name ("Greeting-only
/// MX"). Plugging it in takes a `PartCatalog` entry and nothing else: the runner, the loader, the
/// reports, the matrix and parity know nothing of it.
public struct GreetingOnlyReceivers: ReceiverKind {
    public static let target = ReceiverTarget(named: "greeting-only")
    public var target: ReceiverTarget { Self.target }
    public var displayName: String { "Greeting-only MX" }
    public var scenarioKeys: [ScenarioKey] { [GreetingSettings.scenarioKey] }
    /// The greeting of a case that does not set `receiver.greeting`.
    public let greeting: String
    public let journal: Journal

    public init(greeting: String, journal: Journal = Journal()) {
        self.greeting = greeting
        self.journal = journal
    }

    /// What the test wants to know of the parts' lives.
    public final class Journal: @unchecked Sendable {
        private let lock = NSLock()
        private var events: [String] = []
        public init() {}
        func note(_ event: String) { lock.withLock { events.append(event) } }
        public var all: [String] { lock.withLock { events } }
    }

    public func unsupportedReason(for scenario: ScenarioCase, settings: RunConfiguration) -> String? {
        scenario.receiver.policy == Preset.open.policy ? nil : "greeting-only receivers apply no policy"
    }

    public func makeReceiver(for scenario: ScenarioCase, settings: RunConfiguration) -> any Receiver {
        GreetingOnlyReceiver(
            greeting: scenario.receiver.settings("greeting", as: GreetingSettings.self)?.text ?? greeting,
            journal: journal)
    }
}

/// `receiver.greeting: {text: REPLY}`: the greeting-only receiver's own scenario key.
public struct GreetingSettings: PartSettings, Equatable {
    public var text: String

    public var explained: ExplainedValue? { .flowMap([ExplainedEntry("text", .plain(text))]) }

    public static let scenarioKey = ScenarioKey(.receiver, "greeting") { value in
        guard let map = value.map(what: "the greeting ({text: REPLY})") else { return nil }
        let text = map.optional("text")
        map.finish()
        guard let text else {
            value.invalid("the greeting needs its text ({text: REPLY})")
            return nil
        }
        guard let reply = text.nonEmptyString(what: "a reply line (554 5.7.1 go away)") else { return nil }
        guard reply.count >= 3, reply.prefix(3).allSatisfy(\.isNumber), !reply.contains("\n") else {
            text.invalid("\"\(reply)\" is not one reply line starting with its code")
            return nil
        }
        return GreetingSettings(text: reply)
    }
}

/// `--greeting REPLY`: the greeting-only kind's own option, as a kind's module defines its options
/// for the executable to include beside its catalog line.
public struct GreetingOptions: ParsableArguments {
    @Option(help: "The greeting-only receiver's greeting where a case sets none.")
    public var greeting = "554 5.7.1 go away"

    public init() {}

    /// The greeting-only receivers these options ask for.
    public func receivers(journal: GreetingOnlyReceivers.Journal = .init()) -> GreetingOnlyReceivers {
        GreetingOnlyReceivers(greeting: greeting, journal: journal)
    }
}

struct GreetingOnlyReceiver: Receiver {
    let greeting: String
    let journal: GreetingOnlyReceivers.Journal

    func start(in context: CaseContext) async throws -> any RunningReceiver {
        journal.note("start")
        let served = GreetingOnlyReceivers.Journal()
        var sockets: [CInt] = []
        do {
            for address in context.scenario.receiver.addresses {
                let fd = try await Sockets.listen(on: address, port: 25, in: context.namespace)
                sockets.append(fd)
                let line = Array((greeting + "\r\n").utf8)
                let thread = Thread {
                    while true {
                        let client = accept(fd, nil, nil)
                        guard client >= 0 else { return }
                        _ = line.withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
                        served.note("served")
                        close(client)
                    }
                }
                thread.start()
            }
        } catch {
            GreetingOnlyListeners.close(sockets)
            throw error
        }
        return GreetingOnlyListeners(sockets: sockets, served: served, journal: journal)
    }
}

/// The greeting-only receiver listening for one case: a thread per address accepting until its
/// socket is shut down.
struct GreetingOnlyListeners: RunningReceiver {
    let sockets: [CInt]
    let served: GreetingOnlyReceivers.Journal
    let journal: GreetingOnlyReceivers.Journal

    func evidence(of clients: [IPAddress]) async -> any ReceiverEvidence {
        journal.note("evidence")
        return LogEvidence(
            log:
                "greeting-only: \(served.all.count) connection(s) from \(clients.map(\.description).joined(separator: ", "))"
        )
    }

    func stop(clean: Bool) async {
        journal.note("stop clean=\(clean)")
        Self.close(sockets)
    }

    /// shutdown wakes the accept loops; then the sockets go.
    static func close(_ sockets: [CInt]) {
        for fd in sockets { shutdown(fd, Int32(SHUT_RDWR)) }
        for fd in sockets { Glibc.close(fd) }
    }
}
