import CertificateAuthority
import DNSCore
import SMTPProtocol

/// `receiver.tls`, `sender.tls` and `expect.tls` (scenario format 1.2, STARTTLS).
extension CaseDecoder {
    /// `addresses`: `receiver.addresses`, which every listener must be one of (nil when they did not load).
    func receiverTLS(_ tree: Tree, _ path: KeyPath, addresses: [IPAddress]?) -> ReceiverTLSSpec? {
        guard
            let map = MapReader(
                tree, path, diagnostics,
                what: "receiver TLS ({starttls, required, certificate, names, protocols, listeners})")
        else {
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
        let certificate = check(
            map.optional("certificate").map {
                read.choice($0, path.key("certificate"), "certificate kind", CertificateKind.self)
            })
        let names = check(map.optional("names").map { certificateNames($0, path.key("names")) })
        let protocols = check(map.optional("protocols").map { protocolRange($0, path.key("protocols")) })
        let listenersTree = map.optional("listeners")
        let listeners = check(listenersTree.map { tlsListeners($0, path.key("listeners"), addresses: addresses) })
        map.finish()
        guard !failed else { return nil }
        if let listenersTree, starttls != true, listeners?.isEmpty == false {
            diagnostics.add(
                .invalidValue, at: listenersTree.location, path.key("listeners"),
                "receiver.tls.listeners needs receiver.tls.starttls: true (no listener presents a certificate without STARTTLS)"
            )
            return nil
        }
        if required == true, starttls != true, let requiredTree {
            diagnostics.add(
                .invalidValue, at: requiredTree.location, path.key("required"),
                "receiver.tls.required needs receiver.tls.starttls: true (TLS cannot be required when STARTTLS is not offered)"
            )
            return nil
        }
        return ReceiverTLSSpec(
            starttls: starttls ?? false, required: required ?? false, certificate: certificate ?? .valid, names: names,
            protocols: protocols, listeners: listeners ?? [])
    }

    /// `names: [mx.example.test]`: at least one valid host name.
    func certificateNames(_ tree: Tree, _ path: KeyPath) -> [String]? {
        guard
            let list = read.list(
                tree, path, what: "a list of host names",
                item: { item, itemPath -> String? in
                    guard let text = read.nonEmptyString(item, itemPath, what: "a host name") else { return nil }
                    guard DNSName.isValidHostname(text) else {
                        diagnostics.add(
                            .invalidValue, at: item.location, itemPath,
                            "\"\(Tree.clip(text))\" is not a valid host name")
                        return nil
                    }
                    return DNSName.normalize(text)
                })
        else { return nil }
        guard !list.isEmpty else {
            diagnostics.add(.invalidValue, at: tree.location, path, "the certificate needs at least one name")
            return nil
        }
        return list
    }

    /// `listeners: [{address: "2001:db8::10", certificate: self-signed}]` (mxharness's extension):
    /// each address at most once, one of `receiver.addresses`, with a certificate or names of its own.
    func tlsListeners(_ tree: Tree, _ path: KeyPath, addresses: [IPAddress]?) -> [ReceiverTLSListener]? {
        var seen: Set<IPAddress> = []
        return read.list(tree, path, what: "a list of listeners ({address, certificate, names})") { item, itemPath in
            guard let map = MapReader(item, itemPath, diagnostics, what: "a listener ({address, certificate, names})")
            else {
                return nil
            }
            let addressTree = map.required("address", "the receiver address it is (one of receiver.addresses)")
            let address = addressTree.flatMap { read.address($0, itemPath.key("address")) }
            let certificate = map.optional("certificate").map {
                read.choice($0, itemPath.key("certificate"), "certificate kind", CertificateKind.self)
            }
            let names = map.optional("names").map { certificateNames($0, itemPath.key("names")) }
            map.finish()
            guard let address, let addressTree else { return nil }
            if case .some(.none) = certificate { return nil }
            if case .some(.none) = names { return nil }
            if let addresses, !addresses.contains(address) {
                diagnostics.add(
                    .invalidValue, at: addressTree.location, itemPath.key("address"),
                    "\(address) is not one of receiver.addresses (\(addresses.map(\.description).joined(separator: ", ")))"
                )
                return nil
            }
            guard seen.insert(address).inserted else {
                diagnostics.add(
                    .invalidValue, at: addressTree.location, itemPath.key("address"),
                    "\(address) is given twice: an address presents one certificate")
                return nil
            }
            guard certificate != nil || names != nil else {
                diagnostics.add(
                    .missingKey, at: item.location, itemPath,
                    "a listener says what it presents: certificate (a kind) or names (the certificate's DNS names), or both"
                )
                return nil
            }
            return ReceiverTLSListener(address: address, certificate: certificate ?? nil, names: names ?? nil)
        }
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
            diagnostics.add(
                .invalidValue, at: tree.location, path,
                "needs at least one TLS version (TLSv1, TLSv1.1, TLSv1.2, TLSv1.3)")
            return nil
        }
        let range = lowest...highest
        let missing = TLSProtocolVersion.allCases.filter { range.contains($0) && !versions.contains($0) }
        guard missing.isEmpty else {
            diagnostics.add(
                .invalidValue, at: tree.location, path,
                "TLS versions must be consecutive: \(lowest) to \(highest) includes \(missing.map(\.rawValue).joined(separator: ", "))"
            )
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
            diagnostics.add(
                .invalidValue, at: tree.location, path, "expected true or false, found \"\(Tree.clip(text))\"")
            return nil
        }
    }
}
