import CertificateAuthority
import DNSCore
import Delivery
import MXHarnessTestKit
import SMTPProtocol
import Sender
import Testing

/// Postfix's DANE rules per MX address (smtp_tls_policy.c `dane_init`, tls_dane.c
/// `tls_dane_resolve` and `dane_lookup`) over a table whose answers carry a security state.
struct DANEPolicyTests {
    /// Every answer secure but those under `insecure` (no DS above them) and `bogus`.
    struct SignedTable: DNSLookup {
        var table: InMemoryDNS
        var insecure: [String] = []
        var bogus: [String] = []

        func query(_ name: String, _ type: RecordType) async throws(DNSLookupError) -> [RecordData] {
            if bogus.contains(where: { DNSName.isSubdomain(name, of: $0) }) {
                throw .bogus(name: name, type: type, reason: "signature crypto failed")
            }
            return try await table.query(name, type)
        }

        func securedQuery(_ name: String, _ type: RecordType) async -> SecuredAnswer {
            do {
                let records = try await query(name, type)
                let secure = !insecure.contains { DNSName.isSubdomain(name, of: $0) }
                return SecuredAnswer(.success(records), security: secure ? .secure : .insecure)
            } catch {
                if case .bogus = error { return SecuredAnswer(.failure(error), security: .bogus) }
                return SecuredAnswer(.failure(error), security: .secure)
            }
        }
    }

    static let digest = Array(repeating: UInt8(7), count: 32)
    static let destination = Destination(host: "mx.example.test", preference: 10, address: IPAddress("192.0.2.10")!)

    func policy(_ tlsa: [RecordData], insecure: [String] = [], bogus: [String] = [], mxSecure: Bool? = true) async
        -> DANEPolicy
    {
        var entries: [(String, RecordData)] = [("mx.example.test", .a(IPAddress("192.0.2.10")!))]
        entries += tlsa.map { ("_25._tcp.mx.example.test", $0) }
        let lookup = SignedTable(table: InMemoryDNS(entries), insecure: insecure, bogus: bogus)
        return await DANEResolver(lookup: lookup).policy(for: Self.destination, port: 25, mxSecure: mxSecure)
    }

    @Test func usableRecordsMakeItDANE() async {
        let record = RecordData.tlsa(usage: 3, selector: 1, matching: 1, data: .bytes(Self.digest))
        let expected = [TLSAAssociation(usage: 3, selector: 1, matching: 1, data: Self.digest)]
        #expect(await policy([record]) == .dane(expected, halfDANE: false))
        // An insecure MX RRset with secure host addresses: "half-dane" (insecure_mx_policy = dane).
        #expect(await policy([record], mxSecure: false) == .dane(expected, halfDANE: true))
    }

    @Test func withoutUsableRecordsDANEFallsBack() async {
        #expect(await policy([]) == .downgraded(.may, reason: "no TLSA records found"))
        let pkix = RecordData.tlsa(usage: 1, selector: 1, matching: 1, data: .bytes(Self.digest))
        #expect(await policy([pkix]) == .downgraded(.encrypt, reason: "TLSA records unusable"))
        // Host addresses not validated: no TLSA lookup at all.
        let record = RecordData.tlsa(usage: 3, selector: 1, matching: 1, data: .bytes(Self.digest))
        #expect(
            await policy([record], insecure: ["example.test"]) == .downgraded(.may, reason: "no TLSA records found"))
    }

    @Test func aBogusTLSAAnswerIsALookupError() async {
        let record = RecordData.tlsa(usage: 3, selector: 1, matching: 1, data: .bytes(Self.digest))
        let policy = await policy([record], bogus: ["_25._tcp.mx.example.test"])
        guard case .lookupError(let reason, let warning) = policy else {
            Issue.record("expected a lookup error, got \(policy)")
            return
        }
        #expect(reason == "TLSA lookup error for mx.example.test:25")
        #expect(warning.hasPrefix("DANE TLSA lookup problem: Host or domain name not found."))
    }
}
