import CertificateAuthority
import DNSCore
import SMTPProtocol

/// `receiver.tls`, `sender.tls` and `expect.tls` (scenario format 1.2, STARTTLS).
extension CaseDecoder {
    func receiverTLS(_ tree: Tree, _ path: KeyPath) -> ReceiverTLSSpec? {
        guard let map = MapReader(tree, path, diagnostics, what: "receiver TLS ({starttls, required, certificate, names, protocols})") else {
            return nil
        }
        var failed = false
        func check<T>(_ value: T??) -> T? {
            if case .some(.none) = value { failed = true }
            return value ?? nil
        }
        let starttlsTree = map.optional("starttls")
        let starttls = check(starttlsTree.map { boolean($0, path.key("starttls")) })
        let requiredTree = map.optional("required")
        let required = check(requiredTree.map { boolean($0, path.key("required")) })
        let certificate = check(map.optional("certificate").map {
            read.choice($0, path.key("certificate"), "certificate kind", CertificateKind.self)
        })
        let names = check(map.optional("names").map { tree -> [String]? in
            guard let list = read.list(tree, path.key("names"), what: "a list of host names", item: { item, itemPath -> String? in
                guard let text = read.nonEmptyString(item, itemPath, what: "a host name") else { return nil }
                guard DNSName.isValidHostname(text) else {
                    diagnostics.add(.invalidValue, at: item.location, itemPath, "\"\(Tree.clip(text))\" is not a valid host name")
                    return nil
                }
                return DNSName.normalize(text)
            }) else { return nil }
            guard !list.isEmpty else {
                diagnostics.add(.invalidValue, at: tree.location, path.key("names"), "the certificate needs at least one name")
                return nil
            }
            return list
        })
        let protocols = check(map.optional("protocols").map { protocolRange($0, path.key("protocols")) })
        map.finish()
        guard !failed else { return nil }
        if required == true, starttls != true, let requiredTree {
            diagnostics.add(
                .invalidValue, at: requiredTree.location, path.key("required"),
                "receiver.tls.required needs receiver.tls.starttls: true (TLS cannot be required when STARTTLS is not offered)")
            return nil
        }
        return ReceiverTLSSpec(
            starttls: starttls ?? false, required: required ?? false, certificate: certificate ?? .valid, names: names,
            protocols: protocols)
    }

    /// `[TLSv1.2, TLSv1.3]`: a run of consecutive versions (a TLS library accepts a lowest and a
    /// highest version, nothing in between can be left out).
    func protocolRange(_ tree: Tree, _ path: KeyPath) -> ClosedRange<TLSProtocolVersion>? {
        let items: [(Tree, KeyPath)]
        if case .scalar = tree.value {
            items = [(tree, path)]
        } else {
            guard let list = read.list(tree, path, what: "a list of TLS versions") else { return nil }
            items = list.enumerated().map { ($1, path.index($0)) }
        }
        var versions: [TLSProtocolVersion] = []
        var failed = false
        for (item, itemPath) in items {
            if let version = read.choice(item, itemPath, "TLS protocol version", TLSProtocolVersion.self) {
                versions.append(version)
            } else {
                failed = true
            }
        }
        guard !failed else { return nil }
        guard let lowest = versions.min(), let highest = versions.max() else {
            diagnostics.add(.invalidValue, at: tree.location, path, "needs at least one TLS version (TLSv1, TLSv1.1, TLSv1.2, TLSv1.3)")
            return nil
        }
        let range = lowest...highest
        let missing = TLSProtocolVersion.allCases.filter { range.contains($0) && !versions.contains($0) }
        guard missing.isEmpty else {
            diagnostics.add(
                .invalidValue, at: tree.location, path,
                "TLS versions must be consecutive: \(lowest) to \(highest) includes \(missing.map(\.rawValue).joined(separator: ", "))")
            return nil
        }
        return range
    }

    /// `true` or `false`.
    func boolean(_ tree: Tree, _ path: KeyPath) -> Bool? {
        guard let text = read.string(tree, path, what: "true or false") else { return nil }
        switch text {
        case "true": return true
        case "false": return false
        default:
            diagnostics.add(.invalidValue, at: tree.location, path, "expected true or false, found \"\(Tree.clip(text))\"")
            return nil
        }
    }
}
