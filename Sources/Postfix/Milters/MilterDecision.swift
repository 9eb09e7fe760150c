import DKIM
import Foundation
import DNSCore
import Milter
import Policy
import SMTPProtocol

/// The decision step after OpenDKIM and OpenDMARC: a milter that reads what they found (their
/// Authentication-Results fields, under the instance's authserv-id) and what Postfix's smtpd
/// found about the client (the `{client_ptr}` and `{client_resolve}` macros), and answers as the
/// policy says, with its exact reply: the milters only verify and report, and their own reject
/// options answer with texts of their own (OpenDMARC `RejectFailures`: "rejected by DMARC policy
/// for ...").
public struct MilterDecision: MilterFilter {
    public var policy: ReceiverPolicy
    /// The authserv-id OpenDKIM and OpenDMARC write; fields with any other are not theirs.
    public var authservID: String
    /// The records the world serves, read for the rules OpenDKIM's field does not show
    /// (`dkimResults`) and for the DMARC record (`dmarcEvaluation`).
    public var keyRecords: WorldKeyRecords
    /// Called with every decision, for the instance's log.
    public var record: @Sendable (String) -> Void

    public init(
        policy: ReceiverPolicy, authservID: String, keyRecords: WorldKeyRecords = WorldKeyRecords(),
        record: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.policy = policy
        self.authservID = authservID
        self.keyRecords = keyRecords
        self.record = record
    }

    public func reply(at stage: MilterStage, context: MilterContext) -> String? {
        guard let client = Self.clientAddress(context) else {
            record("no client address in the milter connection; nothing decided")
            return nil
        }
        let plan = MilterChecks(policy: policy)
        let checks: [Check]
        switch stage {
        case .rcpt: checks = plan.atRcpt(client.family)
        case .endOfMessage: checks = plan.atEndOfMessage(client.family)
        }
        let signed = !context.headers(named: "DKIM-Signature").isEmpty
        for check in checks {
            let (outcome, detail) = self.outcome(of: check, context: context)
            record(
                "\(stage == .rcpt ? "rcpt" : "end-of-message") client=\(client) check=\(check.name) outcome=\(outcome) \(detail)"
            )
            guard outcome.decides,
                let reply = policy.reply(
                    for: check, outcome: outcome, client: client, helo: context.helo, signed: signed)
            else { continue }
            return Self.milterReply(reply)
        }
        return nil
    }

    /// One check's outcome from the milters' results and smtpd's macros.
    func outcome(of check: Check, context: MilterContext) -> (CheckOutcome, String) {
        let fields = context.headers(named: "Authentication-Results")
        func results(_ method: String) -> [AuthenticationResults.Result] {
            AuthenticationResults.results(method, in: fields, authservID: authservID)
        }
        let resolve = context.macros["{client_resolve}"] ?? ""
        switch check {
        case .fcrdns:
            // smtpd's own forward-confirmed name (smtpd_peer.c): OK, FAIL, FORGED or TEMP.
            if resolve == "OK" { return (.pass, "client_resolve=OK") }
            return (resolve == "TEMP" ? .temporary : .fail, "client_resolve=\(resolve)")
        case .ptr:
            let ptr = context.macros["{client_ptr}"] ?? "unknown"
            if ptr != "unknown" && !ptr.isEmpty { return (.pass, "client_ptr=\(ptr)") }
            return (resolve == "TEMP" ? .temporary : .fail, "client_ptr=unknown client_resolve=\(resolve)")
        case .dkim:
            let dkim = dkimResults(results("dkim"))
            if let pass = dkim.first(where: Self.dkimPasses) { return (.pass, Self.describe(pass)) }
            return (dkim.contains { $0.result == "temperror" } ? .temporary : .fail, Self.describe(dkim))
        case .spfOrDKIM:
            let spf = results("spf")
            if spf.contains(where: { $0.result == "pass" }) { return (.pass, Self.describe(spf)) }
            let dkim = dkimResults(results("dkim"))
            let author = AuthorDomain.of(
                DKIMMessage(Array(context.headers(named: "From").map { "From:\($0)\r\n" }.joined().utf8) + [13, 10]))
            if let author,
                let aligned = dkim.first(where: {
                    Self.dkimPasses($0)
                        && $0.properties["header.d"].map { OrganizationalDomain.aligned($0, author, mode: .relaxed) }
                            == true
                })
            {
                return (.pass, "aligned with From \(author): " + Self.describe(aligned))
            }
            let temporary = spf.contains { $0.result == "temperror" } || dkim.contains { $0.result == "temperror" }
            return (
                temporary ? .temporary : .fail,
                Self.describe(spf) + "; " + Self.describe(dkim) + "; From domain \(author ?? "none")"
            )
        case .dmarc:
            let dmarc = results("dmarc")
            // OpenDMARC's own lookup through the world's resolver failed (a fault, a record a
            // validating resolver refuses): the built-in MX's fails there too.
            if dmarc.contains(where: { $0.result == "temperror" }) { return (.temporary, Self.describe(dmarc)) }
            guard let evaluation = dmarcEvaluation(context, fields: fields) else {
                return (.temporary, "the world's DMARC record was not held")
            }
            switch evaluation.result {
            case .temperror: return (.temporary, evaluation.description)
            case .fail where evaluation.disposition == .reject: return (.fail, evaluation.description)
            case .fail: return (.pass, evaluation.description + " (accepted: the policy does not reject)")
            case .pass, .none, .permerror: return (.pass, evaluation.description)
            }
        default:
            return (.ignored, "not a milter check")
        }
    }

    /// OpenDKIM's `dkim` results with the policy's reading of the key record behind each, which the
    /// world serves (`WorldKeyRecords`; OpenDKIM's field names it: `header.s`, `header.d`,
    /// `header.a`). Two readings differ from what OpenDKIM's field says, and are marked in it:
    /// - `pass` under a key record with `t=y`: OpenDKIM reports a plain pass (opendkim.c
    ///   `dkimf_ar_all_sigs` never reads `DKIM_SIGFLAG_TESTKEY`; dkimpy and rspamd's dkim module
    ///   also pass it, measured), where RFC 6376 3.6.1 says "Verifiers MUST NOT treat messages from
    ///   Signers in testing mode differently from unsigned email": a `test mode` comment, which
    ///   `dkimPasses` reads, so the signature counts as none, as on the built-in MX.
    /// - `temperror` for a key record that gives no key (`record: truncated`): libopendkim's
    ///   `dkim_get_key` returns `DKIM_STAT_SYNTAX` for a `p=` it cannot decode, which becomes
    ///   `DKIM_SIGERROR_DNSSYNTAX`, and `dkimf_ar_all_sigs` writes that as `temperror`, like a DNS
    ///   failure. RFC 6376 6.1.2 makes it PERMFAIL (key syntax error), RFC 8601 2.7.1's
    ///   `permerror` (dkimpy fails it, rspamd says R_DKIM_PERMFAIL, measured): `permerror`, a
    ///   failure under the policy (5xx), as on the built-in MX. Only when the world serves that
    ///   one record plainly (no fault on the name, an unsigned world): a DNS failure stays a
    ///   `temperror`.
    func dkimResults(_ results: [AuthenticationResults.Result]) -> [AuthenticationResults.Result] {
        results.map { result in
            guard let selector = result.properties["header.s"], let domain = result.properties["header.d"],
                let reading = keyRecords.reading(
                    selector: selector, domain: domain, algorithm: result.properties["header.a"])
            else { return result }
            var read = result
            switch (result.result, reading) {
            case ("pass", .testing):
                read.comments.append("test mode: the key record has t=y, no signature under RFC 6376 3.6.1")
            case ("temperror", .unusable(let why)):
                read.result = "permerror"
                read.comments.append(
                    "OpenDKIM's temperror for a key record it cannot use: RFC 6376 6.1.2 key syntax error, \(why)")
            default: break
            }
            return read
        }
    }

    /// DMARC as the built-in MX evaluates it (`DMARCEvaluator`, RFC 7489 6.6): the record from the
    /// world's records (`WorldKeyRecords.dmarcLookup`: discovery, organisational domain, `sp=`,
    /// `pct=`), over OpenDKIM's results without the signatures under a `t=y` key record and
    /// OpenDMARC's own SPF result (`smtp.mailfrom`, else `smtp.helo`). OpenDMARC's verdict is not
    /// the answer: it counts a `t=y` signature as a DKIM pass (seen: delivered under p=reject),
    /// where RFC 6376 3.6.1 says "Verifiers MUST NOT treat messages from Signers in testing mode
    /// differently from unsigned email". The milter sees no body, so `pct=` samples by chance, as
    /// OpenDMARC does (random() % 100 < pct): 0 and 100 are exact.
    /// Nil only if the lookup did not hold an answer (it holds every one).
    func dmarcEvaluation(_ context: MilterContext, fields: [String]) -> DMARCEvaluation? {
        let from = Array(context.headers(named: "From").map { "From:\($0)\r\n" }.joined().utf8) + [13, 10]
        let dkim = dkimResults(AuthenticationResults.results("dkim", in: fields, authservID: authservID)).compactMap {
            result -> DKIMVerification? in
            guard result.result != "pass" || Self.dkimPasses(result) else { return nil }
            return DKIMVerification(
                result: DKIMResult(rawValue: result.result) ?? .fail, domain: result.properties["header.d"],
                selector: result.properties["header.s"], algorithm: result.properties["header.a"],
                reason: "OpenDKIM: " + Self.describe(result))
        }
        let spf = AuthenticationResults.results("spf", in: fields, authservID: authservID)
        let spfResult = spf.first { $0.result == "pass" } ?? spf.first
        let identity = spfResult.flatMap { $0.properties["smtp.mailfrom"] ?? $0.properties["smtp.helo"] } ?? ""
        let spfDomain = identity.split(separator: "@").last.map(String.init) ?? identity
        let evaluator = DMARCEvaluator(lookup: keyRecords.dmarcLookup)
        return evaluator.evaluateHeld(
            message: from, spfPassed: spfResult?.result == "pass", spfDomain: spfDomain, dkim: dkim,
            sample: Int.random(in: 0..<100))
    }

    /// A verified signature counts unless it is marked in testing mode (`t=y`, by `dkimResults`):
    /// RFC 6376 3.6.1 has verifiers treat such a message as unsigned, and the built-in MX does.
    static func dkimPasses(_ result: AuthenticationResults.Result) -> Bool {
        result.result == "pass" && !result.comments.contains { $0.lowercased().contains("test mode") }
    }

    static func describe(_ result: AuthenticationResults.Result) -> String {
        var text = "\(result.method)=\(result.result)"
        if !result.comments.isEmpty { text += " (" + result.comments.joined(separator: "; ") + ")" }
        for (key, value) in result.properties.sorted(by: { $0.key < $1.key }) { text += " \(key)=\(value)" }
        return text
    }

    static func describe(_ results: [AuthenticationResults.Result]) -> String {
        results.isEmpty ? "no result" : results.map(describe).joined(separator: ", ")
    }

    /// The client address: the `{client_addr}` macro, else the connect packet's (Postfix writes
    /// an IPv6 one with or without `IPv6:`).
    static func clientAddress(_ context: MilterContext) -> IPAddress? {
        for candidate in [context.macros["{client_addr}"], context.address] {
            guard var text = candidate, !text.isEmpty else { continue }
            if text.lowercased().hasPrefix("ipv6:") { text.removeFirst(5) }
            if let address = IPAddress(text) { return address }
        }
        return nil
    }

    /// An SMTP reply as a milter sends it (smfi_setmlreply's format): every line with the code and
    /// the enhanced code, CRLF between lines; `%` doubled, since Postfix's milter8.c reads `%%` as
    /// one `%` and drops a lone one.
    static func milterReply(_ reply: SMTPReply) -> String {
        let lines = reply.lines.isEmpty ? [""] : reply.lines
        return lines.enumerated().map { index, line in
            let separator = index == lines.count - 1 ? " " : "-"
            let enhanced = reply.enhanced.map { $0 + " " } ?? ""
            return "\(reply.code)\(separator)\(enhanced)\(line.replacingOccurrences(of: "%", with: "%%"))"
        }.joined(separator: "\r\n")
    }
}
