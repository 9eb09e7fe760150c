import DNSCore

/// RFC 7208 `check_host()` over a `DNSLookup`. It does no I/O of its own.
public struct SPFEvaluator: Sendable {
    public let lookup: any DNSLookup
    /// The receiving host's name, for the `%{r}` macro (RFC 7208 7.3).
    public let receiver: String

    public init(lookup: any DNSLookup, receiver: String = "mx.example.test") {
        self.lookup = lookup
        self.receiver = receiver
    }

    /// Evaluates the identity RFC 7208 2.4 names: MAIL FROM, or `postmaster@HELO` for the null sender.
    public func evaluate(ip: IPAddress, mailFrom: String, helo: String) async -> SPFVerdict {
        // Being written on the spf branch; replaced before it lands.
        SPFVerdict(result: .temperror, domain: helo, reason: "SPF evaluator not yet implemented")
    }
}
