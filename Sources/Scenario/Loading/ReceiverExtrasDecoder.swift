/// `receiver.exec`, read beside the rest of `receiver`.
extension CaseDecoder {
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
}
