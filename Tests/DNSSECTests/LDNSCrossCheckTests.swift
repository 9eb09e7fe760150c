import Crypto
import DNSCore
import Foundation
import Testing

@testable import DNSSEC

/// The signer checked by another implementation: ldns (ldnsutils, OpenSSL underneath) reads the
/// keys and zones the signer writes. Skips where ldnsutils is not installed (CI installs it).
@Suite(
    .enabled(
        if: LDNS.available, "needs ldnsutils (apt-get install ldnsutils): ldns-keygen, ldns-key2ds, ldns-verify-zone"))
struct LDNSCrossCheckTests {
    /// A key ldns made, read by `ZoneKey`: the DNSKEY, its key tag and its DS come out as ldns
    /// wrote them (RFC 4034 2.1, Appendix B, 5.1.4; RFC 6605 4).
    @Test func aKeyLDNSMadeGivesLDNSsDNSKEYTagAndDS() throws {
        try LDNS.inTemporaryDirectory { directory in
            let base = try LDNS.run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", "example.test."], in: directory)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let privateText = try String(contentsOfFile: directory + "/" + base + ".private", encoding: .utf8)
            let line = try #require(privateText.split(separator: "\n").first { $0.hasPrefix("PrivateKey:") })
            let raw = try #require(
                Data(base64Encoded: String(line.dropFirst("PrivateKey:".count)).trimmingCharacters(in: .whitespaces)))
            let key = ZoneKey(zone: "example.test", privateKey: try P256.Signing.PrivateKey(rawRepresentation: raw))
            let keyLine = try String(contentsOfFile: directory + "/" + base + ".key", encoding: .utf8)
            #expect(keyLine.contains(key.dnskeyText), "ldns: \(keyLine)\nours: \(key.dnskeyText)")
            #expect(
                base.hasSuffix("+013+" + String(format: "%05d", key.keyTag)),
                "ldns named the key \(base), our tag is \(key.keyTag)")
            let ds = try String(contentsOfFile: directory + "/" + base + ".ds", encoding: .utf8)
            #expect(ds.contains("DS\t" + key.dsText), "ldns: \(ds)\nours: \(key.dsText)")
        }
    }

    /// Every zone of a world in every state, verified by `ldns-verify-zone` (signatures with the
    /// zone's own DNSKEY, validity windows, NSEC chain): the states that break signatures are
    /// the ones ldns refuses, and for the reason the state names.
    @Test func ldnsVerifiesTheSignedZonesAndRefusesTheBrokenOnes() throws {
        let states: [(String, ZoneState)] = [
            ("secure.test", .secure), ("insecure.test", .insecure), ("bogus.test", .bogusSignature),
            ("expired.test", .expired),
            ("future.test", .notYetValid), ("nosig.test", .missingSignatures), ("badds.test", .wrongDS),
        ]
        var lines = [
            "sender.test. TXT \"v=spf1 -all\"", "2001:db8:5::25 PTR mail.sender.test.", "a.b.c.deep.test. A 192.0.2.9",
            "*.wild.test. MX 10 mx.wild.test.",
        ]
        for (zone, _) in states {
            lines += [
                "\(zone). MX 10 mx.\(zone).", "mx.\(zone). A 192.0.2.10", "mx.\(zone). AAAA 2001:db8::10",
                "_spf.\(zone). TXT \"v=spf1\" \" -all\"",
            ]
        }
        let spec = WorldSpec(
            records: try lines.map { try ZoneLine.parse($0) }, dnssec: .signed,
            zones: states.map { ZoneDeclaration(name: $0.0, state: $0.1) })
        let signed = try WorldSigner.sign(spec)
        try LDNS.inTemporaryDirectory { directory in
            for zone in signed.zones {
                let path = directory + "/" + (zone.name == "." ? "root" : zone.name) + ".zone"
                try zone.zoneFile.write(toFile: path, atomically: true, encoding: .utf8)
                let (status, output) = try LDNS.status(["ldns-verify-zone", path], in: directory)
                switch zone.state {
                case .secure, .insecure, .wrongDS:
                    #expect(status == 0 && output.contains("Zone is verified and complete"), "\(zone.name): \(output)")
                case .bogusSignature:
                    #expect(status != 0 && output.lowercased().contains("bogus"), "\(zone.name): \(output)")
                case .expired:
                    #expect(status != 0 && output.lowercased().contains("expired"), "\(zone.name): \(output)")
                case .notYetValid:
                    #expect(status != 0 && output.lowercased().contains("not incepted"), "\(zone.name): \(output)")
                case .missingSignatures:
                    #expect(status != 0 && output.lowercased().contains("no signatures"), "\(zone.name): \(output)")
                }
            }
        }
    }

    /// Each parent's DS, recomputed by `ldns-key2ds` from the child's DNSKEY: equal for every
    /// signed delegation, different for `wrong-ds`, absent for `insecure`.
    @Test func parentsHoldTheDSLDNSComputesButWhereTheStateSaysOtherwise() throws {
        let spec = WorldSpec(
            records: try [
                "a.good.test. A 192.0.2.1", "a.stale.test. A 192.0.2.2", "a.unsigned.test. A 192.0.2.3",
                "x.arpa. TXT \"x\"",
            ].map { try ZoneLine.parse($0) },
            dnssec: .signed,
            zones: [
                ZoneDeclaration(name: "good.test"), ZoneDeclaration(name: "stale.test", state: .wrongDS),
                ZoneDeclaration(name: "unsigned.test", state: .insecure),
            ])
        let signed = try WorldSigner.sign(spec)
        try LDNS.inTemporaryDirectory { directory in
            for child in signed.zones where child.parent != nil {
                let parent = try #require(signed.zones.first { $0.name == child.parent })
                let published = parent.records.filter { $0.owner == child.name && $0.type == DNSSECType.ds }.map(\.text)
                let dnskey = try #require(child.records.first { $0.type == DNSSECType.dnskey })
                let keyFile = directory + "/\(child.name).key"
                try (dnskey.line + "\n").write(toFile: keyFile, atomically: true, encoding: .utf8)
                let computed =
                    try LDNS.run(["ldns-key2ds", "-n", "-2", keyFile], in: directory)
                    .split(separator: "\t").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
                switch child.state {
                case .insecure: #expect(published.isEmpty, "\(child.name)")
                case .wrongDS:
                    #expect(
                        published.count == 1 && published.first != computed,
                        "\(child.name): \(published) vs \(computed)")
                default: #expect(published == [computed], "\(child.name): \(published) vs \(computed)")
                }
            }
            // The trust anchor is the root key's DS.
            let root = try #require(
                signed.zones.first { $0.name == "." }?.records.first { $0.type == DNSSECType.dnskey })
            try (root.line + "\n").write(toFile: directory + "/root.key", atomically: true, encoding: .utf8)
            let anchor = try LDNS.run(["ldns-key2ds", "-n", "-2", directory + "/root.key"], in: directory)
            let digest = try #require(anchor.split(separator: "\t").last).trimmingCharacters(
                in: .whitespacesAndNewlines)
            #expect(signed.trustAnchor?.hasSuffix(digest) == true, "\(signed.trustAnchor ?? "none") vs \(anchor)")
        }
    }
}

enum LDNS {
    static var available: Bool {
        ["ldns-keygen", "ldns-key2ds", "ldns-verify-zone"].allSatisfy {
            FileManager.default.isExecutableFile(atPath: "/usr/bin/" + $0)
        }
    }

    static func inTemporaryDirectory(_ body: (String) throws -> Void) throws {
        let directory = NSTemporaryDirectory() + "mxh-ldns-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try body(directory)
    }

    static func status(_ arguments: [String], in directory: String) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/" + arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func run(_ arguments: [String], in directory: String) throws -> String {
        let (status, output) = try status(arguments, in: directory)
        guard status == 0 else { throw LDNSFailure(command: arguments.joined(separator: " "), output: output) }
        return output
    }

    struct LDNSFailure: Error, CustomStringConvertible {
        var command: String
        var output: String
        var description: String { "\(command) failed: \(output)" }
    }
}

struct LDNSInCITests {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["MXHARNESS_CI"] == "1"))
    func ldnsIsInstalledInCI() {
        #expect(LDNS.available, "CI must check the signer against ldns: add ldnsutils to PACKAGES in scripts/lib.sh")
    }
}
