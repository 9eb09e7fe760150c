import DNSCore

/// The results of RFC 7208 section 2.6.
public enum SPFResult: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case none, neutral, pass, fail, softfail, temperror, permerror

    public var description: String { rawValue }
}

/// The outcome of an SPF evaluation with what decided it, for the MX's decision record.
public struct SPFVerdict: Sendable, Hashable, Codable, CustomStringConvertible {
    public var result: SPFResult
    /// The domain whose policy was evaluated (MAIL FROM's domain, or the HELO name for `<>`).
    public var domain: String
    /// The SPF record of `domain`, when one was found.
    public var record: String?
    /// The term that decided (`ip6:2001:db8::/32`, `include:spf.example.test`, `-all`, or `default` when none matched).
    public var matched: String?
    /// The explanation string for `fail` (from `exp=`, RFC 7208 6.2), when there is one.
    public var explanation: String?
    /// Why, in words: "no SPF record at sender.test", "2 SPF records at sender.test", "more than 10 DNS-querying terms".
    public var reason: String

    public init(
        result: SPFResult, domain: String, record: String? = nil, matched: String? = nil, explanation: String? = nil,
        reason: String
    ) {
        self.result = result
        self.domain = domain
        self.record = record
        self.matched = matched
        self.explanation = explanation
        self.reason = reason
    }

    public var description: String {
        "\(result) for \(domain)" + (matched.map { " (matched \($0))" } ?? "") + ": \(reason)"
    }
}
