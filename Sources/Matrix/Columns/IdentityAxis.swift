import DNSCore
import Scenario

/// `matrix --identities socket,proxy-v2,xclient`: each case run once per identity path, its own
/// policy kept, and every path whose verdict differs from the direct connection's explained in
/// one line.
///
/// A path column runs the case through a load balancer as a site would set one up: the proxy
/// connects from `sender.proxy_address` (or, when the case has none, from an address of its own
/// with a forward-confirmed name, `lb.proxy.test`, as a real load balancer has), and the receiver
/// is told to expect it (`proxy_protocol: haproxy` for PROXY, the proxy in `xclient_hosts` for
/// XCLIENT). XCLIENT sends `NAME=` only when the case gives `sender.xclient_name`.
public enum IdentityAxis {
    /// The name the matrix gives a proxy a case does not name.
    public static let proxyName = "lb.proxy.test"
    static let candidates: [AddressFamily: [IPAddress]] = [
        .ipv4: ["198.51.100.254", "198.51.100.253", "198.51.100.252"].compactMap { IPAddress($0) },
        .ipv6: ["2001:db8:ffff::fe", "2001:db8:ffff::fd", "2001:db8:ffff::fc"].compactMap { IPAddress($0) },
    ]

    /// The columns of `--identities`: `socket` first (the direct connection every other path is
    /// compared with), then the paths given, each once.
    public static func columns(_ names: [String]) throws(MatrixError) -> [PolicyColumn] {
        var paths: [IdentityPath] = [.socket]
        for entry in names {
            let name = entry.trimmingCharacters(in: .whitespaces)
            guard let path = IdentityPath(rawValue: name) else {
                let known = IdentityPath.allCases.map(\.rawValue)
                var message = "--identities: \"\(name)\" is not an identity path (\(known.joined(separator: ", ")))"
                if let near = Suggest.nearest(name, in: known) { message += "; did you mean \(near)?" }
                throw MatrixError(message)
            }
            if !paths.contains(path) { paths.append(path) }
        }
        return paths.map { PolicyColumn(name: $0.rawValue, source: .identity($0)) }
    }

    public static func summary(of path: IdentityPath) -> String {
        switch path {
        case .socket: "the sender connects itself (the reference)"
        case .proxyV1: "through a load balancer sending a PROXY v1 header; the receiver expects it"
        case .proxyV2: "through a load balancer sending a PROXY v2 header; the receiver expects it"
        case .xclient:
            "through a proxy sending XCLIENT ADDR (NAME only where the case gives xclient_name); the receiver trusts it"
        }
    }

    /// The case as the path's column runs it; the case itself when the path is its own.
    public static func applied(_ path: IdentityPath, to scenario: ScenarioCase) -> ScenarioCase {
        guard path != scenario.sender.identity else { return scenario }
        var scenario = scenario
        scenario.sender.identity = path
        if path != .xclient { scenario.sender.xclientName = nil }
        scenario.receiver.proxyProtocol = nil
        scenario.receiver.xclientHosts = []
        guard path.usesProxy else { return scenario }
        if !scenario.sender.addresses.keys.allSatisfy({ scenario.sender.proxyAddresses[$0] != nil }) {
            let taken = Set(scenario.sender.addresses.values).union(scenario.receiver.addresses)
            var proxies: [AddressFamily: IPAddress] = [:]
            for family in scenario.sender.addresses.keys {
                proxies[family] = candidates[family]?.first { !taken.contains($0) }
            }
            scenario.sender.proxyAddresses = proxies
            // The load balancer's own forward-confirmed name.
            var records = scenario.dns.records
            for address in proxies.values {
                if let ptr = try? ZoneLine.parse("\(address) PTR \(proxyName).") { records.append(ptr) }
                if let forward = try? ZoneLine.parse(
                    "\(proxyName). \(address.family == .ipv4 ? "A" : "AAAA") \(address)")
                {
                    records.append(forward)
                }
            }
            scenario.dns.records = records
        }
        switch path {
        case .proxyV1, .proxyV2: scenario.receiver.proxyProtocol = .haproxy
        case .xclient:
            scenario.receiver.xclientHosts = AddressFamily.allCases.compactMap { scenario.sender.proxyAddresses[$0] }
        case .socket: break
        }
        return scenario
    }

    /// Notes, in each identity column, why the cell's verdict differs from the `socket` column's.
    public static func annotate(_ matrix: inout Matrix, cases: [ScenarioCase]) {
        guard let reference = matrix.columns.firstIndex(where: { $0.source == .identity(.socket) }) else { return }
        for (rowIndex, scenario) in cases.enumerated() where matrix.rows.indices.contains(rowIndex) {
            let direct = matrix.rows[rowIndex].cells[reference].outcome
            guard direct.status == .ran else { continue }
            for (index, column) in matrix.columns.enumerated() {
                guard case .identity(let path) = column.source, path != .socket else { continue }
                let via = matrix.rows[rowIndex].cells[index].outcome
                guard via.status == .ran, !sameVerdict(direct, via) else { continue }
                matrix.rows[rowIndex].cells[index].note = explanation(
                    path, applied(path, to: scenario), direct: direct, via: via)
            }
        }
    }

    /// The same outcome, stage and reply code: what a postmaster calls the same verdict.
    static func sameVerdict(_ a: CellOutcome, _ b: CellOutcome) -> Bool {
        a.outcome == b.outcome && a.stage == b.stage && a.reply?.code == b.reply?.code
    }

    /// One line: why the path's verdict is not the direct connection's.
    static func explanation(_ path: IdentityPath, _ scenario: ScenarioCase, direct: CellOutcome, via: CellOutcome)
        -> String
    {
        let looser = via.outcome == .delivered && direct.outcome != .delivered
        switch path {
        case .xclient:
            guard let name = scenario.sender.xclientName else {
                return looser
                    ? "XCLIENT without NAME: the receiver checked nothing (it kept the proxy's own name and looked nothing up for the client)"
                    : "XCLIENT without NAME: the receiver judged the proxy's name, not the client's (no DNS lookup for the client)"
            }
            return "XCLIENT NAME=\(name): the receiver took the proxy's word for the client's name (no DNS lookup)"
        case .proxyV1, .proxyV2:
            return
                "\(path.rawValue): the receiver checked the proxied address with DNS, yet \(via.label) where the direct connection is \(direct.label)"
        case .socket:
            return ""
        }
    }
}
