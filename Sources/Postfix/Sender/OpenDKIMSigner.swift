#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import DNSCore
import Delivery
import Foundation
import Logging
import Sandbox

/// `sender.dkim` on a real Postfix sender: OpenDKIM in signing mode as the sender's
/// `non_smtpd_milters` (the message is injected with sendmail(1), so cleanup(8) hands it to the
/// milter before it is queued), signing with the scenario's key, selector, domain, algorithm,
/// canonicalization and header list, as a site's OpenDKIM signs. Pure values; `OpenDKIMSigner`
/// runs it.
///
/// The breakages of `sender.dkim.break` are made the way they happen to real mail:
/// - `body-changed`, `header-changed`: the sending Postfix's own `smtp_body_checks` and
///   `smtp_header_checks` (header_checks(5): PREPEND and REPLACE are applied by smtp(8) as it
///   sends, after the message was signed), as a gateway that adds a line or rewrites a field;
/// - `expired`: OpenDKIM's clock a day behind (libfaketime's `FAKETIME=-1d`), with `SignatureTTL`
///   the hour the built-in sender uses (or `expire_after`): `t=` yesterday, `x=` an hour later.
public struct OpenDKIMSigning: Sendable, Hashable {
    /// Where the signer listens in the case's namespace: apart from the receiver's verifying
    /// OpenDKIM (8891), OpenDMARC (8893) and decision milter (8895) in the same namespace.
    public static let port: UInt16 = 8897

    public enum Breakage: Sendable, Hashable {
        /// A line added before the body's last line.
        case bodyChanged(lastBodyLine: String)
        /// `header` (the last header field the signature covers, as it is in the message) changed.
        case headerChanged(header: String)
        /// Signed a day ago.
        case expired
    }

    /// `d=`, `s=`.
    public var domain: String
    public var selector: String
    /// `rsa-sha256` or `ed25519-sha256`.
    public var algorithm: String
    /// `relaxed/relaxed`, `simple/simple`, ...
    public var canonicalization: String
    /// `h=`, lowercased, in order.
    public var headers: [String]
    /// `x=` this many seconds after `t=`.
    public var expireAfter: Int?
    /// The private key, PEM (PKCS#8).
    public var keyPEM: String
    public var breakage: Breakage?
    /// The loopback address the signer listens on: the family the sending Postfix has
    /// (`inet_protocols`; an IPv6-only sender's cleanup(8) cannot reach 127.0.0.1: "Address family
    /// for hostname not supported").
    public var loopback: AddressFamily = .ipv4

    /// OpenDKIM's `Socket` (libmilter: `inet6:PORT@ADDRESS` for IPv6).
    var socket: String { loopback == .ipv6 ? "inet6:\(Self.port)@::1" : "inet:\(Self.port)@127.0.0.1" }
    /// Postfix's milter endpoint (host_port(3): an IPv6 host in brackets).
    var milterEndpoint: String { loopback == .ipv6 ? "inet:[::1]:\(Self.port)" : "inet:127.0.0.1:\(Self.port)" }
    var listenAddress: IPAddress { IPAddress(loopback == .ipv6 ? "::1" : "127.0.0.1")! }

    public init(
        domain: String, selector: String, algorithm: String, canonicalization: String, headers: [String],
        expireAfter: Int?,
        keyPEM: String, breakage: Breakage?
    ) {
        self.domain = domain
        self.selector = selector
        self.algorithm = algorithm
        self.canonicalization = canonicalization
        self.headers = headers
        self.expireAfter = expireAfter
        self.keyPEM = keyPEM
        self.breakage = breakage
    }

    /// The key's name in the key table.
    var keyName: String { "\(selector)._domainkey.\(domain)" }

    /// `x=`: the built-in sender's hour for an expired signature, else `expire_after`.
    var signatureTTL: Int? {
        if case .expired = breakage { return expireAfter ?? 3_600 }
        return expireAfter
    }

    /// opendkim.conf(5), with the folder the key and tables are in (`directory`). Every message is
    /// signed with the one key whatever its From domain (the signing table's `*`), as the built-in
    /// sender does; the message comes from sendmail(1), which the milter sees as localhost, an
    /// internal host (its default `InternalHosts`), so it signs rather than verifies.
    public func configuration(directory: String) -> String {
        var lines = [
            "# Written by mxharness: OpenDKIM signs what the sending Postfix sends.",
            "Mode                    s",
            "Socket                  \(socket)",
            "Background              no",
            "Syslog                  no",
            "KeyTable                file:\(directory)/keytable",
            "SigningTable            refile:\(directory)/signingtable",
            "Canonicalization        \(canonicalization)",
            "SignatureAlgorithm      \(algorithm)",
            "SignHeaders             \(headers.joined(separator: ","))",
            "SoftwareHeader          no",
            // The case folder is under /tmp, which others can write: without this OpenDKIM exits
            // at once ("/tmp can be read or written by other users").
            "RequireSafeKeys         no",
        ]
        if let ttl = signatureTTL { lines.append("SignatureTTL            \(ttl)") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The key table: one key, by name.
    public func keyTable(directory: String) -> String { "\(keyName) \(domain):\(selector):\(directory)/key.pem\n" }

    /// The signing table: every sender address signs with it.
    public var signingTable: String { "* \(keyName)\n" }

    /// The sending Postfix's main.cf parameters: the signer for mail from sendmail(1), a message
    /// left queued when the signer cannot be reached, and the checks that break the signature.
    public func mainCF(directory: String) -> [(String, String)] {
        var parameters: [(String, String)] = [
            ("non_smtpd_milters", milterEndpoint),
            ("milter_default_action", "tempfail"),
            ("milter_protocol", "6"),
        ]
        switch breakage {
        case .bodyChanged: parameters.append(("smtp_body_checks", "regexp:\(directory)/smtp_body_checks"))
        case .headerChanged: parameters.append(("smtp_header_checks", "regexp:\(directory)/smtp_header_checks"))
        case .expired, .none: break
        }
        return parameters
    }

    /// The check tables the breakage needs, by file name in `directory`.
    public var checkTables: [String: String] {
        switch breakage {
        case .bodyChanged(let line):
            return [
                "smtp_body_checks":
                    "# Written by mxharness: a line added after signing.\n/^\(Self.regexpLiteral(line))$/ PREPEND This line was added after signing.\n"
            ]
        case .headerChanged(let header):
            let name = header.split(separator: ":", maxSplits: 1).first.map(String.init) ?? header
            let pattern = "^(" + Self.regexpLiteral(name) + "):(.*)$"
            return [
                "smtp_header_checks":
                    "# Written by mxharness: a signed header field changed after signing.\n/\(pattern)/ REPLACE ${1}:${2} [changed in transit]\n"
            ]
        case .expired, .none:
            return [:]
        }
    }

    /// `text` as a POSIX extended regular expression matching it literally.
    static func regexpLiteral(_ text: String) -> String {
        var out = ""
        for character in text {
            if "\\^$.|?*+()[]{}/".contains(character) { out.append("\\") }
            out.append(character)
        }
        return out
    }
}

/// Where OpenDKIM and libfaketime are on this machine.
public struct OpenDKIMSignerInstallation: Sendable, Hashable {
    public var opendkim: String
    /// libfaketime's preload library, for `expired`; nil when it is not installed.
    public var faketime: String?

    public init(opendkim: String = "/usr/sbin/opendkim", faketime: String? = Faketime.library()) {
        self.opendkim = opendkim
        self.faketime = faketime
    }

    /// `/usr/lib/MULTIARCH/faketime/libfaketime.so.1` (Debian's libfaketime).
    /// Why `signing` cannot be done here, or nil.
    public func missingReason(for signing: OpenDKIMSigning) -> String? {
        guard FileManager.default.isExecutableFile(atPath: opendkim) else {
            return
                "sender.dkim on a real Postfix sender needs OpenDKIM (\(opendkim) is not installed; apt-get install opendkim, as scripts/lib.sh does)"
        }
        if case .expired = signing.breakage, faketime == nil {
            return
                "sender.dkim.break: expired on a real Postfix sender needs libfaketime (OpenDKIM signs a day ago with its clock set back; apt-get install libfaketime, as scripts/lib.sh does)"
        }
        return nil
    }
}

/// The signing OpenDKIM of one case, in the case's namespace, its files in `directory`.
public final class OpenDKIMSigner: @unchecked Sendable {
    private let process: ManagedProcess

    private init(process: ManagedProcess) {
        self.process = process
    }

    /// Writes the key and the tables and starts OpenDKIM; returns once it listens.
    public static func start(
        _ signing: OpenDKIMSigning, installation: OpenDKIMSignerInstallation, namespace: String, directory: String,
        ipPath: String,
        logger: Logger
    ) async throws -> OpenDKIMSigner {
        if let reason = installation.missingReason(for: signing) { throw SenderMTAError(reason) }
        let fm = FileManager.default
        do {
            if !fm.fileExists(atPath: directory) {
                try fm.createDirectory(
                    atPath: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
            }
            guard
                fm.createFile(
                    atPath: directory + "/key.pem", contents: Data(signing.keyPEM.utf8),
                    attributes: [.posixPermissions: 0o600])
            else {
                throw SenderMTAError("cannot write the signing key in \(directory)")
            }
            try signing.configuration(directory: directory).write(
                toFile: directory + "/opendkim.conf", atomically: true, encoding: .utf8)
            try signing.keyTable(directory: directory).write(
                toFile: directory + "/keytable", atomically: true, encoding: .utf8)
            try signing.signingTable.write(toFile: directory + "/signingtable", atomically: true, encoding: .utf8)
        } catch let error as SenderMTAError {
            throw error
        } catch {
            throw SenderMTAError("cannot write OpenDKIM's signing configuration in \(directory): \(error)")
        }
        var environment = ProcessInfo.processInfo.environment
        if case .expired = signing.breakage, let faketime = installation.faketime {
            environment["LD_PRELOAD"] = faketime
            environment["FAKETIME"] = "-1d"
        }
        let output = directory + "/opendkim.out"
        let process = try ManagedProcess.launch(
            ipPath, ["netns", "exec", namespace, installation.opendkim, "-f", "-x", directory + "/opendkim.conf"],
            in: nil, outputPath: output,
            environment: environment)
        let said = { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" }
        switch await process.waitUntilListening(
            on: [signing.listenAddress], port: OpenDKIMSigning.port, timeout: .seconds(10))
        {
        case .listening: break
        case .exited:
            throw SenderMTAError(
                "OpenDKIM (signing) exited during start-up (configuration in \(directory)):\n\(said())")
        case .timedOut:
            await process.terminate()
            throw SenderMTAError(
                "OpenDKIM (signing) did not listen on \(signing.listenAddress):\(OpenDKIMSigning.port) within 10 s:\n\(said())"
            )
        }
        logger.debug("opendkim signer up", metadata: ["netns": "\(namespace)", "pid": "\(process.pid)"])
        return OpenDKIMSigner(process: process)
    }

    /// SIGTERM, SIGKILL soon after (libmilter lets a daemon wind down for seconds).
    public func stop() async {
        await process.terminate(grace: .milliseconds(100))
    }
}
