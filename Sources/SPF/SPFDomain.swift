/// The domain-name rules SPF applies before it asks DNS anything.
public enum SPFDomain {
    /// RFC 7208 4.3: `check_host()` returns `none` at once for a `<domain>` that is malformed
    /// (empty label, label over 63 octets, over 253 octets), not multi-label, or not ending in
    /// a proper top label (which also rules out address literals such as `[192.0.2.1]`).
    public static func isValidIdentity(_ domain: String) -> Bool {
        identityProblem(domain) == nil
    }

    /// Why `domain` is no valid `<domain>` for `check_host()` (RFC 7208 4.3), or nil when it is one.
    public static func identityProblem(_ domain: String) -> String? {
        let name = withoutTrailingDot(domain)
        if name.isEmpty { return "the domain is empty" }
        if let bad = name.unicodeScalars.first(where: { $0.value < 0x21 || $0.value > 0x7e }) {
            return "character U+\(String(bad.value, radix: 16, uppercase: true)) is not allowed in a domain name"
        }
        if name.utf8.count > 253 { return "the name is longer than 253 octets" }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        if labels.contains(where: \.isEmpty) { return "the name has an empty label" }
        if labels.contains(where: { $0.utf8.count > 63 }) { return "the name has a label longer than 63 octets" }
        if labels.count < 2 { return "the name is not multi-label" }
        if let top = labels.last, !SPFMacroString.isTopLabel(top) {
            return
                "the top label \"\(top)\" is not letters, digits and inner hyphens with at least one letter or hyphen"
        }
        return nil
    }

    /// The DNS name to query for an expanded domain-spec, or nil when no query can be composed.
    ///
    /// RFC 7208 7.3: a name over 253 characters loses labels from the left until it fits. A name
    /// with an empty label or a label over 63 octets (possible after macro expansion) is treated as
    /// non-existent, as RFC 7208 4.3 and 5 treat a malformed `<domain>`; RFC 7208 leaves the case open.
    public static func queryName(fromExpansion expanded: String) -> String? {
        var name = Substring(withoutTrailingDot(expanded))
        while name.utf8.count > 253, let dot = name.firstIndex(of: ".") {
            name = name[name.index(after: dot)...]
        }
        guard name.utf8.count <= 253, validLabels(name) != nil else { return nil }
        return String(name)
    }

    static func withoutTrailingDot(_ name: String) -> String {
        name.hasSuffix(".") ? String(name.dropLast()) : name
    }

    private static func validLabels(_ name: some StringProtocol) -> [Substring]? {
        guard !name.isEmpty, name.utf8.count <= 253 else { return nil }
        let labels = Substring(name).split(separator: ".", omittingEmptySubsequences: false)
        guard labels.allSatisfy({ (1...63).contains($0.utf8.count) }) else { return nil }
        return labels
    }
}
