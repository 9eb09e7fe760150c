#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import DNSCore

/// RFC 7208 `check_host()` over a `DNSLookup`. It does no I/O of its own.
public struct SPFEvaluator: Sendable {
    public let lookup: any DNSLookup
    /// The receiving host's name, for the `%{r}` macro (RFC 7208 7.3).
    public let receiver: String
    /// Seconds since the epoch, for the `%{t}` macro.
    public let clock: @Sendable () -> Int

    public init(
        lookup: any DNSLookup, receiver: String = "mx.example.test",
        clock: @escaping @Sendable () -> Int = SPFEvaluator.systemClock
    ) {
        self.lookup = lookup
        self.receiver = receiver
        self.clock = clock
    }

    /// The wall clock in whole seconds.
    public static let systemClock: @Sendable () -> Int = { Int(time(nil)) }

    /// Evaluates the identity RFC 7208 2.4 names: MAIL FROM, or `postmaster@HELO` for the null sender.
    /// A MAIL FROM without a local part (`@sender.test`) stands for `postmaster@sender.test` (RFC 7208 4.3).
    public func evaluate(ip: IPAddress, mailFrom: String, helo: String) async -> SPFVerdict {
        var address = Substring(mailFrom).drop { $0 == " " }
        while address.last == " " { address = address.dropLast() }
        if address.hasPrefix("<"), address.hasSuffix(">"), address.count >= 2 {
            address = address.dropFirst().dropLast()
        }
        guard !address.isEmpty else {
            return await checkHost(ip: ip, domain: helo, sender: "postmaster@\(helo)", helo: helo)
        }
        let (localPart, domain) = Self.split(String(address))
        return await checkHost(ip: ip, domain: domain, sender: "\(localPart)@\(domain)", helo: helo)
    }

    /// RFC 7208 4 `check_host(<ip>, <domain>, <sender>)`; `helo` feeds the `%{h}` macro.
    public func checkHost(ip: IPAddress, domain: String, sender: String, helo: String) async -> SPFVerdict {
        let (localPart, senderDomain) = Self.split(sender.isEmpty ? domain : sender)
        var run = CheckHost(
            lookup: lookup, client: Self.unmapped(ip), localPart: localPart,
            senderDomain: SPFDomain.withoutTrailingDot(senderDomain), helo: helo, receiver: receiver, timestamp: clock()
        )
        do {
            let decision = try await run.evaluate(domain: domain, explain: true)
            return SPFVerdict(
                result: decision.result, domain: domain, record: decision.record, matched: decision.matched,
                explanation: decision.explanation, reason: decision.reason)
        } catch {
            return SPFVerdict(
                result: error.result, domain: domain, record: run.rootRecord, matched: error.trail.first,
                reason: error.reason)
        }
    }

    /// Local part and domain of an address; `postmaster` when the local part is empty or absent (RFC 7208 4.3).
    static func split(_ address: String) -> (localPart: String, domain: String) {
        guard let at = address.lastIndex(of: "@") else { return ("postmaster", address) }
        let local = String(address[..<at])
        return (local.isEmpty ? "postmaster" : local, String(address[address.index(after: at)...]))
    }

    /// RFC 7208 5: an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) is evaluated as IPv4.
    public static func unmapped(_ address: IPAddress) -> IPAddress {
        guard address.family == .ipv6, address.bytes[0..<10].allSatisfy({ $0 == 0 }),
            address.bytes[10] == 0xff, address.bytes[11] == 0xff,
            let v4 = IPAddress(bytes: Array(address.bytes[12...]))
        else { return address }
        return v4
    }
}
