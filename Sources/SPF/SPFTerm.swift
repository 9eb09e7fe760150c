import DNSCore

/// The qualifier in front of a mechanism (RFC 7208 4.6.2); `+` when none is written.
public enum SPFQualifier: Character, Sendable, Hashable, CaseIterable {
    case pass = "+", fail = "-", softfail = "~", neutral = "?"

    /// The result a matching mechanism with this qualifier gives.
    public var result: SPFResult {
        switch self {
        case .pass: .pass
        case .fail: .fail
        case .softfail: .softfail
        case .neutral: .neutral
        }
    }
}

/// The prefix lengths of `a` and `mx` (RFC 7208 5.6 `dual-cidr-length`), full lengths by default.
public struct SPFDualCIDR: Sendable, Hashable {
    public var ipv4: Int
    public var ipv6: Int

    public init(ipv4: Int = 32, ipv6: Int = 128) {
        self.ipv4 = ipv4
        self.ipv6 = ipv6
    }

    public func length(for family: AddressFamily) -> Int { family == .ipv4 ? ipv4 : ipv6 }
}

/// The mechanisms of RFC 7208 5. A nil domain-spec means the current `<domain>`.
public enum SPFMechanism: Sendable, Hashable {
    case all
    case include(SPFMacroString)
    case a(SPFMacroString?, SPFDualCIDR)
    case mx(SPFMacroString?, SPFDualCIDR)
    case ptr(SPFMacroString?)
    case ip4(IPAddress, prefixLength: Int)
    case ip6(IPAddress, prefixLength: Int)
    case exists(SPFMacroString)

    /// True for the terms RFC 7208 4.6.4 counts against the limit of 10 DNS-querying terms.
    public var queriesDNS: Bool {
        switch self {
        case .include, .a, .mx, .ptr, .exists: true
        case .all, .ip4, .ip6: false
        }
    }
}

/// A qualified mechanism as it stands in the record.
public struct SPFDirective: Sendable, Hashable, CustomStringConvertible {
    public var qualifier: SPFQualifier
    public var mechanism: SPFMechanism
    /// The term as written, e.g. `-ip6:2001:db8::/32`.
    public var text: String

    public init(qualifier: SPFQualifier, mechanism: SPFMechanism, text: String) {
        self.qualifier = qualifier
        self.mechanism = mechanism
        self.text = text
    }

    public var description: String { text }
}

/// A `name=value` modifier (RFC 7208 6). `redirect` and `exp` values are domain-specs.
public struct SPFModifier: Sendable, Hashable, CustomStringConvertible {
    /// The name in lower case.
    public var name: String
    public var value: SPFMacroString
    /// The term as written.
    public var text: String

    public init(name: String, value: SPFMacroString, text: String) {
        self.name = name
        self.value = value
        self.text = text
    }

    public var description: String { text }
}
