import DNSCore

/// `sender.identity`, `sender.proxy_address`, `sender.xclient_name`, `receiver.proxy_protocol` and
/// `receiver.xclient_hosts`: how the receiver learns who the client is.
extension CaseDecoder {
    struct SenderIdentity {
        var path: IdentityPath = .socket
        var proxyAddresses: [AddressFamily: IPAddress] = [:]
        var xclientName: String?
    }

    struct ReceiverIdentity {
        var proxyProtocol: ReceiverProxyProtocol?
        var xclientHosts: [IPAddress] = []
    }

    /// Reads the sender's identity keys from `map`; nil (with diagnostics) when one is wrong.
    /// `addresses` is nil when `sender.addresses` did not read (then only the keys' own form is checked).
    /// `proxy` is `sender.proxy` (read before), `proxyKey` where it is written.
    func senderIdentity(
        _ map: MapReader, _ path: KeyPath, addresses: [AddressFamily: IPAddress]?, proxy: SenderProxy = .model,
        proxyKey: Tree? = nil
    ) -> SenderIdentity? {
        let identityTree = map.optional("identity")
        let identity: IdentityPath?? = identityTree.map {
            read.choice($0, path.key("identity"), "identity path", IdentityPath.self)
        }
        let proxyTree = map.optional("proxy_address")
        let addressesRead = proxyTree.map { proxyAddresses($0, path.key("proxy_address")) }
        let nameTree = map.optional("xclient_name")
        let name = nameTree.map { xclientName($0, path.key("xclient_name")) }
        if case .some(.none) = identity { return nil }
        if case .some(.none) = addressesRead { return nil }
        if case .some(.none) = name { return nil }
        var out = SenderIdentity(
            path: (identity ?? nil) ?? .socket, proxyAddresses: (addressesRead ?? nil) ?? [:], xclientName: name ?? nil)

        if let nameTree, out.path != .xclient {
            diagnostics.add(
                .invalidValue, at: nameTree.location, path.key("xclient_name"),
                "xclient_name is sent only with identity: xclient (identity is \(out.path.rawValue))")
            return nil
        }
        if proxy != .model, out.path == .xclient {
            diagnostics.add(
                .invalidValue, at: proxyKey?.location ?? map.tree.location, path.key("proxy"),
                "proxy \(proxy) sends PROXY headers, not XCLIENT: use identity proxy-v1 or proxy-v2 with it, or proxy: model for XCLIENT"
            )
            return nil
        }
        guard out.path.usesProxy || proxy != .model, let addresses else { return out }
        guard let proxyTree else {
            let why =
                out.path.usesProxy
                ? "identity \(out.path.rawValue) connects from a proxy"
                : "proxy \(proxy) connects to the receiver from an address of its own"
            diagnostics.add(
                .missingKey, at: identityTree?.location ?? proxyKey?.location ?? map.tree.location,
                path.key("proxy_address"),
                "\(why): give sender.proxy_address (the proxy's address, one per family the sender has)")
            return nil
        }
        var failed = false
        for family in AddressFamily.allCases {
            let own = addresses[family], proxy = out.proxyAddresses[family]
            if own != nil, proxy == nil {
                diagnostics.add(
                    .missingKey, at: proxyTree.location, path.key("proxy_address"),
                    "the sender has an \(family.label) address, so the proxy needs one too: it connects to the receiver in the family of the sender's attempt"
                )
                failed = true
            } else if own == nil, let proxy {
                diagnostics.add(
                    .invalidValue, at: proxyTree.location, path.key("proxy_address"),
                    "\(proxy) is an \(family.label) address, but the sender has none: the proxy only connects in the sender's families"
                )
                failed = true
            } else if let own, own == proxy {
                diagnostics.add(
                    .invalidValue, at: proxyTree.location, path.key("proxy_address"),
                    "\(own) is also the sender's address: the proxy needs an address of its own")
                failed = true
            }
        }
        if failed { out.proxyAddresses = [:] }
        return failed ? nil : out
    }

    /// One address or a list, at most one per family.
    func proxyAddresses(_ tree: Tree, _ path: KeyPath) -> [AddressFamily: IPAddress]? {
        let list: [IPAddress]
        if case .scalar(_, false, _) = tree.value {
            guard let address = read.address(tree, path) else { return nil }
            list = [address]
        } else {
            guard
                let addresses = read.list(
                    tree, path, what: "an IP address or a list of them (one per family)", item: { read.address($0, $1) }
                )
            else {
                return nil
            }
            guard !addresses.isEmpty else {
                diagnostics.add(.invalidValue, at: tree.location, path, "needs the proxy's address (one per family)")
                return nil
            }
            list = addresses
        }
        var out: [AddressFamily: IPAddress] = [:]
        for address in list {
            if let first = out[address.family] {
                diagnostics.add(
                    .invalidValue, at: tree.location, path,
                    "\(first) and \(address) are both \(address.family.label): give the proxy at most one address per family"
                )
                return nil
            }
            out[address.family] = address
        }
        return out
    }

    /// A host name, `[UNAVAILABLE]` or `[TEMPUNAVAIL]`.
    func xclientName(_ tree: Tree, _ path: KeyPath) -> String? {
        guard let text = read.nonEmptyString(tree, path, what: "a host name, [UNAVAILABLE] or [TEMPUNAVAIL]") else {
            return nil
        }
        let name = text.trimmingCharacters(in: .whitespaces)
        if XCLIENTNameKeyword.all.contains(name.uppercased()) { return name.uppercased() }
        guard DNSName.isValidHostname(name) else {
            diagnostics.add(
                .invalidValue, at: tree.location, path,
                "\"\(Tree.clip(text))\" is not a host name, [UNAVAILABLE] or [TEMPUNAVAIL] (write the special values in brackets, quoted)"
            )
            return nil
        }
        return name
    }

    /// Reads the receiver's identity keys from `map`; nil (with diagnostics) when one is wrong.
    func receiverIdentity(_ map: MapReader, _ path: KeyPath) -> ReceiverIdentity? {
        let proxy: ReceiverProxyProtocol?? = map.optional("proxy_protocol").map {
            read.choice($0, path.key("proxy_protocol"), "proxy protocol", ReceiverProxyProtocol.self)
        }
        let hosts: [IPAddress]?? = map.optional("xclient_hosts").map { tree in
            if case .scalar(_, false, _) = tree.value {
                return read.address(tree, path.key("xclient_hosts")).map { [$0] }
            }
            return read.list(
                tree, path.key("xclient_hosts"), what: "a list of IP addresses (the clients allowed to send XCLIENT)"
            ) {
                read.address($0, $1)
            }
        }
        if case .some(.none) = proxy { return nil }
        if case .some(.none) = hosts { return nil }
        return ReceiverIdentity(proxyProtocol: proxy ?? nil, xclientHosts: (hosts ?? nil) ?? [])
    }

    /// A proxy address that is also one of the receiver's: the two namespaces would hold one address.
    func checkProxyAgainstReceiver(_ top: Tree, sender: SenderSpec, receiver: ReceiverSpec) -> Bool {
        guard sender.connectsFromProxy else { return true }
        for address in sender.proxyAddresses.values where receiver.addresses.contains(address) {
            let tree = top["sender"]?["proxy_address"]
            diagnostics.add(
                .invalidValue, at: tree?.location ?? top.location, KeyPath.root.key("sender").key("proxy_address"),
                "\(address) is also a receiver address: the proxy needs an address of its own")
            return false
        }
        return true
    }
}

extension AddressFamily {
    /// "IPv4" or "IPv6", for messages.
    fileprivate var label: String { self == .ipv4 ? "IPv4" : "IPv6" }
}
