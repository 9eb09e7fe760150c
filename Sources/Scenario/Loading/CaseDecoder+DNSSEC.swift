import DNSCore

/// `dns.zones`: where a signed world is cut and the state of each zone (format 1.2).
extension CaseDecoder {
    /// One entry of `dns.zones`, with where it was written.
    struct ZoneEntry {
        var declaration: ZoneDeclaration
        var location: SourceLocation
        var path: KeyPath
    }

    func zone(_ item: Tree, _ path: KeyPath) -> ZoneEntry? {
        guard let map = MapReader(item, path, diagnostics, what: "a zone ({zone: NAME, state: STATE})") else {
            return nil
        }
        let nameTree = map.required("zone", "the zone's apex (example.test, or an ip6.arpa/in-addr.arpa name)")
        let name = nameTree.flatMap { tree -> String? in
            guard let text = read.nonEmptyString(tree, path.key("zone"), what: "a domain name") else { return nil }
            guard text == "." || DNSName.isValidHostname(text) else {
                diagnostics.add(
                    .invalidValue, at: tree.location, path.key("zone"),
                    "\"\(Tree.clip(text))\" is not a valid domain name")
                return nil
            }
            return DNSName.normalize(text)
        }
        let state =
            map.optional("state").map { read.choice($0, path.key("state"), "zone state", ZoneState.self) } ?? .secure
        map.finish()
        guard let name, let state else { return nil }
        return ZoneEntry(
            declaration: ZoneDeclaration(name: name, state: state), location: nameTree?.location ?? item.location,
            path: path)
    }

    /// Each zone once, and each holding a name of the world: a record's owner at or below it, or
    /// a fault's name. A zone with nothing of the world in it is a typing error that would
    /// otherwise pass silently (its state would change nothing).
    func checkZones(_ zones: [ZoneEntry], in world: WorldSpec, _ path: KeyPath) -> Bool {
        var ok = true
        var seen: [String: SourceLocation] = [:]
        let names = world.effectiveRecords.map(\.owner) + world.faults.map(\.name)
        for entry in zones {
            let zone = entry.declaration.name
            if let first = seen[zone] {
                diagnostics.add(
                    .invalidValue, at: entry.location, entry.path.key("zone"),
                    "zone \(DNSName.absolute(zone)) is listed twice (first at line \(first.line)): "
                        + "give each zone once, with one state"
                )
                ok = false
                continue
            }
            seen[zone] = entry.location
            guard names.contains(where: { DNSName.isSubdomain($0, of: zone) }) else {
                diagnostics.add(
                    .invalidValue, at: entry.location, entry.path.key("zone"),
                    "zone \(DNSName.absolute(zone)) is outside the world: no record in dns.records is at or below it; "
                        + "list a zone that holds some of the world's names"
                )
                ok = false
                continue
            }
        }
        return ok
    }
}
