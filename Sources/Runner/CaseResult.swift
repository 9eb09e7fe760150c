import DNSCore
import Foundation
import ReferenceMX
import SMTPProtocol
import Scenario
import Sender

/// How one case ended.
public enum CaseStatus: Sendable, Hashable {
    case passed
    case failed
    /// Not run, with why (a policy with no Postfix equivalent on `--target postfix`).
    case skipped(String)
    /// The harness could not run the case (unbound did not start, an address could not be bound).
    case error(String)

    public var label: String {
        switch self {
        case .passed: "passed"
        case .failed: "failed"
        case .skipped: "skipped"
        case .error: "error"
        }
    }
}

/// Where the time of a case went.
public struct CaseTimings: Sendable, Hashable, Codable {
    /// Namespace, world, resolver and MX up.
    public var setup: Duration = .zero
    /// The delivery itself.
    public var exchange: Duration = .zero
    /// Everything down again.
    public var teardown: Duration = .zero

    public init() {}

    public var total: Duration { setup + exchange + teardown }
    public var overhead: Duration { setup + teardown }
}

/// Everything known about one case after it ran.
public struct CaseResult: Sendable {
    public var scenario: ScenarioCase
    public var target: ReceiverTarget
    public var status: CaseStatus
    public var mismatches: [Mismatch]
    public var observed: ObservedDelivery?
    public var delivery: DeliveryReport?
    /// The built-in MX's record of each session (what it saw and why it decided).
    public var sessions: [SessionRecord]
    /// unbound's query log for the case.
    public var queryLog: String
    /// Receiver-side log lines (Postfix's log for `--target postfix`).
    public var receiverLog: String
    public var timings: CaseTimings
    /// Where this case's artifacts were written, when `--artifacts` was given.
    public var artifactsDirectory: String?
    /// The network namespace and working folder the case ran in. The folder is removed when the
    /// case ends, and so is the namespace, except a shared Postfix's (`postfixHost?.isShared`),
    /// which goes when the run's `PostfixPool` closes.
    public var namespaceName: String?
    public var workDirectory: String?
    /// The Postfix that received the case (`--target postfix`).
    public var postfixHost: PostfixHostUse?

    public var name: String { scenario.name }

    public init(scenario: ScenarioCase, target: ReceiverTarget, status: CaseStatus) {
        self.scenario = scenario
        self.target = target
        self.status = status
        self.mismatches = []
        self.observed = nil
        self.delivery = nil
        self.sessions = []
        self.queryLog = ""
        self.receiverLog = ""
        self.timings = CaseTimings()
        self.artifactsDirectory = nil
        self.namespaceName = nil
        self.workDirectory = nil
        self.postfixHost = nil
    }

    /// The attempt that decided the outcome, if any.
    public var decidingAttempt: DeliveryAttempt? {
        guard let delivery, let index = delivery.decidingAttempt, delivery.attempts.indices.contains(index) else { return nil }
        return delivery.attempts[index]
    }
}

/// Which running Postfix served a case.
public struct PostfixHostUse: Sendable, Hashable, Codable {
    /// The instance's number in this process (1, 2, ...): cases with the same number were served
    /// by the same running Postfix.
    public var instance: Int
    /// True when the instance had served an earlier case.
    public var reused: Bool
    /// Why the case got an instance of its own instead of a shared one (sharing off, or a
    /// configuration `PostfixSharing` refuses); nil for a shared one.
    public var privateReason: String?

    public init(instance: Int, reused: Bool, privateReason: String?) {
        self.instance = instance
        self.reused = reused
        self.privateReason = privateReason
    }

    public var isShared: Bool { privateReason == nil }
}

/// The totals a run ends with.
public struct RunSummary: Sendable, Hashable {
    public var passed = 0
    public var failed = 0
    public var skipped = 0
    public var errors = 0

    public init(_ results: [CaseResult]) {
        for result in results {
            switch result.status {
            case .passed: passed += 1
            case .failed: failed += 1
            case .skipped: skipped += 1
            case .error: errors += 1
            }
        }
    }

    /// `N passed, M failed, K skipped` (errors count as failed).
    public var line: String {
        "\(passed) passed, \(failed + errors) failed, \(skipped) skipped"
    }

    public var allPassed: Bool { failed == 0 && errors == 0 }
}
