/// `sender.message`: headers and body, or the raw form (docs/format-extensions.md).
extension CaseDecoder {
    func messageSpec(_ tree: Tree, _ path: KeyPath) -> MessageSpec? {
        guard
            let map = MapReader(
                tree, path, diagnostics, what: "a message ({headers: map, body: string} or {raw: string})")
        else { return nil }
        let headers = map.optional("headers").map { tree -> [MessageHeader]? in
            guard let pairs = stringMap(tree, path.key("headers"), what: "headers (a map of strings)") else {
                return nil
            }
            var failed = false
            for (pair, entry) in zip(pairs, tree.entries ?? []) where !Self.isHeaderName(pair.name) {
                // RFC 5322 2.2: a field name is printable US-ASCII other than ":".
                diagnostics.add(
                    .invalidValue, at: entry.keyLocation, path.key("headers").key(pair.name),
                    "\"\(Tree.clip(pair.name))\" is not a header field name (printable ASCII without \":\" or spaces)")
                failed = true
            }
            return failed ? nil : pairs.map { MessageHeader(name: $0.name, value: $0.value) }
        }
        let body = map.optional("body").map { read.string($0, path.key("body"), what: "the body text") }
        let raw = map.optional("raw").map {
            rawData($0, path.key("raw"), withHeadersOrBody: headers != nil || body != nil)
        }
        map.finish()
        if case .some(.none) = headers { return nil }
        if case .some(.none) = body { return nil }
        if case .some(.none) = raw { return nil }
        return MessageSpec(headers: headers ?? nil, body: body ?? nil, raw: raw ?? nil)
    }

    /// `message.raw`: sent as written, so it must carry the real end of data itself.
    func rawData(_ tree: Tree, _ path: KeyPath, withHeadersOrBody: Bool) -> String? {
        guard
            let text = read.string(
                tree, path, what: "the bytes sent after DATA (a double-quoted string with \\r, \\n, \\0 escapes)")
        else { return nil }
        if withHeadersOrBody {
            diagnostics.add(
                .invalidValue, at: tree.location, path, "raw replaces headers and body: give either raw or headers/body"
            )
            return nil
        }
        guard text.utf8.count >= 5, text.utf8.suffix(5).elementsEqual("\r\n.\r\n".utf8) else {
            diagnostics.add(
                .invalidValue, at: tree.location, path,
                "raw must end with the real end of data \"\\r\\n.\\r\\n\" (it is sent as written, with no end of data added)"
            )
            return nil
        }
        return text
    }

    static func isHeaderName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7f && $0 != 0x3a }
    }
}
