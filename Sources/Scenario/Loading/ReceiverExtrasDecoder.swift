/// `receiver.exim` and `receiver.exec`, read beside the rest of `receiver`.
extension CaseDecoder {
    /// `exim: {main: {OPTION: VALUE}, acl_rcpt: STATEMENTS, ...}`.
    func eximSite(_ tree: Tree, _ path: KeyPath) -> EximSiteSettings? {
        let read = Reader(diagnostics: diagnostics)
        let keys = (["main"] + EximACLName.allCases.map(\.key)).joined(separator: ", ")
        guard let map = MapReader(tree, path, diagnostics, what: "Exim settings (\(keys))") else { return nil }
        var failed = false
        var main: [String: String] = [:]
        if let tree = map.optional("main") {
            if let entries = stringMap(tree, path.key("main"), what: "Exim main-section options (a map of strings)") {
                for entry in entries {
                    if !Self.isEximOptionName(entry.name) {
                        diagnostics.add(
                            .invalidValue, at: tree.location, path.key("main").key(entry.name),
                            "\"\(entry.name)\" is not an Exim option name (lower-case letters, digits and _)")
                        failed = true
                    } else if entry.value.contains("\n") {
                        diagnostics.add(
                            .invalidValue, at: tree.location, path.key("main").key(entry.name),
                            "an Exim option value must be one line")
                        failed = true
                    } else {
                        main[entry.name] = entry.value
                    }
                }
            } else {
                failed = true
            }
        }
        var acls: [EximACLName: String] = [:]
        for name in EximACLName.allCases {
            guard let item = map.optional(name.key) else { continue }
            guard let text = read.nonEmptyString(item, path.key(name.key), what: "Exim ACL statements") else {
                failed = true
                continue
            }
            // A `begin` line would end the ACL section and start another one of the file.
            if let line = text.split(separator: "\n").first(where: {
                $0.trimmingCharacters(in: .whitespaces).hasPrefix("begin ")
            }) {
                diagnostics.add(
                    .invalidValue, at: item.location, path.key(name.key),
                    "\"\(line.trimmingCharacters(in: .whitespaces))\": ACL statements cannot start a new section of the configuration"
                )
                failed = true
                continue
            }
            acls[name] = text
        }
        map.finish()
        return failed ? nil : EximSiteSettings(main: main, acls: acls)
    }

    /// `exec: {start: COMMAND, ready: smtp-banner, stop: signal}`.
    func execReceiver(_ tree: Tree, _ path: KeyPath) -> ExecReceiverSpec? {
        let read = Reader(diagnostics: diagnostics)
        guard
            let map = MapReader(
                tree, path, diagnostics, what: "how to run your MX ({start: COMMAND, ready: smtp-banner, stop: signal})"
            )
        else {
            return nil
        }
        let start = map.required(
            "start", "the shell command that starts your MX ({config_dir} and {addresses} are replaced)"
        ).flatMap {
            read.nonEmptyString($0, path.key("start"), what: "a shell command")
        }
        let ready: ExecReceiverSpec.Readiness?? = map.optional("ready").map {
            read.choice($0, path.key("ready"), "readiness check")
        }
        let stop: ExecReceiverSpec.Stopping?? = map.optional("stop").map {
            read.choice($0, path.key("stop"), "way to stop")
        }
        map.finish()
        if case .some(.none) = ready { return nil }
        if case .some(.none) = stop { return nil }
        guard let start else { return nil }
        return ExecReceiverSpec(start: start, ready: (ready ?? nil) ?? .smtpBanner, stop: (stop ?? nil) ?? .signal)
    }

    static func isEximOptionName(_ name: String) -> Bool {
        !name.isEmpty && name.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "_" }
    }
}
