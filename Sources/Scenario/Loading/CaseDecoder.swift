import DNSCore
import Foundation
import Policy
import SMTPProtocol

/// Turns one merged scenario tree into a `ScenarioCase`, reporting every problem it finds (it does not
/// stop at the first). Each map of the format is read by a `MapReader`: the keys it asks for are the
/// format's keys there, so a new key is one `optional(...)` line.
struct CaseDecoder {
    let diagnostics: Diagnostics
    /// The receiver and sender names, and the kinds' own keys, the loader was given.
    let kinds: ScenarioKinds
    var read: Reader { Reader(diagnostics: diagnostics) }

    init(_ diagnostics: Diagnostics, kinds: ScenarioKinds = .core) {
        self.diagnostics = diagnostics
        self.kinds = kinds
    }

    /// Top-level keys handled by the loader before decoding (merging, naming).
    static let loaderKeys = ["name", "include", "variants"]

    func decode(_ tree: Tree, name: String, location: SourceLocation, expectHint: String) -> ScenarioCase? {
        guard let top = MapReader(tree, .root, diagnostics, what: "a scenario") else { return nil }
        top.accept("name", "include")
        let description = top.optional("description").flatMap { read.string($0, .root.key("description")) }
        let tags = top.optional("tags").map { tagList($0, .root.key("tags")) } ?? []
        let dns = top.required("dns", "the DNS world (dns: {records: [...]})").flatMap { world($0, .root.key("dns")) }
        let receiver = top.required("receiver", "the MX under test (receiver: {addresses: [...]})").flatMap {
            receiverSpec($0, .root.key("receiver"))
        }
        let sender = top.required("sender", "the sending MTA (sender: {addresses, helo, mail_from, rcpt_to})").flatMap {
            senderSpec($0, .root.key("sender"))
        }
        let expect = top.required("expect", expectHint).flatMap { expectation($0, .root.key("expect")) }
        top.accept("variants")
        top.finish()
        guard let tags, let dns, let receiver, let sender, let expect else { return nil }
        guard checkProxyAgainstReceiver(tree, sender: sender, receiver: receiver) else { return nil }
        return ScenarioCase(
            name: name, description: description.map(Self.trimmed), tags: tags, location: location,
            dns: dns, receiver: receiver, sender: sender, expect: expect)
    }

    private static func trimmed(_ text: String) -> String {
        text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func tagList(_ tree: Tree, _ path: KeyPath) -> [String]? {
        read.list(tree, path, what: "a list of strings") { read.nonEmptyString($0, $1, what: "a tag") }
    }

    // MARK: dns

    func world(_ tree: Tree, _ path: KeyPath) -> WorldSpec? {
        guard let map = MapReader(tree, path, diagnostics, what: "the DNS world") else { return nil }
        let records =
            map.optional("records").map {
                read.list($0, path.key("records"), what: "a list of zone-file lines") { record($0, $1) }
            } ?? []
        let faults =
            map.optional("faults").map {
                read.list($0, path.key("faults"), what: "a list of faults ({name: NAME, fault: KIND})") {
                    fault($0, $1)
                }
            } ?? []
        let reverse =
            map.optional("reverse").map {
                choice($0, path.key("reverse"), "reverse mode", names: ["auto", "none"], ReverseMode.init(rawValue:))
            } ?? ReverseMode.none
        let dnssec =
            map.optional("dnssec").map { read.choice($0, path.key("dnssec"), "DNSSEC mode", DNSSECMode.self) }
            ?? .unsigned
        let zonesTree = map.optional("zones")
        let zones =
            zonesTree.map {
                read.list($0, path.key("zones"), what: "a list of zones ({zone: NAME, state: STATE})") { zone($0, $1) }
            } ?? []
        map.finish()
        guard let records, let faults, let reverse, let dnssec, let zones else { return nil }
        let world = WorldSpec(
            records: records, faults: faults, reverse: reverse, dnssec: dnssec, zones: zones.map(\.declaration))
        guard checkZones(zones, in: world, path.key("zones")) else { return nil }
        return world
    }

    func record(_ item: Tree, _ path: KeyPath) -> ResourceRecord? {
        if let entries = item.entries, entries.count == 1 {
            // `- 2001:db8:: PTR x.` is a map to YAML (": " after the address).
            diagnostics.add(
                .wrongType, at: item.location, path,
                "expected a zone-file line, found a map: YAML reads \": \" inside a plain line as a key; quote the whole line"
            )
            return nil
        }
        guard case .scalar(let line, false, let verbatim) = item.value else {
            diagnostics.add(
                .wrongType, at: item.location, path,
                "expected a zone-file line such as \"mx.example.test. A 192.0.2.10\", found \(item.kindName)")
            return nil
        }
        do {
            return try ZoneLine.parse(line)
        } catch {
            var location = item.location
            var message = "bad record \"\(Tree.clip(line))\": \(error.message)"
            if verbatim {
                location.column += Self.scalarOffset(in: line, utf8Column: error.column)
            } else {
                message += " (at column \(error.column) of the record)"
            }
            diagnostics.add(.invalidValue, at: location, path, message)
            return nil
        }
    }

    /// ZoneSyntaxError columns count UTF-8 bytes; YAML marks count Unicode scalars.
    static func scalarOffset(in line: String, utf8Column: Int) -> Int {
        var bytes = 0, scalars = 0
        for scalar in line.unicodeScalars {
            if bytes >= utf8Column - 1 { break }
            bytes += UTF8.width(scalar)
            scalars += 1
        }
        return scalars + max(0, utf8Column - 1 - bytes)
    }

    func fault(_ item: Tree, _ path: KeyPath) -> DNSFault? {
        guard let map = MapReader(item, path, diagnostics, what: "a fault ({name: NAME, fault: KIND})") else {
            return nil
        }
        let name = map.required("name", "the name whose queries fail (and every name below it)").flatMap {
            tree -> String? in
            guard let text = read.nonEmptyString(tree, path.key("name"), what: "a domain name") else { return nil }
            guard DNSName.isValidHostname(text) else {
                diagnostics.add(
                    .invalidValue, at: tree.location, path.key("name"),
                    "\"\(Tree.clip(text))\" is not a valid domain name")
                return nil
            }
            return text
        }
        let kind = map.required(
            "fault", "what queries get: \(DNSFaultKind.allCases.map(\.rawValue).joined(separator: ", "))"
        ).flatMap {
            read.choice($0, path.key("fault"), "fault kind", DNSFaultKind.self)
        }
        map.finish()
        guard let name, let kind else { return nil }
        return DNSFault(name: name, kind: kind)
    }

    // MARK: receiver

    func receiverSpec(_ tree: Tree, _ path: KeyPath) -> ReceiverSpec? {
        guard let map = MapReader(tree, path, diagnostics, what: "the receiver") else { return nil }
        let hostname =
            map.optional("hostname").map { read.nonEmptyString($0, path.key("hostname"), what: "a host name") }
            ?? ReceiverSpec.defaultHostname
        let addresses = map.required("addresses", "where the MX listens (addresses: [192.0.2.10, \"2001:db8::10\"])")
            .flatMap { tree -> [IPAddress]? in
                guard
                    let list = read.list(
                        tree, path.key("addresses"), what: "a list of IP addresses", item: { read.address($0, $1) })
                else { return nil }
                guard !list.isEmpty else {
                    diagnostics.add(
                        .invalidValue, at: tree.location, path.key("addresses"),
                        "the MX needs at least one address to listen on")
                    return nil
                }
                return list
            }
        let target: ReceiverTarget?? = map.optional("target").map {
            choice(
                $0, path.key("target"), "receiver target", names: kinds.receivers.map(\.rawValue),
                ReceiverTarget.init(rawValue:))
        }
        let policy = map.optional("policy").map { receiverPolicy($0, path.key("policy")) } ?? Preset.open.policy
        let settings = kindSettings(map, path, .receiver, kind: (target ?? nil)?.rawValue)
        let bareNewline = map.optional("bare_newline").map {
            choice(
                $0, path.key("bare_newline"), "bare newline mode", names: SMTPBareNewlineMode.names,
                SMTPBareNewlineMode.init(postfixName:))
        }
        let identity = receiverIdentity(map, path)
        let tls: ReceiverTLSSpec?? = map.optional("tls").map { receiverTLS($0, path.key("tls"), addresses: addresses) }
        let engines = receiverEngines(map, path)
        let resolver =
            map.optional("resolver").map { read.choice($0, path.key("resolver"), "resolver", ResolverValidation.self) }
            ?? .nonValidating
        map.finish()
        guard let hostname, let addresses, let policy, let settings, let identity, let engines,
            let resolver
        else { return nil }
        if case .some(.none) = tls { return nil }
        if case .some(.none) = target { return nil }
        if case .some(.none) = bareNewline { return nil }
        guard hasKindKeys(map, path, .receiver, kindKey: "target", kind: (target ?? nil)?.rawValue, settings)
        else { return nil }
        var spec = ReceiverSpec(
            hostname: hostname, addresses: addresses, target: target ?? nil, policy: policy,
            bareNewline: bareNewline ?? nil,
            proxyProtocol: identity.proxyProtocol, xclientHosts: identity.xclientHosts)
        spec.settings = settings
        spec.tls = (tls ?? nil) ?? .off
        spec.engines = engines.engines
        spec.rspamd = engines.rspamd
        spec.resolver = resolver
        return spec
    }

    // MARK: sender

    func senderSpec(_ tree: Tree, _ path: KeyPath) -> SenderSpec? {
        guard let map = MapReader(tree, path, diagnostics, what: "the sender") else { return nil }
        let addresses = map.required("addresses", "the source address per family ({ipv4: IP, ipv6: IP}, at least one)")
            .flatMap {
                sourceAddresses($0, path.key("addresses"))
            }
        let prefer =
            map.optional("prefer").map { read.choice($0, path.key("prefer"), "family", AddressFamily.self) } ?? .ipv6
        let helo = map.required(
            "helo", "the EHLO argument (a host name or an address literal such as [IPv6:2001:db8::25])"
        ).flatMap {
            read.nonEmptyString($0, path.key("helo"), what: "an EHLO argument")
        }
        let mailFrom = map.required("mail_from", "the envelope sender (\"\" for the null sender <>)").flatMap {
            tree -> String? in
            guard let text = read.string(tree, path.key("mail_from"), what: "an address (\"\" for the null sender)")
            else { return nil }
            return text == "<>" ? "" : text
        }
        let rcptTo = map.required("rcpt_to", "the envelope recipients (an address or a list)").flatMap {
            recipients($0, path.key("rcpt_to"))
        }
        let relay = map.optional("relay").map { relaySpec($0, path.key("relay")) } ?? .mx
        let message = map.optional("message").map { messageSpec($0, path.key("message")) }
        let mta: SenderMTA?? = map.optional("mta").map {
            choice($0, path.key("mta"), "sending MTA", names: kinds.senders.map(\.rawValue), SenderMTA.init(rawValue:))
        }
        let settings = kindSettings(map, path, .sender, kind: (mta ?? nil)?.rawValue)
        let dkimTree = map.optional("dkim")
        let dkim = dkimTree.map { dkimSpec($0, path.key("dkim")) }
        let proxyKey = map.optional("proxy")
        let proxy: SenderProxy?? = proxyKey.map { read.choice($0, path.key("proxy"), "proxy", SenderProxy.self) }
        let identity = senderIdentity(
            map, path, addresses: addresses, proxy: (proxy ?? nil) ?? .model, proxyKey: proxyKey)
        let tlsTree = map.optional("tls")
        let tls: TLSSecurityLevel?? = tlsTree.map {
            read.choice(
                $0, path.key("tls"), "TLS security level (Postfix smtp_tls_security_level)", TLSSecurityLevel.self)
        }
        let resolver =
            map.optional("resolver").map { read.choice($0, path.key("resolver"), "resolver", ResolverValidation.self) }
            ?? .nonValidating
        map.finish()
        if case .some(nil) = tls { return nil }
        if case .some(nil) = proxy { return nil }
        if let tlsTree, case .some(.some(.dane)) = tls, let resolver, resolver != .validating {
            // Format 1.2: TLSA records count only when a validating resolver says they are
            // secure (RFC 7672 section 2.2).
            diagnostics.add(
                .invalidValue, at: tlsTree.location, path.key("tls"),
                "dane needs sender.resolver: validating (DANE trusts TLSA records only from a validating resolver, RFC 7672 section 2.2), and a signed world (dns.dnssec: signed)"
            )
            return nil
        }
        guard let addresses, let prefer, let helo, let mailFrom, let rcptTo, let relay, let identity, let resolver
        else { return nil }
        if case .some(.none) = message { return nil }
        if case .some(.none) = mta { return nil }
        guard let settings else { return nil }
        if case .some(.none) = dkim { return nil }
        if let dkimTree, case .some(.some(let spec)) = message, spec.raw != nil {
            diagnostics.add(
                .invalidValue, at: dkimTree.location, path.key("dkim"),
                "sender.dkim cannot sign sender.message.raw (it is sent byte for byte): give message.headers and message.body instead"
            )
            return nil
        }
        var spec = SenderSpec(
            addresses: addresses, prefer: prefer, helo: helo, mailFrom: mailFrom, rcptTo: rcptTo, relay: relay,
            message: message ?? nil,
            mta: mta ?? nil, dkim: dkim ?? nil,
            identity: identity.path, proxyAddresses: identity.proxyAddresses, xclientName: identity.xclientName)
        spec.settings = settings
        spec.tls = (tls ?? nil) ?? .none
        spec.proxy = (proxy ?? nil) ?? .model
        spec.resolver = resolver
        return spec
    }

    func sourceAddresses(_ tree: Tree, _ path: KeyPath) -> [AddressFamily: IPAddress]? {
        guard let map = MapReader(tree, path, diagnostics, what: "source addresses ({ipv4: IP, ipv6: IP})") else {
            return nil
        }
        var out: [AddressFamily: IPAddress] = [:]
        var failed = false
        for family in AddressFamily.allCases {
            guard let value = map.optional(family.rawValue) else { continue }
            if let address = read.address(value, path.key(family.rawValue), family: family) {
                out[family] = address
            } else {
                failed = true
            }
        }
        map.finish()
        if out.isEmpty && !failed {
            diagnostics.add(
                .missingKey, at: tree.location, path,
                "the sender needs a source address for at least one family (ipv4 or ipv6)")
            return nil
        }
        return failed ? nil : out
    }

    func recipients(_ tree: Tree, _ path: KeyPath) -> [String]? {
        if case .scalar(_, false, _) = tree.value {
            return read.nonEmptyString(tree, path, what: "a recipient address").map { [$0] }
        }
        guard
            let list = read.list(
                tree, path, what: "a recipient address or a list of them",
                item: { read.nonEmptyString($0, $1, what: "a recipient address") })
        else { return nil }
        guard !list.isEmpty else {
            diagnostics.add(.invalidValue, at: tree.location, path, "needs at least one recipient")
            return nil
        }
        return list
    }

    func relaySpec(_ tree: Tree, _ path: KeyPath) -> RelaySpec? {
        if case .scalar(let text, false, _) = tree.value {
            if text == "mx" { return .mx }
            diagnostics.add(
                .invalidValue, at: tree.location, path, "relay is mx or {host: NAME}, not \"\(Tree.clip(text))\"")
            return nil
        }
        guard let map = MapReader(tree, path, diagnostics, what: "mx or {host: NAME}") else { return nil }
        let host = map.required("host", "the host to deliver to, by its A/AAAA records").flatMap { tree -> String? in
            guard let text = read.nonEmptyString(tree, path.key("host"), what: "a host name") else { return nil }
            guard DNSName.isValidHostname(text) else {
                diagnostics.add(
                    .invalidValue, at: tree.location, path.key("host"),
                    "\"\(Tree.clip(text))\" is not a valid host name")
                return nil
            }
            return DNSName.normalize(text)
        }
        map.finish()
        return host.map(RelaySpec.host)
    }

    /// A map whose values are scalars, in the order written.
    func stringMap(_ tree: Tree, _ path: KeyPath, what: String) -> [(name: String, value: String)]? {
        guard let entries = tree.entries else {
            diagnostics.add(.wrongType, at: tree.location, path, "expected \(what), found \(tree.kindName)")
            return nil
        }
        var out: [(name: String, value: String)] = []
        var failed = false
        for entry in entries {
            if case .scalar(let text, let isNull, _) = entry.value.value {
                out.append((entry.key, isNull ? "" : text))
            } else {
                diagnostics.add(
                    .wrongType, at: entry.value.location, path.key(entry.key),
                    "expected a string, found \(entry.value.kindName)")
                failed = true
            }
        }
        return failed ? nil : out
    }

    // MARK: expect

    func expectation(_ tree: Tree, _ path: KeyPath) -> Expectation? {
        guard let map = MapReader(tree, path, diagnostics, what: "an expectation") else { return nil }
        var failed = false
        func check<T>(_ value: T??) -> T? {
            if case .some(.none) = value { failed = true }
            return value ?? nil
        }
        let outcome = check(
            map.optional("outcome").map { read.choice($0, path.key("outcome"), "outcome", DeliveryOutcome.self) })
        let family = check(
            map.optional("family").map { read.choice($0, path.key("family"), "family", AddressFamily.self) })
        let stage = check(map.optional("stage").map { read.choice($0, path.key("stage"), "stage", SMTPStage.self) })
        let code = check(map.optional("code").map { codePattern($0, path.key("code")) })
        let enhanced = check(map.optional("enhanced").map { enhancedPattern($0, path.key("enhanced")) })
        let text = check(map.optional("text").map { textMatcher($0, path.key("text")) })
        let attempts = check(
            map.optional("attempts").map {
                read.list(
                    $0, path.key("attempts"), what: "a list of attempts ({family, result, code?, enhanced?, stage?})"
                ) { attempt($0, $1) }
            })
        let messagesAccepted = check(
            map.optional("messages_accepted").map {
                count($0, path.key("messages_accepted"), what: "a number of messages (0, 1, 2, ...)")
            })
        let tls = check(map.optional("tls").map { boolean($0, path.key("tls")) })
        map.finish()
        guard !failed else { return nil }
        var expectation = Expectation(
            outcome: outcome, family: family, stage: stage, code: code, enhanced: enhanced, text: text,
            attempts: attempts,
            messagesAccepted: messagesAccepted)
        expectation.tls = tls
        return expectation
    }

    func count(_ tree: Tree, _ path: KeyPath, what: String) -> Int? {
        guard let text = read.string(tree, path, what: what) else { return nil }
        guard let value = Int(text), value >= 0, value <= 1_000_000 else {
            diagnostics.add(.invalidValue, at: tree.location, path, "\"\(Tree.clip(text))\" is not \(what)")
            return nil
        }
        return value
    }

    func attempt(_ tree: Tree, _ path: KeyPath) -> ExpectedAttempt? {
        guard
            let map = MapReader(
                tree, path, diagnostics, what: "an attempt ({family, result, code?, enhanced?, stage?})")
        else { return nil }
        let family = map.required("family", "ipv4 or ipv6").flatMap {
            read.choice($0, path.key("family"), "family", AddressFamily.self)
        }
        let result = map.required("result", AttemptResult.allCases.map(\.rawValue).joined(separator: ", ")).flatMap {
            read.choice($0, path.key("result"), "attempt result", AttemptResult.self)
        }
        let code = map.optional("code").map { codePattern($0, path.key("code")) }
        let enhanced = map.optional("enhanced").map { enhancedPattern($0, path.key("enhanced")) }
        let stage = map.optional("stage").map { read.choice($0, path.key("stage"), "stage", SMTPStage.self) }
        map.finish()
        guard let family, let result else { return nil }
        if case .some(.none) = code { return nil }
        if case .some(.none) = enhanced { return nil }
        if case .some(.none) = stage { return nil }
        return ExpectedAttempt(
            family: family, result: result, code: code ?? nil, enhanced: enhanced ?? nil, stage: stage ?? nil)
    }

    func codePattern(_ tree: Tree, _ path: KeyPath) -> CodePattern? {
        guard let text = read.string(tree, path, what: "a reply code (550, 55x, 5xx)") else { return nil }
        guard let pattern = CodePattern(text) else {
            diagnostics.add(
                .invalidValue, at: tree.location, path,
                "\"\(Tree.clip(text))\" is not a reply code: three digits, x for any digit (550, 55x, 5xx), the first 2 to 5"
            )
            return nil
        }
        return pattern
    }

    func enhancedPattern(_ tree: Tree, _ path: KeyPath) -> EnhancedPattern? {
        guard let text = read.string(tree, path, what: "an enhanced status code (5.7.25, 5.7.x)") else { return nil }
        guard let pattern = EnhancedPattern(text) else {
            diagnostics.add(
                .invalidValue, at: tree.location, path,
                "\"\(Tree.clip(text))\" is not an enhanced status code: class.subject.detail (RFC 3463), x for any component (5.7.25, 5.7.x)"
            )
            return nil
        }
        return pattern
    }

    func textMatcher(_ tree: Tree, _ path: KeyPath) -> TextMatcher? {
        guard let text = read.string(tree, path, what: "a text to find in the reply, or /regex/") else { return nil }
        do {
            return try TextMatcher.parse(text)
        } catch {
            diagnostics.add(.invalidValue, at: tree.location, path, error.description)
            return nil
        }
    }

    // MARK: helpers

    /// The kinds' own keys of `part` set in `map`, each read by its kind; nil when one does not read.
    func kindSettings(_ map: MapReader, _ path: KeyPath, _ part: ScenarioKey.Part, kind: String?)
        -> [String: any PartSettings]?
    {
        var settings: [String: any PartSettings] = [:]
        var failed = false
        for key in kinds.keys(of: part) {
            guard let tree = map.optional(key.name) else { continue }
            if let value = key.decode(ScenarioValue(tree, path.key(key.name), diagnostics, kind: kind)) {
                settings[key.name] = value
            } else {
                failed = true
            }
        }
        return failed ? nil : settings
    }

    /// True when the part's kind (`kind`, named under `kindKey`) has each key it needs
    /// (`ScenarioKey.requiredBy`, as `target: exec` needs `receiver.exec`); false after reporting
    /// the first missing one at `kindKey`.
    func hasKindKeys(
        _ map: MapReader, _ path: KeyPath, _ part: ScenarioKey.Part, kindKey: String, kind: String?,
        _ settings: [String: any PartSettings]
    ) -> Bool {
        guard let kind, let location = map.optional(kindKey)?.location else { return true }
        for key in kinds.keys(of: part) where settings[key.name] == nil {
            guard let requirement = key.requiredBy, requirement.kind == kind else { continue }
            diagnostics.add(.missingKey, at: location, path.key(key.name), requirement.message)
            return false
        }
        return true
    }

    /// One of `names`, made by `make` (for enums that are not CaseIterable).
    func choice<T>(_ tree: Tree, _ path: KeyPath, _ what: String, names: [String], _ make: (String) -> T?) -> T? {
        guard let text = read.string(tree, path, what: "\(what): \(names.joined(separator: ", "))") else { return nil }
        if names.contains(text), let value = make(text) { return value }
        diagnostics.add(.invalidValue, at: tree.location, path, Suggest.unknown(what, text, names))
        return nil
    }
}
