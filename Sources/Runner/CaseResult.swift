import DNSCore
import Delivery
import Foundation
import SMTPProtocol
import Scenario

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
    /// The receiver's evidence gathered (`evidence`), then everything down again.
    public var teardown: Duration = .zero
    /// The part of `teardown` spent gathering the receiver's evidence once the delivery ended (a
    /// shared Postfix settling: its smtpd gone, its log written, its queue empty).
    public var evidence: Duration = .zero
    /// Where `setup` went, step by step (`CaseEnvironment.setUp`): "folder" (the case's work
    /// folder), "namespace" (a warm slot checked
    /// out, a shared receiver's namespace lent, or a new one made), "addresses and world" (a warm
    /// slot's address swap and world load), "unbound" (a fresh world's daemon launched), "resolver",
    /// "receiver" (started), "unbound ready" (a fresh daemon serving). For benchmarks.
    public var setupSteps: [String: Duration] = [:]

    public init() {}

    public var total: Duration { setup + exchange + teardown }
    public var overhead: Duration { setup + teardown }
}

/// Everything known about one case after it ran.
public struct CaseResult: Sendable {
    public var scenario: ScenarioCase
    public var target: ReceiverTarget
    /// The MTA that sent.
    public var sender: SenderMTA
    public var status: CaseStatus
    public var mismatches: [Mismatch]
    public var observed: ObservedDelivery?
    public var delivery: DeliveryReport?
    /// What the receiver left as evidence of why it decided (`RunningReceiver.evidence`, or what it said
    /// when the case failed before that); nil when it left nothing.
    public var evidence: (any ReceiverEvidence)?
    /// unbound's query log for the case.
    public var queryLog: String
    public var timings: CaseTimings
    /// Where this case's artifacts were written, when `--artifacts` was given.
    public var artifactsDirectory: String?
    /// The network namespace and working folder the case ran in. The folder is removed when the
    /// case ends, and so is the namespace, except a shared receiver's (`receiverInstance?.isShared`),
    /// which goes when the run ends.
    public var namespaceName: String?
    public var workDirectory: String?
    /// Which running instance received the case, for receivers that share instances (Postfix).
    public var receiverInstance: ReceiverInstanceUse?

    public var name: String { scenario.name }

    public init(scenario: ScenarioCase, target: ReceiverTarget, status: CaseStatus) {
        self.scenario = scenario
        self.target = target
        self.sender = .builtin
        self.status = status
        self.mismatches = []
        self.observed = nil
        self.delivery = nil
        self.evidence = nil
        self.queryLog = ""
        self.timings = CaseTimings()
        self.artifactsDirectory = nil
        self.namespaceName = nil
        self.workDirectory = nil
        self.receiverInstance = nil
    }

    /// The receiver's own log lines for the case (a real MTA's log); empty when it keeps none.
    public var receiverLog: String { evidence?.log ?? "" }

    /// The attempt that decided the outcome, if any.
    public var decidingAttempt: DeliveryAttempt? {
        guard let delivery, let index = delivery.decidingAttempt, delivery.attempts.indices.contains(index) else {
            return nil
        }
        return delivery.attempts[index]
    }
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
