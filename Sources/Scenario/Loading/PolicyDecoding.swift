import DNSCore
import Policy

/// The receiver's policy (a preset or the map form, with format 1.1's `reject_at: greeting` and
/// `reply`, format 1.2's `reject_at: helo|mail`).
extension CaseDecoder {
    func receiverPolicy(_ tree: Tree, _ path: KeyPath) -> ReceiverPolicy? {
        let presets = Preset.allCases.map(\.rawValue)
        if case .scalar(let text, false, _) = tree.value {
            if let preset = Preset(rawValue: text) { return preset.policy }
            diagnostics.add(.invalidValue, at: tree.location, path, Suggest.unknown("preset", text, presets))
            return nil
        }
        guard
            let map = MapReader(
                tree, path, diagnostics, what: "a preset name (\(presets.joined(separator: ", "))) or a policy map")
        else { return nil }
        // `checks` applies to both families; `ipv4`/`ipv6` then replace their family's list, so a
        // variant can override one family of a scenario that used `checks`.
        let both = map.optional("checks").map { checks($0, path.key("checks")) }
        let ipv4 = map.optional("ipv4").map { checks($0, path.key("ipv4")) }
        let ipv6 = map.optional("ipv6").map { checks($0, path.key("ipv6")) }
        let rejectAtTree = map.optional("reject_at")
        let rejectAt =
            rejectAtTree.map {
                choice(
                    $0, path.key("reject_at"), "reject stage", names: RejectStage.allCases.map(\.rawValue),
                    RejectStage.init(rawValue:))
            } ?? RejectStage.rcpt
        let onFail =
            map.optional("on_fail").map {
                choice(
                    $0, path.key("on_fail"), "failure mode", names: ["reject", "defer"], FailureMode.init(rawValue:))
            } ?? FailureMode.reject
        let reply = map.optional("reply").map { siteReply($0, path.key("reply")) }
        map.finish()
        if case .some(.none) = both { return nil }
        if case .some(.none) = ipv4 { return nil }
        if case .some(.none) = ipv6 { return nil }
        if case .some(.none) = reply { return nil }
        guard let rejectAt, let onFail else { return nil }
        let common = (both ?? nil) ?? []
        let policy = ReceiverPolicy(
            ipv4: (ipv4 ?? nil) ?? common, ipv6: (ipv6 ?? nil) ?? common, rejectAt: rejectAt, onFail: onFail,
            siteReply: (reply ?? nil)?.0)
        // Format 1.1: a `reply` code agrees with on_fail (5xx with reject, 4xx with defer).
        if let (site, codeTree) = reply ?? nil, (site.code >= 500) != (onFail == .reject) {
            diagnostics.add(
                .invalidValue, at: codeTree.location, path.key("reply").key("code"),
                "reply code \(site.code) does not agree with on_fail: \(onFail.rawValue) (\(onFail == .reject ? "reject answers 5xx" : "defer answers 4xx")); set on_fail: \(site.code >= 500 ? "reject" : "defer") or a \(onFail == .reject ? "5xx" : "4xx") code"
            )
            return nil
        }
        // Nothing but the client address is known before the greeting, no envelope sender at HELO.
        if let first = (policy.ipv4 + policy.ipv6).first(where: { !rejectAt.canAnswer($0) }) {
            let why =
                rejectAt == .greeting
                ? "reject_at: greeting answers before HELO and MAIL FROM, so check \(first.name) cannot run there; at the greeting only ptr, fcrdns and dnsbl:ZONE can (use reject_at: rcpt for the others)"
                : "reject_at: helo answers before MAIL FROM, so check \(first.name) has no envelope sender to check there (use reject_at: mail or rcpt)"
            diagnostics.add(.invalidValue, at: rejectAtTree?.location ?? tree.location, path.key("reject_at"), why)
            return nil
        }
        return policy
    }

    /// `reply: {code, enhanced, text}` of a policy map (format 1.1); the code's tree for errors.
    func siteReply(_ tree: Tree, _ path: KeyPath) -> (CustomReply, Tree)? {
        guard
            let map = MapReader(tree, path, diagnostics, what: "a reply ({code: 554, enhanced: 5.7.1, text: \"...\"})")
        else { return nil }
        let codeTree = map.required("code", "the reply code, 4xx or 5xx (554)")
        let code = codeTree.flatMap { tree -> Int? in
            guard let text = read.string(tree, path.key("code"), what: "a reply code (554)") else { return nil }
            guard let value = Int(text), (400...599).contains(value), text.count == 3 else {
                diagnostics.add(
                    .invalidValue, at: tree.location, path.key("code"),
                    "\"\(Tree.clip(text))\" is not a failure reply code: three digits, 4xx or 5xx (554, 421)")
                return nil
            }
            return value
        }
        let enhancedTree = map.optional("enhanced")
        let enhanced = enhancedTree.map { tree -> String? in
            guard let text = read.string(tree, path.key("enhanced"), what: "an enhanced status code (5.7.1)") else {
                return nil
            }
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isNumber) }),
                ["4", "5"].contains(parts[0])
            else {
                diagnostics.add(
                    .invalidValue, at: tree.location, path.key("enhanced"),
                    "\"\(Tree.clip(text))\" is not an enhanced status code: class.subject.detail (RFC 3463), class 4 or 5 (5.7.1)"
                )
                return nil
            }
            return text
        }
        let text = map.required("text", "the reply text (\"Bad DNS PTR resource record\")").flatMap {
            read.nonEmptyString($0, path.key("text"), what: "a reply text")
        }
        map.finish()
        guard let code, let codeTree, let text else { return nil }
        if case .some(.none) = enhanced { return nil }
        if let value = enhanced ?? nil, let enhancedTree, value.first != String(code).first {
            diagnostics.add(
                .invalidValue, at: enhancedTree.location, path.key("enhanced"),
                "enhanced code \(value) is of class \(value.prefix(1)) but the code \(code) of class \(code / 100); they must agree (RFC 3463 2)"
            )
            return nil
        }
        return (CustomReply(code: code, enhanced: enhanced ?? nil, text: text), codeTree)
    }

    func checks(_ tree: Tree, _ path: KeyPath) -> [Check]? {
        read.list(tree, path, what: "a list of checks") { item, itemPath in
            guard let name = read.nonEmptyString(item, itemPath, what: "a check name") else { return nil }
            if let check = Check(name: name) { return check }
            if name.hasPrefix("dnsbl:") {
                diagnostics.add(
                    .invalidValue, at: item.location, itemPath,
                    "dnsbl zone \"\(name.dropFirst(6))\" is not a valid domain name (dnsbl:ZONE, such as dnsbl:bl.example.test)"
                )
            } else {
                diagnostics.add(
                    .invalidValue, at: item.location, itemPath, Suggest.unknown("check", name, Check.allNames))
            }
            return nil
        }
    }
}
