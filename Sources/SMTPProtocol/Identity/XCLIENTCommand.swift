/// `XCLIENT attribute=value ...` (Postfix's XCLIENT_README): an authorised proxy tells the server
/// who the real client is. Parsed as Postfix 3.7's `smtpd.c` `xclient_cmd()` does, with its
/// reply texts.
public struct XCLIENTCommand: Sendable, Hashable {
    /// `NAME=`: the client's verified host name, or why there is none.
    public enum Name: Sendable, Hashable, CustomStringConvertible {
        case verified(String)
        /// `[UNAVAILABLE]`: the name lookup failed for good.
        case unavailable
        /// `[TEMPUNAVAIL]`: the name lookup failed for now.
        case temporarilyUnavailable

        public var description: String {
            switch self {
            case .verified(let name): name
            case .unavailable: Self.unavailableText
            case .temporarilyUnavailable: Self.temporaryText
            }
        }

        public static let unavailableText = "[UNAVAILABLE]"
        public static let temporaryText = "[TEMPUNAVAIL]"
    }

    /// `NAME=`, nil when not given.
    public var name: Name?
    /// `ADDR=` (4 or 16 bytes), nil when not given; `addressUnavailable` for `ADDR=[UNAVAILABLE]`.
    public var address: [UInt8]?
    public var addressUnavailable = false
    /// `HELO=`, nil when not given (the session then forgets its HELO, as Postfix does).
    public var helo: String?
    /// Every attribute as given (name upper-cased, value decoded), in order.
    public var attributes: [Attribute] = []

    public struct Attribute: Sendable, Hashable {
        public var name: String
        public var value: String
    }

    public init(name: Name? = nil, address: [UInt8]? = nil, helo: String? = nil) {
        self.name = name
        self.address = address
        self.helo = helo
    }

    /// The attributes Postfix 3.7 takes (`mail_proto.h`), as its EHLO reply lists them.
    public static let attributeNames = [
        "NAME", "ADDR", "PROTO", "HELO", "REVERSE_NAME", "PORT", "LOGIN", "DESTADDR", "DESTPORT",
    ]
    /// The EHLO keyword line for an authorised client (`smtpd.c` `ehlo_cmd()`).
    public static let ehloKeyword = "XCLIENT " + attributeNames.joined(separator: " ")

    /// Why XCLIENT was refused: the reply.
    public struct Rejection: Error, Sendable, Hashable {
        public var reply: SMTPReply
        init(code: Int, enhanced: String, _ text: String) { reply = SMTPReply(code: code, enhanced: enhanced, text) }
    }

    /// Parses the text after the verb. A failure is the reply Postfix gives.
    public static func parse(arguments: some StringProtocol) -> Result<XCLIENTCommand, XCLIENTCommand.Rejection> {
        let words = arguments.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard !words.isEmpty else {
            return .failure(Rejection(code: 501, enhanced: "5.5.4", "Syntax: XCLIENT attribute=value..."))
        }
        var command = XCLIENTCommand()
        for word in words {
            guard let equals = word.firstIndex(of: "="), word.index(after: equals) < word.endIndex else {
                return .failure(Rejection(code: 501, enhanced: "5.5.4", "Error: attribute=value expected"))
            }
            let name = String(word[..<equals]), raw = String(word[word.index(after: equals)...])
            guard raw.utf8.count <= 255 else {
                return .failure(Rejection(code: 501, enhanced: "5.5.4", "Error: attribute value too long"))
            }
            // Postfix: xtext (RFC 3461 4) when it decodes, the raw value otherwise (before 2.3
            // values were not encoded); non-printable characters become "?".
            let value = printable(xtextDecode(raw) ?? raw)
            let upper = name.uppercased()
            func bad() -> Result<XCLIENTCommand, XCLIENTCommand.Rejection> {
                .failure(Rejection(code: 501, enhanced: "5.5.4", "Bad \(upper) syntax: \(value)"))
            }
            switch upper {
            case "NAME", "REVERSE_NAME":
                let parsed: Name
                switch value.uppercased() {
                case Name.unavailableText: parsed = .unavailable
                case Name.temporaryText: parsed = .temporarilyUnavailable
                default:
                    guard isValidHostname(value) else { return bad() }
                    parsed = .verified(value)
                }
                if upper == "NAME" { command.name = parsed }
            case "ADDR", "DESTADDR":
                if value.uppercased() == Name.unavailableText {
                    if upper == "ADDR" { command.addressUnavailable = true; command.address = nil }
                } else {
                    // valid_mailhost_addr(): IPv4 as is, IPv6 only with the `IPv6:` prefix
                    // (RFC 5321 4.1.3); an IPv4-mapped IPv6 address counts as IPv4.
                    let isV6 = value.prefix(5).uppercased() == "IPV6:"
                    guard let bytes = ProxiedEndpoint.bytes(of: isV6 ? value.dropFirst(5) : value[...]),
                        (bytes.count == 16) == isV6
                    else {
                        return bad()
                    }
                    let mapped = bytes.count == 16 && bytes.prefix(12) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]
                    if upper == "ADDR" {
                        command.address = mapped ? Array(bytes.suffix(4)) : bytes; command.addressUnavailable = false
                    }
                }
            case "PORT", "DESTPORT":
                guard
                    value.uppercased() == Name.unavailableText
                        || (!value.isEmpty && value.count <= 5 && value.allSatisfy { $0.isASCII && $0.isNumber })
                else {
                    return bad()
                }
            case "HELO":
                guard value.utf8.count <= 255 else { return bad() }
                command.helo = value.uppercased() == Name.unavailableText ? nil : value
            case "PROTO":
                guard ["SMTP", "ESMTP"].contains(value.uppercased()) else { return bad() }
            case "LOGIN":
                break
            default:
                return .failure(Rejection(code: 501, enhanced: "5.5.4", "Bad XCLIENT attribute name: \(name)"))
            }
            command.attributes.append(Attribute(name: upper, value: value))
        }
        return .success(command)
    }

    /// The command line a proxy sends: `XCLIENT ADDR=... [NAME=...]`, values xtext-encoded.
    public static func line(address: [UInt8], name: String?) -> String {
        let endpoint = ProxiedEndpoint(address: address, port: 0)
        var line = "XCLIENT ADDR=" + xtextEncode((endpoint.isIPv6 ? "IPV6:" : "") + endpoint.addressText)
        if let name { line += " NAME=" + xtextEncode(name) }
        return line
    }

    /// RFC 3461 4: `+XX` (two upper-case hex digits) for a byte; nil when malformed.
    static func xtextDecode(_ text: String) -> String? {
        var out: [UInt8] = []
        var bytes = Array(text.utf8)[...]
        while let byte = bytes.popFirst() {
            guard byte == UInt8(ascii: "+") else {
                guard byte >= 33, byte <= 126, byte != UInt8(ascii: "=") else { return nil }
                out.append(byte)
                continue
            }
            guard bytes.count >= 2, let high = hexValue(bytes.removeFirst()), let low = hexValue(bytes.removeFirst())
            else { return nil }
            out.append(high << 4 | low)
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func xtextEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            if byte >= 33, byte <= 126, byte != UInt8(ascii: "+"), byte != UInt8(ascii: "=") {
                out.unicodeScalars.append(UnicodeScalar(byte))
            } else {
                out += "+" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func printable(_ text: String) -> String {
        String(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? "?" : Character($0) })
    }

    /// Postfix `valid_hostname()`: labels of letters, digits and `-` (not at either end), at most
    /// 63 bytes each and 255 in all, not all-numeric.
    static func isValidHostname(_ name: String) -> Bool {
        var name = Substring(name)
        if name.hasSuffix(".") { name = name.dropLast() }
        guard !name.isEmpty, name.utf8.count <= 255 else { return false }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        for label in labels {
            guard !label.isEmpty, label.utf8.count <= 63, !label.hasPrefix("-"), !label.hasSuffix("-"),
                label.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
            else { return false }
        }
        return !name.allSatisfy { $0.isNumber || $0 == "." }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
