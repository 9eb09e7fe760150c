import DNSCore
import Foundation
import Policy
import Scenario

/// What a captured world is written with: where it came from, and what the scenario should assert.
public struct CapturedScenarioOptions: Sendable {
    /// The resolver the answers came from, as the user gave it.
    public var resolver: String
    public var capturedAt: Date
    /// The scenario whose receiver policy, expectation, name and description the captured world goes
    /// with (a `mxharness repro` file); nil writes `policy: open` and `expect: {}` with TODO comments.
    public var complaint: ScenarioCase?

    public init(resolver: String, capturedAt: Date = Date(), complaint: ScenarioCase? = nil) {
        self.resolver = resolver
        self.capturedAt = capturedAt
        self.complaint = complaint
    }
}

extension CapturedWorld {
    /// The captured world as a scenario file: `dns.records` and `dns.faults` as answered, a comment for
    /// every answer that is no record, the receiver listening on every address of the recipient
    /// domain's MX hosts, and the sender as given.
    public func scenarioYAML(_ options: CapturedScenarioOptions) -> String {
        let request = self.request
        var out: [String] = []
        let stamp = ISO8601DateFormatter().string(from: options.capturedAt)
        out.append("# Captured by mxharness capture from resolver \(options.resolver) at \(stamp), for a delivery")
        out.append(
            "# from \(request.client) (HELO \(request.helo)), <\(request.mailFrom)> to \(request.rcptTo.map { "<\($0)>" }.joined(separator: ", "))."
        )
        out.append(
            "# Every record below is what that resolver answered; the comments say what it answered instead of records."
        )
        out.append("# SPF for this delivery over these answers: \(spfVerdict).")
        if let complaint = options.complaint {
            out.append("# Receiver policy and expect are those of \(complaint.name) (\(complaint.location.file)).")
        }
        if security.isEmpty {
            out.append("# DNSSEC: the resolver authenticated no answer (no AD bit) and reported none bogus.")
        } else {
            out.append(
                "# DNSSEC as the resolver reported it (a replay with dns.dnssec: signed and dns.zones can model it):")
            for state in security { out += YAMLText.comment("  " + state.description, indent: 0) }
        }
        let name =
            options.complaint.map { $0.name + "-captured" }
            ?? "captured-\(request.client.family.rawValue)-\(request.spfDomain)"
        out.append(
            "name: \(YAMLText.scalar(name.map { $0.isLetter || $0.isNumber || "-._/".contains($0) ? $0 : "-" }.reduce(into: "") { $0.append($1) }))"
        )
        let description =
            options.complaint?.description
            ?? "The DNS of a delivery from \(request.client) to \(request.rcptTo.first ?? ""), captured at \(stamp)."
        out.append("description: \(YAMLText.quoted(description))")
        out.append("tags: [captured, \(request.client.family.rawValue)]")
        out.append("")
        out.append("dns:")
        out.append("  records:")
        var notesByName: [String: [CaptureNote]] = [:]
        for note in notes { notesByName[note.name, default: []].append(note) }
        var written = Set<String>()
        for record in records {
            if written.insert(record.owner).inserted, let attached = notesByName[record.owner] {
                for note in attached { out += YAMLText.comment(note.description, indent: 4) }
            }
            out.append("    - \(YAMLText.record(record))")
        }
        for note in notes where !written.contains(note.name) {
            out += YAMLText.comment(note.description, indent: 4)
        }
        if !faults.isEmpty {
            out.append("  faults:")
            for fault in faults {
                out.append("    - {name: \(YAMLText.scalar(fault.name)), fault: \(fault.kind.rawValue)}")
            }
        }
        out.append("")
        out.append("receiver:")
        var addresses: [IPAddress] = []
        for exchanger in exchangers {
            for address in exchanger.addresses where !addresses.contains(address) { addresses.append(address) }
        }
        let hostname = exchangers.first?.name ?? options.complaint?.receiver.hostname ?? "mx.example.test"
        out.append("  hostname: \(YAMLText.scalar(hostname))")
        if addresses.isEmpty {
            let fallback =
                options.complaint?.receiver.addresses ?? [
                    request.client.family == .ipv6 ? IPAddress("2001:db8::10")! : IPAddress("192.0.2.10")!
                ]
            out.append(
                "  # TODO: the recipient domain's MX has no address in this capture; the MX listens here instead:")
            addresses = fallback
        } else if exchangers.count > 1 {
            out.append("  # every MX host's addresses: one receiver with one policy answers on all of them")
        }
        out.append("  addresses: [\(addresses.map { YAMLText.quoted($0.description) }.joined(separator: ", "))]")
        if let complaint = options.complaint {
            out.append("  policy: \(ScenarioYAML.policy(complaint.receiver.policy))")
        } else {
            out.append(
                "  policy: open  # TODO: the receiver's policy (mxharness repro finds it from the bounce; or --complaint FILE)"
            )
        }
        out.append("")
        out.append("sender:")
        out.append("  addresses: {\(request.client.family.rawValue): \(YAMLText.quoted(request.client.description))}")
        out.append("  helo: \(YAMLText.scalar(request.helo))")
        out.append("  mail_from: \(request.mailFrom.isEmpty ? "\"\"" : YAMLText.scalar(request.mailFrom))")
        out.append("  rcpt_to: [\(request.rcptTo.map(YAMLText.scalar).joined(separator: ", "))]")
        out.append("")
        let expect = options.complaint.map { ScenarioYAML.expect($0.expect) } ?? []
        if expect.isEmpty {
            out.append(
                "expect: {}  # TODO: what happened (mxharness repro fills it from the bounce; or --complaint FILE)")
        } else {
            out += expect
        }
        return out.joined(separator: "\n") + "\n"
    }
}
