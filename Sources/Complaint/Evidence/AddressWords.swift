import DNSCore
import Foundation

/// The client's and the MX's addresses wherever an input names them, in any wrapping: brackets
/// (`[192.0.2.1]`, `[IPv6:2001:db8::1]`), a port after them (`[2001:db8::1]:25`, `192.0.2.1:25`),
/// parentheses (`(192.0.2.1, the server for ...)`), a name before them with or without a space
/// (`mx[...]`, `mx [...]`). Link markup is gone before this runs (`InputText`).
enum AddressWords {
    /// Where an address was found, and what that place says it is.
    struct Found: Equatable {
        var address: IPAddress
        var why: String
    }

    /// An address token at the start of `text`: bracketed, bare, with an optional port; nil for a
    /// placeholder (`xxx.xxx.xxx.xxx`, `IP-ADDRESS`).
    static func address(at text: Substring) -> IPAddress? {
        var rest = text.drop { $0 == " " }
        var closing: Character?
        if rest.first == "[" {
            closing = "]"; rest = rest.dropFirst()
        } else if rest.first == "(" {
            closing = ")"; rest = rest.dropFirst()
        }
        if rest.lowercased().hasPrefix("ipv6:") { rest = rest.dropFirst(5) }
        let token = rest.prefix { $0.isHexDigit || $0 == ":" || $0 == "." }
        guard !token.isEmpty else { return nil }
        if let closing, rest.dropFirst(token.count).first != closing {
            // `(192.0.2.1, the server for ...)`: a comma or a space may end the address too.
            guard let next = rest.dropFirst(token.count).first, next == "," || next == " " else { return nil }
        }
        return parse(token)
    }

    /// `token` as an address: IPv4 with four parts, or IPv6; an IPv4 address with a `:port`
    /// suffix; trailing dots and colons of a sentence go.
    static func parse(_ token: Substring) -> IPAddress? {
        var text = token
        while let last = text.last, last == "." || last == ":" { text = text.dropLast() }
        if let address = IPAddress(text), isAddressShaped(text, address) { return address }
        // `192.0.2.1:25`: an IPv4 address with a port.
        if let colon = text.lastIndex(of: ":"), text.filter({ $0 == ":" }).count == 1,
            let address = IPAddress(text[..<colon]), address.family == .ipv4, isAddressShaped(text[..<colon], address)
        {
            return address
        }
        return nil
    }

    private static func isAddressShaped(_ text: Substring, _ address: IPAddress) -> Bool {
        address.family == .ipv4 ? text.split(separator: ".").count == 4 : text.filter { $0 == ":" }.count >= 2
    }

    private struct Place {
        var regex: NSRegularExpression
        var why: String
        init(_ pattern: String, _ why: String) {
            regex = try! NSRegularExpression(pattern: pattern, options: [.caseInsensitive])
            self.why = why
        }
    }

    /// An address in one of the wrappings, as a capture group: bracketed (with `IPv6:`), or bare.
    private static let wrapped =
        #"(\[(?:IPv6:)?[0-9A-Fa-f:.]+\](?::\d+)?|(?<![0-9A-Za-z:.])[0-9A-Fa-f:]*[0-9A-Fa-f][:.][0-9A-Fa-f:.]+)"#

    /// Places that name the MX: the host a sending MTA talked to.
    private static let mxPlaces: [Place] = [
        Place(#"\bhost\s+[^\s\[\]]*\s?"# + wrapped, "`host NAME[ADDR]` (the MX the sending MTA talked to)"),
        Place(
            #"\brelay=[^\s\[\],]*\s?"# + wrapped + #"(?=[:,\s]|$)(?=.*\bstatus=|.*\bstat=)"#,
            "`relay=NAME[ADDR]` of a delivery line (the MX)"),
        Place(#"Remote-MTA:\s*(?:dns;\s*)?(?:[^\s\[\](]*\s*)?\(?"# + wrapped, "the `Remote-MTA` field (the MX)"),
        Place(
            #"(?:^|\s)(?:==|\*\*|=>|->)\s.*?\bH=[^\s\[]*\s?"# + wrapped,
            "Exim's `H=NAME [ADDR]` of a delivery line (the MX)"),
        Place(
            #"SMTP error from remote mail server.*?\bH=[^\s\[]*\s?"# + wrapped,
            "Exim's `H=NAME [ADDR]` of a delivery line (the MX)"),
        Place(#"\bConnected to\s+"# + wrapped, "`Connected to ADDR` (the MX)"),
        Place(#"\b(?:Trying|Connecting to)\s+(?:[^\s\[(]+\s+)?[(]?"# + wrapped, "`Trying ADDR` (the MX)"),
        Place(#"\bwhile talking to\s+[^\s\[]*\s?"# + wrapped, "sendmail's `while talking to NAME [ADDR]` (the MX)"),
        Place(
            #"(?:^|[\s/])"# + wrapped + #"\s+(?:does not like recipient|failed after I sent|failed on DATA)"#,
            "qmail-remote's `ADDR does not like recipient` (the MX)"),
        Place(
            #"last endpoint attempted was\s+"# + wrapped,
            "Exchange's `The last endpoint attempted was ADDR:25` (the MX)"),
        Place(#"\b(?:LastAttemptedIP|\{IP)=\s*"# + wrapped, "Exchange's `LastAttemptedIP` (the MX)"),
        Place(#"\[[A-Za-z0-9.-]+\.?\s+"# + wrapped + #":\s"#, "Gmail's `[mx.example.test. ADDR: reply]` (the MX)"),
        Place(#"\bremote (?:host|server|MTA)\s+[^\s\[]*\s?"# + wrapped, "the remote host's address"),
        // A sending service's bounce event: Amazon SES's `"remoteMtaIp": "ADDR"`.
        Place(#""remoteMtaIp"\s*:\s*""# + wrapped, "the bounce event's `remoteMtaIp` (the MX)"),
        // Exchange's NDR: `Remote Server at NAME (ADDR) returned '...'`, `Receiving server: NAME (ADDR)`.
        Place(
            #"\b(?:Remote Server at|Receiving server:)\s+[^\s(]+\s+\(\s*"# + wrapped + #"\s*\)"#,
            "Exchange's `Remote Server at NAME (ADDR)` (the MX)"),
    ]

    /// Places that name the client: the address the receiver saw the connection come from.
    private static let clientPlaces: [Place] = [
        Place(#"\b(?:reject|milter-reject): \S+ from [^\s\[]*"# + wrapped, "the receiving Postfix's `from NAME[ADDR]`"),
        Place(#"\bclient=[^\s\[]*"# + wrapped, "the receiving Postfix's `client=NAME[ADDR]`"),
        Place(#"\bconnect from [^\s\[]*"# + wrapped, "the receiving Postfix's `connect from NAME[ADDR]`"),
        // Not a sending Exim's delivery line (`==`, `**`, `=>`, `SMTP error from`), whose H= is the MX.
        Place(
            #"^(?!.*(?:(?:^|\s)(?:==|\*\*|=>|->)\s|SMTP error from|\bdefer \())(?:.*\s)?H=(?:[^\s(\[]+\s+)?(?:\([^)]*\)\s+)?"#
                + wrapped,
            "the receiving Exim's `H=... [ADDR]`"),
        Place(#"\bruleset=\S+.*?\brelay=[^\s\[,]*\s?"# + wrapped, "the receiving sendmail's `relay=NAME [ADDR]`"),
        Place(#"\bClient host\s+"# + wrapped, "the reply's `Client host [ADDR]`"),
        // The client's EHLO/HELO argument as an address literal is its own address (RFC 5321 4.1.3,
        // 4.1.4: `EHLO [IPv6:2001:db8::1]`), of the family it connected with.
        Place(
            #"\b(?:EHLO|HELO)\s+(?=\[)"# + wrapped,
            "the client's EHLO/HELO address literal (its own address, RFC 5321 4.1.3)"),
        // The reply to EHLO/HELO greets the client by the address it came from (Exim, sendmail,
        // OpenSMTPD, Exchange: `250-mx.example.test Hello name [ADDR]`).
        Place(
            #"\b250[ -]\S+\s+Hello\s+(?:[^\s\[(]+\s+)?"# + wrapped, "the reply to EHLO/HELO `250 ... Hello NAME [ADDR]`"
        ),
        Place(
            #"<[^<>\s]*"# + wrapped + #">:\s*(?:Client host rejected|Helo command rejected)"#,
            "the reply's `<NAME[ADDR]>: Client host rejected`"),
        Place(#"(?<![{\w])(?:IP|ip)\s?[=:]\s?"# + wrapped, "the reply's `IP=ADDR`"),
        Place(
            #"\b(?:sending|client|your|source|connecting)\s+(?:IP(?:v[46])?\s+)?(?:address\s+)?"# + wrapped,
            "the reply's `your IP ADDR`"),
        Place(#"\b(?:messages|mail|connections?)\s+from\s+"# + wrapped, "the reply's `messages from [ADDR]`"),
        Place(
            #"(?:hostname|reverse hostname|PTR record|rDNS|reverse DNS)[^\[\]]{0,40}?(?:for\s+)?"# + wrapped,
            "the reply's `... for ADDR` of a reverse DNS text"),
    ]

    /// The addresses of the MX named in `lines` (unfolded), in order.
    static func mx(in lines: [String]) -> [Found] { scan(lines, mxPlaces) }

    /// The addresses of the client named in `lines` (unfolded), in order.
    static func client(in lines: [String]) -> [Found] { scan(lines, clientPlaces) }

    private static func scan(_ lines: [String], _ places: [Place]) -> [Found] {
        var out: [Found] = []
        for line in lines {
            var found: [(offset: Int, Found)] = []
            let range = NSRange(line.startIndex..., in: line)
            for place in places {
                for match in place.regex.matches(in: line, range: range) {
                    guard let group = Range(match.range(at: 1), in: line), let address = address(at: line[group]) else {
                        continue
                    }
                    found.append((match.range(at: 1).location, Found(address: address, why: place.why)))
                }
            }
            for (_, item) in found.sorted(by: { $0.offset < $1.offset })
            where !out.contains(where: { $0.address == item.address }) {
                out.append(item)
            }
        }
        return out
    }
}
