/// RFC 7489 3.2's organisational domain, without the Public Suffix List: the harness's worlds are
/// made of `.test` and documentation names, so the rule is the last two labels of the name, or the
/// last three when its last two are one of a few well-known two-label public suffixes
/// (`builtInTwoLabelSuffixes`). `mail.sender.test` -> `sender.test`, `a.b.example.co.uk` ->
/// `example.co.uk`.
public enum OrganizationalDomain {
    public static let builtInTwoLabelSuffixes: Set<String> = [
        "co.uk", "org.uk", "ac.uk", "gov.uk", "com.au", "net.au", "org.au", "co.nz", "co.jp", "com.br", "co.za",
        "com.cn",
    ]

    public static func of(_ domain: String) -> String {
        var name = domain.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        let labels = name.split(separator: ".")
        guard labels.count > 2 else { return labels.joined(separator: ".") }
        let lastTwo = labels.suffix(2).joined(separator: ".")
        let keep = builtInTwoLabelSuffixes.contains(lastTwo) ? 3 : 2
        return labels.suffix(keep).joined(separator: ".")
    }

    /// RFC 7489 3.1: strict alignment is equality, relaxed is the same organisational domain.
    public static func aligned(_ a: String, _ b: String, mode: DMARCAlignment) -> Bool {
        let a = a.lowercased(), b = b.lowercased()
        switch mode {
        case .strict: return a == b
        case .relaxed: return of(a) == of(b)
        }
    }
}

/// The domain of the RFC 5322 From field, which DMARC and "aligned" DKIM are about.
public enum AuthorDomain {
    /// The domain of the message's single From field; nil when it has none, several, or no address
    /// with a domain (RFC 7489 6.6.1 leaves such messages to local policy).
    public static func of(_ message: DKIMMessage) -> String? {
        let froms = message.fields(named: "From")
        guard froms.count == 1 else { return nil }
        let value = String(decoding: froms[0].value, as: UTF8.self)
        // The address in angle brackets when there is one, else the whole value.
        var address = Substring(value)
        if let open = value.lastIndex(of: "<"), let close = value[open...].firstIndex(of: ">") {
            address = value[value.index(after: open)..<close]
        }
        guard let at = address.lastIndex(of: "@") else { return nil }
        let domain = address[address.index(after: at)...].prefix {
            !($0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" || $0 == ">" || $0 == "," || $0 == ";" || $0 == ")")
        }
        guard DKIMSignature.isDomain(String(domain)) else { return nil }
        return domain.lowercased()
    }
}
