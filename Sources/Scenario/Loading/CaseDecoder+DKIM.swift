import DKIM
import DNSCore

/// `sender.dkim` (format 1.1 extension; docs/format-extensions.md).
extension CaseDecoder {
    func dkimSpec(_ tree: Tree, _ path: KeyPath) -> DKIMSpec? {
        guard
            let map = MapReader(
                tree, path, diagnostics, what: "DKIM signing ({selector: NAME, domain?, algorithm?, ...})")
        else { return nil }
        var failed = false
        func check<T>(_ value: T??) -> T? {
            if case .some(.none) = value { failed = true }
            return value ?? nil
        }
        let domain = check(
            map.optional("domain").map { hostname($0, path.key("domain"), what: "the signing domain (d=)") })
        let selector = map.required("selector", "the key's selector (s=), as in selector._domainkey.domain").flatMap {
            dkimSelector($0, path.key("selector"))
        }
        let algorithm =
            check(
                map.optional("algorithm").map { tree -> DKIMAlgorithm? in
                    let names = ["rsa-sha256", "ed25519-sha256"]
                    return choice(tree, path.key("algorithm"), "DKIM algorithm", names: names) {
                        DKIMAlgorithm(rawValue: $0)
                    }
                }) ?? .rsaSHA256
        let bits =
            check(
                map.optional("bits").map { tree -> Int? in
                    choice(tree, path.key("bits"), "RSA key size", names: ["1024", "2048"]) { Int($0) }
                }) ?? 2048
        let headers =
            check(
                map.optional("headers").map { tree -> [String]? in
                    guard
                        let list = read.list(
                            tree, path.key("headers"), what: "a list of header field names",
                            item: { read.nonEmptyString($0, $1, what: "a header field name") })
                    else { return nil }
                    guard list.contains(where: { $0.lowercased() == "from" }) else {
                        diagnostics.add(
                            .invalidValue, at: tree.location, path.key("headers"),
                            "the signed headers must include From (RFC 6376 5.4)")
                        return nil
                    }
                    return list.map { $0.lowercased() }
                }) ?? DKIMSigner.defaultHeaders
        let canonicalization =
            check(
                map.optional("canonicalization").map { tree -> CanonicalizationPair? in
                    let names = [
                        "simple/simple", "simple/relaxed", "relaxed/simple", "relaxed/relaxed", "simple", "relaxed",
                    ]
                    return choice(tree, path.key("canonicalization"), "canonicalization (header/body)", names: names) {
                        CanonicalizationPair(tag: $0)
                    }
                }) ?? CanonicalizationPair(header: .relaxed, body: .relaxed)
        let key = check(
            map.optional("key").map { tree -> DKIMSigningKey? in
                guard
                    let text = read.nonEmptyString(
                        tree, path.key("key"), what: "a private key (PEM, or the base64 of an Ed25519 seed)")
                else { return nil }
                do {
                    return try DKIMSigningKey(text: text)
                } catch {
                    diagnostics.add(
                        .invalidValue, at: tree.location, path.key("key"),
                        "\(error) (leave key out to have the harness generate one)")
                    return nil
                }
            })
        let expireAfter = check(
            map.optional("expire_after").map { tree -> Int? in
                guard let text = read.string(tree, path.key("expire_after"), what: "seconds from t= to x="),
                    let value = Int(text), value > 0, value < 100_000_000
                else {
                    diagnostics.add(
                        .invalidValue, at: tree.location, path.key("expire_after"),
                        "expire_after is a whole number of seconds above 0 (x= = t= + it)")
                    return nil
                }
                return value
            })
        let record =
            check(
                map.optional("record").map { read.choice($0, path.key("record"), "key record", DKIMSpec.Record.self) })
            ?? .auto
        let recordSelector = check(
            map.optional("record_selector").map { dkimSelector($0, path.key("record_selector")) })
        let breakage = check(
            map.optional("break").map { read.choice($0, path.key("break"), "breakage", DKIMSpec.Breakage.self) })
        map.finish()
        guard !failed, let selector else { return nil }
        if let key, key.algorithm != algorithm {
            diagnostics.add(
                .invalidValue, at: tree.location, path.key("key"),
                "the key is an \(key.algorithm.keyType) key but algorithm is \(algorithm.rawValue)")
            return nil
        }
        return DKIMSpec(
            domain: domain, selector: selector, algorithm: algorithm, bits: bits, headers: headers,
            canonicalization: canonicalization,
            key: key, expireAfter: expireAfter, record: record, recordSelector: recordSelector, breakage: breakage)
    }

    private func dkimSelector(_ tree: Tree, _ path: KeyPath) -> String? {
        guard let text = read.nonEmptyString(tree, path, what: "a selector") else { return nil }
        guard DKIMSignature.isValidSelector(text) else {
            diagnostics.add(
                .invalidValue, at: tree.location, path,
                "\"\(Tree.clip(text))\" is not a DKIM selector (dot-separated labels of letters, digits, '-' and '_')")
            return nil
        }
        return text.lowercased()
    }

    private func hostname(_ tree: Tree, _ path: KeyPath, what: String) -> String? {
        guard let text = read.nonEmptyString(tree, path, what: what) else { return nil }
        guard DNSName.isValidHostname(text), text.contains(".") else {
            diagnostics.add(.invalidValue, at: tree.location, path, "\"\(Tree.clip(text))\" is not a valid domain name")
            return nil
        }
        return DNSName.normalize(text)
    }
}
