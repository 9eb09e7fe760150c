import Delivery
import Foundation

/// Keeps a case's evidence: transcripts, the unbound configuration and query log, the MX's
/// decision record, each under `ARTIFACTS/CASE-NAME/`.
public enum ArtifactWriter {
    /// Folder-safe form of a case name (`rdns/ipv6-no-ptr#2` → `rdns_ipv6-no-ptr_2`).
    public static func slug(_ name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_" })
    }

    /// Writes the artifacts, with `senderFiles` (paths in the case's folder, and their names among
    /// the artifacts: a real sending MTA's configuration and log); returns the folder, or nil when
    /// it could not be written (the run goes on).
    public static func write(
        _ result: CaseResult, from workDirectory: String, into root: String, senderFiles: [String: String] = [:]
    ) -> String? {
        let folder = (root as NSString).appendingPathComponent(slug(result.name))
        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let worldFiles = [
                "unbound.conf", "unbound.log", "libunbound.conf", "libunbound-validating.conf",
                "unbound-validating.conf", "unbound-validating.log",
            ]
            for name in worldFiles + senderFiles.keys.sorted() {
                let source = (workDirectory as NSString).appendingPathComponent(name)
                let destination = (folder as NSString).appendingPathComponent(senderFiles[name] ?? name)
                try? fm.removeItem(atPath: destination)
                if fm.fileExists(atPath: source) { try fm.copyItem(atPath: source, toPath: destination) }
            }
            copyReceiverFiles(
                from: (workDirectory as NSString).appendingPathComponent(receiverFolder), into: folder + "/receiver")
            // A signed world's zone files, as unbound served them.
            copyReceiverFiles(
                from: (workDirectory as NSString).appendingPathComponent("zones"), into: folder + "/zones")
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            if let delivery = result.delivery {
                try delivery.renderTranscript().write(
                    toFile: folder + "/transcript.txt", atomically: true, encoding: .utf8)
                try encoder.encode(delivery).write(to: URL(fileURLWithPath: folder + "/delivery.json"))
            }
            let records = result.evidence?.records ?? []
            try encoder.encode(records.map(AnyEvidenceRecord.init)).write(
                to: URL(fileURLWithPath: folder + "/mx-sessions.json"))
            let mxLog = (result.evidence?.decisions ?? []).joined(separator: "\n\n")
            try (mxLog + "\n" + result.receiverLog).write(toFile: folder + "/mx.log", atomically: true, encoding: .utf8)
            return folder
        } catch {
            return nil
        }
    }

    /// The folder of a case's work directory where a real receiver keeps its configuration and
    /// logs (Exim, OpenSMTPD, a user's own MX); copied into the artifacts without its spool.
    public static let receiverFolder = "receiver"

    static func copyReceiverFiles(from source: String, into destination: String) {
        let fm = FileManager.default
        // A folder kept from an earlier run (another receiver's files) is replaced, not merged.
        try? fm.removeItem(atPath: destination)
        guard let names = fm.subpaths(atPath: source) else { return }
        for name in names where !name.hasPrefix("spool") && !name.contains("/spool") {
            let from = (source as NSString).appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: from, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            let to = (destination as NSString).appendingPathComponent(name)
            try? fm.createDirectory(
                atPath: (to as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try? fm.removeItem(atPath: to)
            try? fm.copyItem(atPath: from, toPath: to)
        }
    }
}

/// A record of any receiver's evidence, encoded as itself.
public struct AnyEvidenceRecord: Encodable, Sendable {
    public let record: any EvidenceRecord

    public init(_ record: any EvidenceRecord) {
        self.record = record
    }

    public func encode(to encoder: any Encoder) throws {
        try record.encode(to: encoder)
    }
}
