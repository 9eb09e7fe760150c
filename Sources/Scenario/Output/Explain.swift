import DNSCore
import Policy
import SMTPProtocol
import Yams

/// The merged case as YAML, as the runner sees it (for `mxharness explain`): includes and variants
/// merged, defaults filled in, a preset shown as its checks, records in zone-file form. The YAML part
/// loads back as the same case; comment lines above it say what the YAML cannot.
public func explain(_ scenario: ScenarioCase) -> String {
    var notes = ["# \(scenario.name) (\(scenario.location))"]
    if let preset = scenario.receiver.policy.preset {
        notes.append("# receiver.policy: preset \(preset.rawValue), shown as its checks")
        if !scenario.receiver.policy.customReplies.isEmpty {
            notes.append("#   with the preset's own reply texts (see the format's Presets table)")
        }
        if let settings = preset.postfixSettings {
            for key in settings.keys.sorted() {
                notes.append("#   for target postfix: \(key) = \(settings[key] ?? "")")
            }
        } else if (preset.policy.ipv4 + preset.policy.ipv6).contains(where: \.needsMessage) {
            notes.append(
                "#   for target postfix: OpenDKIM and OpenDMARC as milters, a decision milter answering the preset's replies"
            )
        } else if let reason = preset.postfixUnsupportedReason {
            notes.append("#   for target postfix: skipped (\(reason))")
        }
    }
    if scenario.receiver.target == nil {
        notes.append("# receiver.target: builtin unless the runner's --target says otherwise")
    }
    if scenario.dns.reverse == .auto {
        let added = scenario.dns.effectiveRecords.dropFirst(Set(scenario.dns.records).count)
        notes.append(
            added.isEmpty ? "# dns.reverse auto adds no PTR (every A/AAAA address has one)" : "# dns.reverse auto adds:"
        )
        for record in added { notes.append("#   \(record)") }
    }
    if scenario.sender.message?.raw != nil {
        notes.append("# sender.message.raw: sent after DATA byte for byte, its own end of data included")
    } else if scenario.sender.message?.headers == nil {
        notes.append(
            "# sender.message: \(scenario.sender.message == nil ? "the default message" : "default headers"): From, To, Subject, Date, Message-ID from the envelope"
        )
    }

    var top: [(Node, Node)] = [("name", .plain(scenario.name))]
    if let description = scenario.description { top.append(("description", .plain(description))) }
    if !scenario.tags.isEmpty { top.append(("tags", .flowList(scenario.tags.map(Node.plain)))) }
    top.append(("dns", dnsNode(scenario.dns)))
    top.append(("receiver", receiverNode(scenario.receiver)))
    top.append(("sender", senderNode(scenario.sender)))
    top.append(("expect", expectNode(scenario.expect)))
    let body: String
    do {
        body = try Yams.serialize(node: .blockMap(top), indent: 2, width: -1, allowUnicode: true)
    } catch {
        body = "# cannot write this case as YAML: \(error)\n"
    }
    return notes.joined(separator: "\n") + "\n" + body
}

/// One line per case for `mxharness list`: name, tags, and the first line of the description.
public func listing(_ cases: [ScenarioCase]) -> String {
    let rows = cases.map { scenario -> [String] in
        let tags = scenario.tags.isEmpty ? "-" : scenario.tags.joined(separator: ",")
        let description = (scenario.description ?? "").split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return [scenario.name, tags, description]
    }
    let nameWidth = rows.map { $0[0].count }.max() ?? 0
    let tagWidth = rows.map { $0[1].count }.max() ?? 0
    return rows.map { row in
        let line =
            row[0].padding(toLength: nameWidth, withPad: " ", startingAt: 0) + "  "
            + row[1].padding(toLength: tagWidth, withPad: " ", startingAt: 0) + "  " + row[2]
        return String(line.reversed().drop(while: { $0 == " " }).reversed())
    }.joined(separator: "\n")
}

private func dnsNode(_ dns: WorldSpec) -> Node {
    var pairs: [(Node, Node)] = [("records", .blockList(dns.records.map { .plain($0.description) }))]
    if !dns.faults.isEmpty {
        pairs.append(
            (
                "faults",
                .blockList(
                    dns.faults.map { fault in
                        .flowMap([("name", .plain(fault.name)), ("fault", .plain(fault.kind.rawValue))])
                    })
            ))
    }
    pairs.append(("reverse", .plain(dns.reverse.rawValue)))
    if dns.isSigned || !dns.zones.isEmpty { pairs.append(("dnssec", .plain(dns.dnssec.rawValue))) }
    if !dns.zones.isEmpty {
        pairs.append(
            (
                "zones",
                .blockList(
                    dns.zones.map { zone in
                        .flowMap([
                            ("zone", .plain(DNSName.absolute(zone.name))), ("state", .plain(zone.state.rawValue)),
                        ])
                    })
            ))
    }
    return .blockMap(pairs)
}

private func receiverNode(_ receiver: ReceiverSpec) -> Node {
    var pairs: [(Node, Node)] = [
        ("hostname", .plain(receiver.hostname)),
        ("addresses", .flowList(receiver.addresses.map { .plain($0.description) })),
    ]
    if let target = receiver.target { pairs.append(("target", .plain(target.rawValue))) }
    let policy = receiver.policy
    pairs.append(
        (
            "policy",
            .blockMap(
                [
                    ("ipv4", .flowList(policy.ipv4.map { .plain($0.name) })),
                    ("ipv6", .flowList(policy.ipv6.map { .plain($0.name) })),
                    ("reject_at", .plain(policy.rejectAt.rawValue)),
                    ("on_fail", .plain(policy.onFail.rawValue)),
                ]
                    + (policy.siteReply.map { site in
                        [
                            (
                                Node.plain("reply"),
                                Node.flowMap(
                                    [("code", .plain(String(site.code)))]
                                        + (site.enhanced.map { [(Node.plain("enhanced"), Node.plain($0))] } ?? [])
                                        + [("text", .plain(site.text))])
                            )
                        ]
                    } ?? []))
        ))
    if let mode = receiver.bareNewline { pairs.append(("bare_newline", .plain(mode.rawValue))) }
    if receiver.resolver != .nonValidating { pairs.append(("resolver", .plain(receiver.resolver.rawValue))) }
    if let proxy = receiver.proxyProtocol { pairs.append(("proxy_protocol", .plain(proxy.rawValue))) }
    if !receiver.xclientHosts.isEmpty {
        pairs.append(("xclient_hosts", .flowList(receiver.xclientHosts.map { .plain($0.description) })))
    }
    if receiver.tls != .off {
        let tls = receiver.tls
        var entries: [(Node, Node)] = [
            ("starttls", .plain(String(tls.starttls))), ("required", .plain(String(tls.required))),
            ("certificate", .plain(tls.certificate.rawValue)),
            ("names", .flowList((tls.names ?? [receiver.hostname]).map(Node.plain))),
        ]
        if let protocols = tls.protocols {
            entries.append(("protocols", .flowList(ReceiverTLSSpec.names(of: protocols).map(Node.plain))))
        }
        if !tls.listeners.isEmpty {
            entries.append(
                (
                    "listeners",
                    .flowList(
                        tls.listeners.map { listener in
                            var pairs: [(Node, Node)] = [("address", .plain(listener.address.description))]
                            if let kind = listener.certificate { pairs.append(("certificate", .plain(kind.rawValue))) }
                            if let names = listener.names { pairs.append(("names", .flowList(names.map(Node.plain)))) }
                            return .flowMap(pairs)
                        })
                ))
        }
        pairs.append(("tls", .flowMap(entries)))
    }
    if !receiver.engines.isEmpty { pairs.append(("engines", .flowList(receiver.engines.map { .plain($0.rawValue) }))) }
    if !receiver.rspamd.isEmpty {
        pairs.append(
            (
                "rspamd",
                .flowMap(
                    receiver.rspamd.scores.keys.sorted().map { action in
                        (Node.plain(action.rawValue), Node.plain(RspamdThresholds.text(receiver.rspamd[action] ?? 0)))
                    })
            ))
    }
    pairs += kindNodes(receiver.settings)
    return .blockMap(pairs)
}

private func senderNode(_ sender: SenderSpec) -> Node {
    let addresses = AddressFamily.allCases.compactMap { family in
        sender.addresses[family].map { (Node.plain(family.rawValue), Node.plain($0.description)) }
    }
    var pairs: [(Node, Node)] = []
    if let mta = sender.mta { pairs.append(("mta", .plain(mta.rawValue))) }
    pairs += [
        ("addresses", .flowMap(addresses)),
        ("prefer", .plain(sender.prefer.rawValue)),
        ("helo", .plain(sender.helo)),
        ("mail_from", .plain(sender.mailFrom)),
        ("rcpt_to", .flowList(sender.rcptTo.map(Node.plain))),
    ]
    if sender.identity != .socket { pairs.append(("identity", .plain(sender.identity.rawValue))) }
    if sender.proxy != .model { pairs.append(("proxy", .plain(sender.proxy.rawValue))) }
    let proxies = AddressFamily.allCases.compactMap { sender.proxyAddresses[$0] }
    if !proxies.isEmpty { pairs.append(("proxy_address", .flowList(proxies.map { .plain($0.description) }))) }
    if let name = sender.xclientName { pairs.append(("xclient_name", .plain(name))) }
    if sender.tls != .none { pairs.append(("tls", .plain(sender.tls.rawValue))) }
    if sender.resolver != .nonValidating { pairs.append(("resolver", .plain(sender.resolver.rawValue))) }
    switch sender.relay {
    case .mx: pairs.append(("relay", "mx"))
    case .host(let name): pairs.append(("relay", .flowMap([("host", .plain(name))])))
    }
    if let message = sender.message {
        var parts: [(Node, Node)] = []
        if let headers = message.headers {
            parts.append(("headers", .blockMap(headers.map { (Node.plain($0.name), Node.plain($0.value)) })))
        }
        if let body = message.body { parts.append(("body", .plain(body))) }
        if let raw = message.raw { parts.append(("raw", .plain(raw))) }
        pairs.append(("message", .blockMap(parts)))
    }
    pairs += kindNodes(sender.settings)
    return .blockMap(pairs)
}

private func expectNode(_ expect: Expectation) -> Node {
    var pairs: [(Node, Node)] = []
    if let outcome = expect.outcome { pairs.append(("outcome", .plain(outcome.rawValue))) }
    if let family = expect.family { pairs.append(("family", .plain(family.rawValue))) }
    if let stage = expect.stage { pairs.append(("stage", .plain(stage.rawValue))) }
    if let code = expect.code { pairs.append(("code", .plain(code.pattern))) }
    if let enhanced = expect.enhanced { pairs.append(("enhanced", .plain(enhanced.description))) }
    if let text = expect.text { pairs.append(("text", .plain(text.description))) }
    if let count = expect.messagesAccepted { pairs.append(("messages_accepted", .plain(String(count)))) }
    if let tls = expect.tls { pairs.append(("tls", .plain(String(tls)))) }
    if let attempts = expect.attempts {
        pairs.append(
            (
                "attempts",
                .blockList(
                    attempts.map { attempt in
                        var entry: [(Node, Node)] = [
                            ("family", .plain(attempt.family.rawValue)), ("result", .plain(attempt.result.rawValue)),
                        ]
                        if let code = attempt.code { entry.append(("code", .plain(code.pattern))) }
                        if let enhanced = attempt.enhanced { entry.append(("enhanced", .plain(enhanced.description))) }
                        if let stage = attempt.stage { entry.append(("stage", .plain(stage.rawValue))) }
                        return .flowMap(entry)
                    })
            ))
    }
    return .blockMap(pairs)
}

/// The kinds' own keys, by name, as each writes its value.
private func kindNodes(_ settings: [String: any PartSettings]) -> [(Node, Node)] {
    settings.keys.sorted().compactMap { key in
        settings[key]?.explained.map { (Node.plain(key), Node($0)) }
    }
}

extension Node {
    fileprivate init(_ value: ExplainedValue) {
        switch value {
        case .plain(let text): self = .plain(text)
        case .flowList(let items): self = .flowList(items.map(Node.init))
        case .flowMap(let entries): self = .flowMap(entries.map { (Node.plain($0.key), Node($0.value)) })
        case .blockMap(let entries): self = .blockMap(entries.map { (Node.plain($0.key), Node($0.value)) })
        }
    }

    /// A string; the emitter quotes it only when plain YAML cannot hold it, and it is quoted here
    /// when plain it would read as null (the empty null sender `""` above all).
    fileprivate static func plain(_ text: String) -> Node {
        let readsAsNull = ["", "~", "null", "Null", "NULL"].contains(text)
        return .scalar(Node.Scalar(text, Tag(.str), readsAsNull ? .doubleQuoted : .any))
    }

    fileprivate static func flowList(_ items: [Node]) -> Node {
        .sequence(Node.Sequence(items, Tag(.seq), .flow))
    }

    fileprivate static func blockList(_ items: [Node]) -> Node {
        .sequence(Node.Sequence(items, Tag(.seq), .block))
    }

    fileprivate static func flowMap(_ pairs: [(Node, Node)]) -> Node {
        .mapping(Node.Mapping(pairs, Tag(.map), .flow))
    }

    fileprivate static func blockMap(_ pairs: [(Node, Node)]) -> Node {
        .mapping(Node.Mapping(pairs, Tag(.map), .block))
    }
}
