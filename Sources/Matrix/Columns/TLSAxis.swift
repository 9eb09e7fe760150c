import Scenario
import SMTPProtocol

/// `matrix --tls none,may,encrypt,verify,secure`: each case run once per `sender.tls` level
/// (Postfix's `smtp_tls_security_level`), its receiver kept, and every level whose verdict differs
/// from the case's own level's explained in one line.
public enum TLSAxis {
    /// The columns of `--tls`, in the order given, each level once.
    public static func columns(_ names: [String]) throws(MatrixError) -> [PolicyColumn] {
        var levels: [TLSSecurityLevel] = []
        for entry in names {
            let name = entry.trimmingCharacters(in: .whitespaces)
            guard let level = TLSSecurityLevel(rawValue: name) else {
                let known = TLSSecurityLevel.allCases.map(\.rawValue)
                var message = "--tls: \"\(name)\" is not a TLS security level (\(known.joined(separator: ", ")))"
                if let near = Suggest.nearest(name, in: known) { message += "; did you mean \(near)?" }
                throw MatrixError(message)
            }
            if !levels.contains(level) { levels.append(level) }
        }
        guard !levels.isEmpty else {
            throw MatrixError("--tls needs at least one level (none, may, encrypt, dane, verify, secure)")
        }
        return levels.map { PolicyColumn(name: $0.rawValue, source: .tls($0)) }
    }

    public static func summary(of level: TLSSecurityLevel) -> String {
        switch level {
        case .none: "the sender never starts TLS"
        case .may: "STARTTLS when offered, the certificate not checked, plaintext when not offered"
        case .encrypt: "TLS or no delivery (4.7.4), the certificate not checked"
        case .dane: "DANE: the TLSA records decide; without any, as may"
        case .verify: "TLS with a trusted certificate naming the MX host, else 4.7.5"
        case .secure: "TLS with a trusted certificate naming the recipient domain or below, else 4.7.5"
        }
    }

    /// The case as the level's column runs it.
    public static func applied(_ level: TLSSecurityLevel, to scenario: ScenarioCase) -> ScenarioCase {
        var scenario = scenario
        scenario.sender.tls = level
        return scenario
    }

    /// The reply's words for a cell that did not deliver: what made the sender give up.
    static func detail(_ cell: CellOutcome) -> String {
        guard cell.outcome != .delivered, let text = cell.reply?.text else { return "" }
        return " (\(text))"
    }

    /// Notes, in each level's column, why the cell's verdict differs from the one at the case's
    /// own level (or, when that level is not a column, the first column's).
    public static func annotate(_ matrix: inout Matrix, cases: [ScenarioCase]) {
        for (rowIndex, scenario) in cases.enumerated() where matrix.rows.indices.contains(rowIndex) {
            let reference = matrix.columns.firstIndex { $0.source == .tls(scenario.sender.tls) } ?? 0
            guard case .tls(let referenceLevel) = matrix.columns[reference].source else { continue }
            let base = matrix.rows[rowIndex].cells[reference].outcome
            guard base.status == .ran else { continue }
            for (index, column) in matrix.columns.enumerated() where index != reference {
                guard case .tls = column.source else { continue }
                let cell = matrix.rows[rowIndex].cells[index].outcome
                guard cell.status == .ran, !IdentityAxis.sameVerdict(base, cell) else { continue }
                matrix.rows[rowIndex].cells[index].note =
                    "\(cell.label)\(detail(cell)), where at \(referenceLevel) \(base.label)\(detail(base))"
            }
        }
    }
}
