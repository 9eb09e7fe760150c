import DNSCore

/// The values the macro letters of RFC 7208 7.2 stand for during one `check_host()`.
public struct SPFMacroContext: Sendable, Hashable {
    /// `<sender>`'s local part (`postmaster` when it had none, RFC 7208 4.3).
    public var localPart: String
    /// `<sender>`'s domain (`o`).
    public var senderDomain: String
    /// The current `<domain>` (`d`), which `include` and `redirect` change.
    public var domain: String
    /// The client address (`i`, `c`, `v`), IPv4 for an IPv4-mapped IPv6 client.
    public var client: IPAddress
    /// The HELO/EHLO name (`h`).
    public var helo: String
    /// The receiving host's name (`r`).
    public var receiver: String
    /// Seconds since the epoch (`t`).
    public var timestamp: Int
    /// The validated domain name of the client (`p`); nil expands to `unknown` (RFC 7208 7.3).
    public var validatedDomain: String?

    public init(
        localPart: String, senderDomain: String, domain: String, client: IPAddress, helo: String,
        receiver: String, timestamp: Int, validatedDomain: String? = nil
    ) {
        self.localPart = localPart
        self.senderDomain = senderDomain
        self.domain = domain
        self.client = client
        self.helo = helo
        self.receiver = receiver
        self.timestamp = timestamp
        self.validatedDomain = validatedDomain
    }

    /// The raw value of one letter, before transformers.
    public func value(of letter: SPFMacro.Letter) -> String {
        switch letter {
        case .sender: "\(localPart)@\(senderDomain)"
        case .localPart: localPart
        case .senderDomain: senderDomain
        case .domain: domain
        // RFC 7208 7.3: dotted quad for IPv4, dot-separated nibbles for IPv6.
        case .ip: client.family == .ipv4 ? client.description : client.reversedLabels.reversed().joined(separator: ".")
        case .validatedDomain: validatedDomain ?? "unknown"
        case .ipVersion: client.family == .ipv4 ? "in-addr" : "ip6"
        case .helo: helo
        case .clientIP: client.description
        case .receiver: receiver
        case .timestamp: String(timestamp)
        }
    }
}

extension SPFMacro {
    /// Applies the transformers (RFC 7208 7.3): split on the delimiters, optionally reverse,
    /// keep the right-most parts, join with dots, then URL-escape for an upper-case letter.
    public func expand(in context: SPFMacroContext) -> String {
        let value = context.value(of: letter)
        let splitters = delimiters.isEmpty ? ["."] : delimiters
        var parts = value.split(omittingEmptySubsequences: false) { splitters.contains($0) }.map(String.init)
        if reverse { parts.reverse() }
        if let rightParts, rightParts < parts.count { parts = Array(parts.suffix(rightParts)) }
        let joined = parts.joined(separator: ".")
        return urlEscape ? Self.urlEscaped(joined) : joined
    }

    /// Escapes every byte outside RFC 3986 `unreserved` as `%XX` (RFC 7208 7.3).
    static func urlEscaped(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF")
        var out = ""
        for byte in text.utf8 {
            let unreserved =
                (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39)
                || byte == 0x2d || byte == 0x2e || byte == 0x5f || byte == 0x7e
            if unreserved {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 0x0f)])
            }
        }
        return out
    }
}

extension SPFMacroString {
    /// The string with every macro replaced (RFC 7208 7.3). For a domain-spec, pass the result
    /// through `SPFDomain.queryName(fromExpansion:)` before using it as a DNS name.
    public func expand(in context: SPFMacroContext) -> String {
        var out = ""
        for piece in pieces {
            switch piece {
            case .literal(let text): out += text
            case .macro(let macro): out += macro.expand(in: context)
            case .percent: out += "%"
            case .space: out += " "
            case .urlSpace: out += "%20"
            }
        }
        return out
    }
}
