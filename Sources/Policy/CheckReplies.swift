import DNSCore
import SMTPProtocol
import SPF

/// How one check came out for one client.
public enum CheckOutcome: String, Sendable, Hashable, Codable, CustomStringConvertible {
    case pass
    /// The check failed: its standard failure reply (or the preset's own).
    case fail
    /// SPF `permerror` under the `spf` check (550 5.5.2; 550 5.7.24 as policyd-spf).
    case permerror
    /// A DNS error (or SPF `temperror`) kept the check from deciding: its 4xx reply.
    case temporary
    /// A DNS error that the check ignores (DNSBL lookups, as Postfix's `reject_rbl_client` does).
    case ignored

    public var description: String { rawValue }
    public var decides: Bool { self == .fail || self == .permerror || self == .temporary }
}

extension Check {
    /// The reply for a check that did not pass, per the scenario format's policy table, before
    /// `customReplies` and `on_fail: defer` are applied. `[ADDR]` becomes the client address as
    /// Postfix prints it (`[2001:db8::66]`), `<HELO>` the HELO argument in angle brackets.
    public func standardReply(
        for outcome: CheckOutcome, client: IPAddress, helo: String, spf: SPFReplies = .format
    ) -> SMTPReply? {
        let addr = "[\(client)]"
        let heloText = "<\(helo)>"
        switch (self, outcome) {
        case (_, .pass), (_, .ignored):
            return nil
        case (.ptr, .temporary):
            return SMTPReply(
                code: 450, enhanced: "4.7.1", "Client host rejected: cannot find your reverse hostname, \(addr)")
        case (.ptr, _):
            return SMTPReply(
                code: 550, enhanced: "5.7.1", "Client host rejected: cannot find your reverse hostname, \(addr)")
        case (.fcrdns, .temporary):
            return SMTPReply(code: 450, enhanced: "4.7.25", "Client host rejected: cannot find your hostname, \(addr)")
        case (.fcrdns, _):
            return SMTPReply(code: 550, enhanced: "5.7.25", "Client host rejected: cannot find your hostname, \(addr)")
        case (.heloValid, _):
            return SMTPReply(code: 501, enhanced: "5.5.2", "\(heloText): Helo command rejected: Invalid name")
        case (.heloFQDN, _):
            return SMTPReply(
                code: 504, enhanced: "5.5.2", "\(heloText): Helo command rejected: need fully-qualified hostname")
        case (.heloResolves, .temporary):
            return SMTPReply(code: 450, enhanced: "4.7.1", "\(heloText): Helo command rejected: Host not found")
        case (.heloResolves, _):
            return SMTPReply(code: 550, enhanced: "5.7.1", "\(heloText): Helo command rejected: Host not found")
        case (.heloMatches, .temporary):
            return SMTPReply(
                code: 450, enhanced: "4.7.1", "\(heloText): Helo command rejected: does not match calling host")
        case (.heloMatches, _):
            return SMTPReply(
                code: 550, enhanced: "5.7.1", "\(heloText): Helo command rejected: does not match calling host")
        // The format's codes (its policy table), or with `.policydSPF` those of
        // postfix-policyd-spf-python (spf_engine/policyd_spf.py: `defer_if_permit 4.7.24` for
        // temperror, which smtpd answers with defer_code 450; `550 5.7.24` for permerror; RFC
        // 7372 3.2), the SPF service a Postfix target asks.
        case (.spf, .temporary), (.spfPass, .temporary):
            return spf == .policydSPF
                ? SMTPReply(code: 450, enhanced: "4.7.24", "SPF temporary error")
                : SMTPReply(code: 451, enhanced: "4.4.3", "SPF temporary error")
        case (.spf, .permerror):
            return spf == .policydSPF
                ? SMTPReply(code: 550, enhanced: "5.7.24", "SPF permanent error")
                : SMTPReply(code: 550, enhanced: "5.5.2", "SPF permanent error")
        case (.spf, _):
            return SMTPReply(code: 550, enhanced: "5.7.23", "SPF fail - not authorized")
        case (.spfPass, _):
            return SMTPReply(code: 550, enhanced: "5.7.23", "SPF check did not pass")
        case (.dnsbl(let zone), _):
            return SMTPReply(
                code: 554, enhanced: "5.7.1", "Service unavailable; Client host \(addr) blocked using \(zone)")
        // RFC 7372 3.1: X.7.20 no passing DKIM signature; X.7.26 multiple authentication checks failed.
        case (.dkim, .temporary):
            return SMTPReply(code: 451, enhanced: "4.7.20", "DKIM temporary error")
        case (.dkim, _):
            return SMTPReply(code: 550, enhanced: "5.7.20", "No passing DKIM signature found")
        case (.dmarc, .temporary):
            return SMTPReply(code: 451, enhanced: "4.7.1", "DMARC temporary error")
        case (.dmarc, _):
            return SMTPReply(
                code: 550, enhanced: "5.7.1",
                "Unauthenticated email is not accepted due to the sender domain's DMARC policy")
        case (.spfOrDKIM, .temporary):
            return SMTPReply(code: 451, enhanced: "4.7.26", "SPF or DKIM temporary error")
        case (.spfOrDKIM, _):
            return SMTPReply(code: 550, enhanced: "5.7.26", "Neither SPF nor an aligned DKIM signature passed")
        }
    }

    /// What an SPF verdict means for this check (`spf` or `spf-pass`); other checks pass.
    public func outcome(of verdict: SPFVerdict) -> CheckOutcome {
        switch (self, verdict.result) {
        case (.spf, .fail): .fail
        case (.spf, .permerror): .permerror
        case (.spf, .temperror), (.spfPass, .temperror): .temporary
        case (.spf, _): .pass
        case (.spfPass, .pass): .pass
        case (.spfPass, _): .fail
        default: .pass
        }
    }
}

extension ReceiverPolicy {
    /// The reply a check that did not pass gets under this policy: the standard reply, replaced
    /// by the preset's own or the map's `reply:` on failure (not on DNS error); with `on_fail:
    /// defer` every 5xx sent as 450 with enhanced class 4; at the greeting a 5xx becomes 554 and
    /// a 4xx 421 (RFC 5321 3.1 and 4.2.3: 554 refuses the connection, 421 closes it), unless the
    /// map's `reply:` sets the code. `signed` tells, for a message check, whether the message
    /// carried a DKIM-Signature field (`unsignedReplies` apply when it did not).
    public func reply(for check: Check, outcome: CheckOutcome, client: IPAddress, helo: String, signed: Bool = true)
        -> SMTPReply?
    {
        guard var reply = check.standardReply(for: outcome, client: client, helo: helo, spf: spfReplies) else {
            return nil
        }
        let unsigned = signed ? nil : unsignedReplies[client.family]?[check]
        var custom = outcome != .temporary ? unsigned ?? customReplies[client.family]?[check] : nil
        if outcome != .temporary, let siteReply { custom = siteReply }
        if let custom {
            // A text with line breaks is a multi-line reply; each line is wrapped on its own.
            let text = custom.text.replacing("[ADDR]", with: "[\(client)]")
            reply = SMTPReply(
                code: custom.code, enhanced: custom.enhanced,
                lines: text.split(separator: "\n").flatMap { Self.wrap(String($0)) })
        }
        if onFail == .defer, reply.isPermanentFailure {
            reply.code = 450
            if let enhanced = reply.enhanced, enhanced.hasPrefix("5") { reply.enhanced = "4" + enhanced.dropFirst() }
        }
        if rejectAt == .greeting, outcome == .temporary || siteReply == nil {
            reply.code = reply.isTransientFailure ? 421 : 554
        }
        return reply
    }

    /// A long text as reply lines of at most 200 characters, split at single spaces, so that the
    /// lines joined with a space (`SMTPReply.text`) are the text again and no line passes the
    /// 512-octet limit of RFC 5321 4.5.3.1.5.
    static func wrap(_ text: String) -> [String] {
        var lines: [String] = []
        var rest = Substring(text)
        while rest.count > 200 {
            let window = rest.prefix(200)
            guard let space = window.lastIndex(of: " "), space > rest.startIndex,
                rest[rest.index(before: space)] != " ", rest.index(after: space) < rest.endIndex,
                rest[rest.index(after: space)] != " "
            else { break }
            lines.append(String(rest[..<space]))
            rest = rest[rest.index(after: space)...]
        }
        lines.append(String(rest))
        return lines
    }
}
