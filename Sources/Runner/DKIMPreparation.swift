import DKIM
import DNSCore
import Scenario

/// A `sender.dkim` signing key that could not be generated.
struct DKIMPreparationError: Error, CustomStringConvertible {
    var description: String
}

extension ScenarioCase {
    /// What `sender.dkim` needs before a case's world starts: the signing key (generated unless the
    /// scenario gives one) and its key record in the world, unless the scenario writes its own TXT
    /// record at that name (so a broken record is the scenario's to write).
    func preparingDKIM() throws(DKIMPreparationError) -> ScenarioCase {
        guard var dkim = sender.dkim else { return self }
        var prepared = self
        let key: DKIMSigningKey
        if let given = dkim.key {
            key = given
        } else {
            do { key = try DKIMSigningKey.generate(dkim.algorithm, bits: dkim.bits) } catch {
                throw DKIMPreparationError(description: "sender.dkim: \(error)")
            }
        }
        dkim.key = key
        prepared.sender.dkim = dkim
        let name = DNSName.normalize(sender.dkimKeyName(dkim))
        let written = dns.records.contains { $0.type == .txt && DNSName.normalize($0.owner) == name }
        if !written, let text = sender.dkimRecordText(dkim, key: key) {
            prepared.dns.records.append(ResourceRecord(owner: name, data: .txt(Self.characterStrings(text))))
        }
        return prepared
    }

    /// A TXT record's text as 255-byte character-strings (RFC 1035 3.3.14; RFC 6376 3.6.2.2 joins them).
    static func characterStrings(_ text: String) -> [[UInt8]] {
        let bytes = Array(text.utf8)
        return stride(from: 0, to: max(bytes.count, 1), by: 255).map { Array(bytes[$0..<min($0 + 255, bytes.count)]) }
    }
}
