import Foundation

/// `receiver.engines` and `receiver.rspamd` (scenario format 1.2, "Receivers with real policy
/// engines").
extension CaseDecoder {
    struct ReceiverEngines {
        var engines: [ReceiverEngine] = []
        var rspamd = RspamdThresholds()
    }

    /// Reads both keys from the receiver's map; nil (with diagnostics) when one is wrong.
    func receiverEngines(_ map: MapReader, _ path: KeyPath) -> ReceiverEngines? {
        let enginesTree = map.optional("engines")
        let engines = enginesTree.map { engineList($0, path.key("engines")) }
        let rspamdTree = map.optional("rspamd")
        let rspamd = rspamdTree.map { rspamdThresholds($0, path.key("rspamd")) }
        if case .some(.none) = engines { return nil }
        if case .some(.none) = rspamd { return nil }
        let out = ReceiverEngines(engines: (engines ?? nil) ?? [], rspamd: (rspamd ?? nil) ?? RspamdThresholds())
        if let rspamdTree, !out.engines.contains(.rspamd) {
            diagnostics.add(
                .invalidValue, at: rspamdTree.location, path.key("rspamd"),
                "receiver.rspamd sets rspamd's thresholds, but rspamd does not run: add it to receiver.engines ([rspamd])"
            )
            return nil
        }
        return out
    }

    /// `[policyd-spf, rspamd]` (or one name), each engine at most once.
    func engineList(_ tree: Tree, _ path: KeyPath) -> [ReceiverEngine]? {
        let items: [(Tree, KeyPath)]
        if case .scalar(_, false, _) = tree.value {
            items = [(tree, path)]
        } else {
            guard let list = read.list(tree, path, what: "a list of engines (\(Self.engineNames))") else { return nil }
            items = list.enumerated().map { ($1, path.index($0)) }
        }
        var engines: [ReceiverEngine] = []
        var failed = false
        for (item, itemPath) in items {
            guard let engine = read.choice(item, itemPath, "engine", ReceiverEngine.self) else {
                failed = true
                continue
            }
            if engines.contains(engine) {
                diagnostics.add(
                    .invalidValue, at: item.location, itemPath, "\(engine) is listed twice: each engine runs once")
                failed = true
                continue
            }
            engines.append(engine)
        }
        return failed ? nil : engines
    }

    private static var engineNames: String { ReceiverEngine.allCases.map(\.rawValue).joined(separator: ", ") }

    /// `{reject: 15, soft_reject: 6, ...}`: a score per action.
    func rspamdThresholds(_ tree: Tree, _ path: KeyPath) -> RspamdThresholds? {
        let actions = RspamdThresholds.Action.allCases.map(\.rawValue).joined(separator: ", ")
        guard
            let map = MapReader(tree, path, diagnostics, what: "rspamd's action thresholds (\(actions): a score each)")
        else {
            return nil
        }
        var thresholds = RspamdThresholds()
        var failed = false
        for action in RspamdThresholds.Action.allCases {
            guard let item = map.optional(action.rawValue) else { continue }
            if let score = score(item, path.key(action.rawValue)) { thresholds[action] = score } else { failed = true }
        }
        map.finish()
        if !failed, let (lower, higher) = thresholds.orderViolation {
            func given(_ action: RspamdThresholds.Action) -> String {
                let score = RspamdThresholds.text(
                    thresholds[action] ?? RspamdThresholds.rspamdDefaults[action] ?? 0)
                return thresholds[action] == nil
                    ? "\(action.rawValue) (\(score), rspamd's default)" : "\(action.rawValue) (\(score))"
            }
            diagnostics.add(
                .invalidValue, at: tree.location, path,
                "\(given(lower)) must be lower than \(given(higher)): rspamd 3.4 refuses thresholds out of that order "
                    + "(\"invalid actions thresholds order\") and then does not act at the given score; "
                    + "give \(lower.rawValue) a lower score")
            failed = true
        }
        return failed ? nil : thresholds
    }

    /// A score: a finite decimal number (`15`, `6.5`, `-1`).
    func score(_ tree: Tree, _ path: KeyPath) -> Double? {
        guard let text = read.string(tree, path, what: "a score (a number such as 15 or 6.5)") else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let isDecimal = trimmed.wholeMatch(of: /-?[0-9]{1,6}(\.[0-9]{1,6})?/) != nil
        guard isDecimal, let value = Double(trimmed), value.isFinite else {
            diagnostics.add(
                .invalidValue, at: tree.location, path,
                "\"\(Tree.clip(text))\" is not a score: a decimal number such as 15 or 6.5")
            return nil
        }
        return value
    }
}
