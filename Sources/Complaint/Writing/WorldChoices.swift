import DNSCore
import Foundation
import Policy
import SMTPProtocol

/// The world a reproduction is written in: the values the evidence gives, usable ones in place of
/// what it lacks or gives unusably (a redacted address, a loopback client), each replacement said.
struct WorldChoices {
    var client: IPAddress
    var receiverName: String
    var receiverAddress: IPAddress
    var helo: String
    var mailFrom: String
    var rcptTo: [String]
    var rcptDomain: String
    /// The client's name as the receiver logged it, when it is a usable host name.
    var clientName: String?

    init(evidence: Evidence, assume: (String, String, String) -> Void) {
        // The client: as observed (when it can be bound in a namespace), else of the family the
        // words name, else of the MX's family, else IPv4.
        if let observed = evidence.clientAddress, Self.isUsable(observed) {
            client = observed
        } else {
            // An observed address that cannot be used still tells the family.
            let family: AddressFamily =
                evidence.clientAddress?.family
                ?? (evidence.reply.map { Hints.mentionsIPv6($0.text) } == true
                    ? .ipv6 : evidence.receiverAddress?.family ?? .ipv4)
            client = family == .ipv6 ? IPAddress("2001:db8:5::25")! : IPAddress("203.0.113.25")!
            let why =
                evidence.clientAddress.map {
                    "the observed \($0) cannot be a sender's address in a namespace (loopback, link-local, multicast or unspecified); one of its family"
                }
                ?? (family == .ipv6 && evidence.reply.map { Hints.mentionsIPv6($0.text) } == true
                    ? "the input names no sending address; the reply says the client used IPv6"
                    : "the input names no sending address; a documentation address of the \(family == .ipv6 ? "MX's family" : "IPv4 family")")
            assume("sender.addresses", client.description, why + " (put yours in sender.addresses)")
        }
        let family = client.family

        let recipients = evidence.rcptTo.filter(Self.isUsableMailbox)
        if recipients.isEmpty {
            rcptTo = ["postmaster@example.test"]
            assume(
                "sender.rcpt_to", rcptTo[0],
                evidence.rcptTo.isEmpty
                    ? "the input names no recipient" : "the recipient \(evidence.rcptTo[0]) is not a usable address")
        } else {
            rcptTo = recipients
        }
        rcptDomain = ReplyText.domain(of: rcptTo[0]) ?? "example.test"

        if let name = evidence.receiverName, DNSName.isValidHostname(name), name.contains(".") {
            receiverName = name
        } else {
            receiverName = "mx." + rcptDomain
            assume("receiver.hostname", receiverName, "the input does not name the MX; mx. plus the recipient domain")
        }
        if let observed = evidence.receiverAddress, observed.family == family, observed != client,
            Self.isUsable(observed)
        {
            receiverAddress = observed
        } else {
            var candidate = family == .ipv6 ? IPAddress("2001:db8::10")! : IPAddress("192.0.2.10")!
            if candidate == client {
                candidate = family == .ipv6 ? IPAddress("2001:db8::11")! : IPAddress("192.0.2.11")!
            }
            receiverAddress = candidate
            assume(
                "receiver.addresses", candidate.description,
                evidence.receiverAddress.map {
                    $0.family != family
                        ? "the observed MX address \($0) is not of the client's family (\(family.rawValue)), which decides the attempt"
                        : "the observed MX address \($0) cannot be used"
                } ?? "the input does not say where the MX listens; a documentation address of the client's family")
        }

        clientName = evidence.clientName.flatMap {
            $0 != "unknown" && DNSName.isValidHostname($0) && $0.contains(".") ? $0 : nil
        }
        if let observed = evidence.helo.map({ String($0.split(separator: " ").first ?? "") }), !observed.isEmpty,
            Self.isPrintable(observed)
        {
            helo = observed
        } else if let clientName {
            helo = clientName
            assume(
                "sender.helo", helo,
                "the input has no HELO; the client's host name, as MTAs say HELO with their own name")
        } else {
            helo = "mail.sender.test"
            assume("sender.helo", helo, "the input has no HELO")
        }
        if let observed = evidence.mailFrom, observed.isEmpty || Self.isUsableMailbox(observed) {
            mailFrom = observed
        } else {
            let labels = helo.split(separator: ".")
            let domain =
                labels.count >= 3 && DNSName.isValidHostname(helo)
                ? labels.dropFirst().joined(separator: ".") : "sender.test"
            mailFrom = "postmaster@" + domain
            assume(
                "sender.mail_from", mailFrom,
                evidence.mailFrom == nil
                    ? "the input has no envelope sender"
                    : "the envelope sender \(evidence.mailFrom!) is not a usable address")
        }
    }

    /// Names the written world gives records to (a HELO check's name must not be one of them).
    var namesWithRecords: Set<String> {
        var names: Set<String> = [DNSName.normalize(rcptDomain), DNSName.normalize(receiverName)]
        if let clientName { names.insert(DNSName.normalize(clientName)) }
        return names
    }

    /// `dns.records` (and `dns.faults`) lines that make the diagnosed check fail for this client, with
    /// a comment for each.
    func records(for diagnosis: Diagnosis, helo: String, senderDomain: String) -> (records: [String], faults: [String])
    {
        var out: [String] = ["    # The MX the recipient domain names:"]
        out.append(
            "    - \(YAMLText.record(ResourceRecord(owner: rcptDomain, data: .mx(preference: 10, exchange: receiverName))))"
        )
        let family = client.family
        out.append(
            "    - \(YAMLText.record(ResourceRecord(owner: receiverName, data: family == .ipv6 ? .aaaa(receiverAddress) : .a(receiverAddress))))"
        )
        var faults: [String] = []
        let check = diagnosis.check
        if let clientName, check != .fcrdns, check != .ptr {
            out.append(
                "    # the receiver logged the client as \(clientName), a name it shows only once the PTR is forward-confirmed:"
            )
            out.append("    - \(YAMLText.record(ResourceRecord(owner: client.reverseName, data: .ptr(clientName))))")
            out.append(
                "    - \(YAMLText.record(ResourceRecord(owner: clientName, data: family == .ipv6 ? .aaaa(client) : .a(client))))"
            )
        }
        switch check {
        case .ptr?, .fcrdns?:
            out.append(
                "    # No PTR for \(client): the check fails as the reply says (a PTR whose name does not resolve back fails fcrdns too)."
            )
        case .dnsbl(let zone)?:
            let listing = (client.reversedLabels + [zone]).joined(separator: ".")
            out.append(
                diagnosis.standIn
                    ? "    # A stand-in listing that plays the receiver's decision (its cause is not in DNS):"
                    : "    # The reply says the client is listed in \(zone); 127.0.0.2 is the usual listing code:")
            out.append("    - \(YAMLText.record(ResourceRecord(owner: listing, data: .a(IPAddress("127.0.0.2")!))))")
        case .spf? where diagnosis.dnsError:
            out.append("    # The SPF walk of \(senderDomain) fails with a DNS error (temperror):")
            faults.append("    - {name: \(YAMLText.scalar(senderDomain)), fault: servfail}")
        case .spf? where diagnosis.permerror:
            out.append("    # Two SPF records for \(senderDomain): permerror (RFC 7208 4.5):")
            out.append(
                "    - \(YAMLText.record(ResourceRecord(owner: senderDomain, data: .txt([Array("v=spf1 -all".utf8)]))))"
            )
            out.append(
                "    - \(YAMLText.record(ResourceRecord(owner: senderDomain, data: .txt([Array("v=spf1 ~all".utf8)]))))"
            )
        case .spf?:
            out.append("    # An SPF record of \(senderDomain) that does not list \(client): SPF fails:")
            out.append(
                "    - \(YAMLText.record(ResourceRecord(owner: senderDomain, data: .txt([Array("v=spf1 -all".utf8)]))))"
            )
        case .spfPass?:
            out.append("    # No SPF record for \(senderDomain): SPF is none, which does not pass.")
        case .heloResolves?, .heloMatches?:
            out.append("    # No A, AAAA or MX for the HELO name \(helo): the check fails.")
        case .spfOrDKIM?:
            out.append("    # No SPF record for \(senderDomain) and no sender.dkim: neither SPF nor DKIM passes.")
        case .heloValid?, .heloFQDN?, .dkim?, .dmarc?, nil:
            break
        }
        return (out, faults)
    }

    /// A HELO that fails `check` when `helo` would pass it; nil when `helo` fails it already (or the
    /// check does not look at the HELO).
    static func failingHELO(for check: Check, helo: String, avoiding names: Set<String>) -> String? {
        switch check {
        case .heloFQDN:
            return PolicySession.isFullyQualified(helo) ? "localhost" : nil
        case .heloValid:
            return PolicySession.isValidHELO(helo) ? "-invalid-" : nil
        case .heloResolves, .heloMatches:
            if PolicySession.literalAddress(helo) != nil || names.contains(DNSName.normalize(helo))
                || !DNSName.isValidHostname(helo)
            {
                return "nohost.sender.test"
            }
            return nil
        default:
            return nil
        }
    }

    /// A reply as the world can send it: printable ASCII, white space runs as one space.
    static func sanitized(_ reply: SMTPReply) -> SMTPReply {
        SMTPReply(code: reply.code, enhanced: reply.enhanced, ReplyText.balanced(printable(reply.text)))
    }

    /// RFC 5321 4.2.2's text for a code (RFC 7504 for 521 and 556), for a reply the input gives
    /// without one.
    static func standardText(_ code: Int) -> String {
        switch code {
        case 421: "Service not available, closing transmission channel"
        case 450: "Requested mail action not taken: mailbox unavailable"
        case 451: "Requested action aborted: local error in processing"
        case 452: "Requested action not taken: insufficient system storage"
        case 455: "Server unable to accommodate parameters"
        case 500: "Syntax error, command unrecognized"
        case 501: "Syntax error in parameters or arguments"
        case 502: "Command not implemented"
        case 503: "Bad sequence of commands"
        case 504: "Command parameter not implemented"
        case 521: "Host does not accept mail"
        case 550: "Requested action not taken: mailbox unavailable"
        case 551: "User not local"
        case 552: "Requested mail action aborted: exceeded storage allocation"
        case 553: "Requested action not taken: mailbox name not allowed"
        case 554: "Transaction failed"
        case 555: "MAIL FROM/RCPT TO parameters not recognized or not implemented"
        case 556: "Domain does not accept mail"
        default: code >= 500 ? "Requested action not taken" : "Requested action aborted"
        }
    }

    static func printable(_ text: String) -> String {
        let ascii = String(
            text.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7f ? Character($0) : " " })
        return ascii.split(whereSeparator: { $0 == " " }).joined(separator: " ")
    }

    static func isPrintable(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { $0.isASCII && $0.value > 0x20 && $0.value < 0x7f }
    }

    /// An address a namespace can give a sender or an MX: not loopback, unspecified, link-local
    /// or multicast.
    static func isUsable(_ address: IPAddress) -> Bool {
        let text = address.description.lowercased()
        if address.family == .ipv4 {
            let first = Int(text.split(separator: ".").first ?? "") ?? 0
            return first != 0 && first != 127 && !(224...255).contains(first) && !text.hasPrefix("169.254.")
        }
        return text != "::" && text != "::1" && !text.hasPrefix("fe8") && !text.hasPrefix("fe9")
            && !text.hasPrefix("fea")
            && !text.hasPrefix("feb") && !text.hasPrefix("ff") && !text.hasPrefix("::ffff:")
    }

    /// `local@domain` with a domain that is a valid host name.
    static func isUsableMailbox(_ address: String) -> Bool {
        guard isPrintable(address), let at = address.lastIndex(of: "@"), at != address.startIndex else { return false }
        let domain = String(address[address.index(after: at)...])
        return DNSName.isValidHostname(domain) && domain.contains(".") && !address.contains("<")
            && !address.contains(">")
    }
}
